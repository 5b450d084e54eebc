"""Classifier-based scores: CAS / GAN-train and GAN-test.

- CAS (Ravuri & Vinyals 2019), also GAN-train (Shmelkov et al. 2018): train a classifier on
  generated, labelled samples only and report its accuracy on the REAL test split. Beside it,
  the same classifier trained on as many real training images: the accuracy real data buys.
  A generator whose samples cover every class faithfully gets a CAS close to that baseline.
- GAN-test (Shmelkov et al. 2018): a classifier trained on real data, tested on generated
  samples with the labels they were generated for. It needs a conditional G; for an unconditional
  G there are no generation labels and GAN-test is not defined.

For an unconditional G the generated samples get labels from the bundled digit classifier
(``extractor.classify``); every fingerprint says so, because CAS then also measures that classifier.

The classifier trained here is a small MLP (flattened input -> 256 -> 10, ReLU), trained with Adam
(lr 1e-3, batch 128) for ``epochs`` epochs from a seeded initialisation: a fixed, cheap protocol,
so CAS values compare across generators, not with papers' ResNet CAS.

Example::

    acc = train_and_test(fake, fake_labels, test.float_x(), test.y, num_classes=10, epochs=5, seed=0)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def _mlp(in_features: int, num_classes: int) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, 256), nn.ReLU(), nn.Linear(256, num_classes))


def train_and_test(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    num_classes: int,
    epochs: int = 5,
    seed: int = 0,
    batch_size: int = 128,
) -> float:
    """Accuracy on (test_x, test_y) of the MLP protocol above trained on (train_x, train_y)."""
    if len(train_x) == 0 or len(test_x) == 0:
        raise ValueError("CAS needs non-empty training and test sets")
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():  # seeded init without touching the caller's global RNG
        torch.manual_seed(seed)
        net = _mlp(train_x[0].numel(), num_classes)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = train_x.float().flatten(1), train_y.long()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    with torch.no_grad():
        pred = torch.cat([net(chunk).argmax(1) for chunk in test_x.float().flatten(1).split(1024)])
    return float((pred == test_y.long()).double().mean())


def gan_test(classify: Callable[[torch.Tensor], torch.Tensor], fake: torch.Tensor, fake_labels: torch.Tensor) -> float:
    """GAN-test: accuracy of a real-data classifier (``classify``: images -> labels) on labelled generated samples."""
    return float((classify(fake) == fake_labels.long()).double().mean())


__all__ = ["gan_test", "train_and_test"]
