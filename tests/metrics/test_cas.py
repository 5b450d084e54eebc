"""CAS / GAN-test: a faithful generator scores like real data, a label-swapping one scores near zero."""

from __future__ import annotations

import torch

from gankit.metrics.cas import gan_test, train_and_test


def _blobs(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    centres = torch.tensor([[4.0, 0.0], [0.0, 4.0], [-4.0, -4.0]])
    return centres[y] + torch.randn(n, 2, generator=g), y


def test_faithful_samples_train_an_accurate_classifier_and_swapped_labels_do_not() -> None:
    fake_x, fake_y = _blobs(150, 0)
    test_x, test_y = _blobs(150, 1)
    good = train_and_test(fake_x, fake_y, test_x, test_y, num_classes=3, epochs=8, seed=0)
    swapped = train_and_test(fake_x, (fake_y + 1) % 3, test_x, test_y, num_classes=3, epochs=8, seed=0)
    assert good > 0.95
    assert swapped < 0.05
    assert good == train_and_test(fake_x, fake_y, test_x, test_y, num_classes=3, epochs=8, seed=0)  # seeded


def test_gan_test_is_accuracy_of_the_given_classifier() -> None:
    x = torch.arange(10.0)[:, None]
    labels = torch.tensor([0, 1] * 5)
    assert gan_test(lambda v: (v[:, 0] % 2).long(), x, labels) == 1.0
    assert gan_test(lambda v: torch.zeros(len(v), dtype=torch.long), x, labels) == 0.5
