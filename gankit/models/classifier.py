"""A K-class classifier with the discriminator's architecture, and its supervised baseline.

The semi-supervised GAN's discriminator (:mod:`gankit.models.ssgan`) is a :class:`Classifier`: the
feature body of the dataset's discriminator (see :mod:`gankit.nets.encoder`) and a linear head with one
logit per class. :func:`train_supervised` trains the very same architecture with cross-entropy on the
labelled samples only: the baseline that tells what the unlabelled images and the GAN added.

Example::

    cfg = load_config(preset="mnist5k-ssgan")
    result = train_supervised(cfg, steps=2000)
    result.test_error, result.fingerprint
"""

from __future__ import annotations

from collections.abc import Callable

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gankit.data import Dataset, build_dataset
from gankit.data.base import DataInfo, Split
from gankit.errors import ConfigError
from gankit.nets.encoder import Features, feature_body
from gankit.nets.layers import GaussianNoise, data_dependent_init

INIT_BATCH = 500  # training samples (the first ones) of the data-dependent initialisation of weight-normed nets


class Classifier(nn.Module):
    """x (N, *shape) -> K unnormalised logits (N, K).

    While training, Gaussian noise of std ``noise_std`` is added to the input and dropout of rate
    ``dropout`` to the features: the regularisers the semi-supervised GAN of Salimans et al. (2016,
    MNIST model) uses so that 100 labels do not simply get memorised. The body's own regularisers
    between its features and the head (``body.head_input``: the per-layer noise of ``mlp-image``) stay
    on, and the head is of the kind of D's head (weight-normed for ``mlp-image``).
    """

    def __init__(self, body: Features, num_classes: int, noise_std: float = 0.0, dropout: float = 0.0) -> None:
        super().__init__()
        self.body = body
        self.input_noise = GaussianNoise(noise_std)
        self.drop = nn.Dropout(dropout)
        self.head = body.new_head(num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.input_noise(x))

    def forward(self, x: torch.Tensor, with_features: bool = False):
        """Logits (N, K), or (logits, features) with ``with_features`` (the body's output, before
        dropout: what the semi-supervised GAN's feature matching compares)."""
        f = self.features(x)
        logits = self.head(self.drop(self.body.head_input(f)))
        return (logits, f) if with_features else logits


def build_classifier(net_cfg, info: DataInfo, noise_std: float = 0.0, dropout: float = 0.0,
                     init_x: torch.Tensor | None = None) -> Classifier:
    """A classifier with the dataset's discriminator body and ``info.num_classes`` logits.

    With ``init_x`` (a batch of training samples), its weight-normed layers, if any, get the data-dependent
    initialisation of Salimans & Kingma (2016) on that batch (:func:`gankit.nets.layers.data_dependent_init`)."""
    if info.num_classes < 2:
        raise ConfigError(f"data.name: {info.name!r} has no class labels; a classifier needs a labelled dataset")
    net = Classifier(feature_body(net_cfg, info), info.num_classes, noise_std, dropout)
    if init_x is not None:
        data_dependent_init(net, init_x)
    return net


def labelled(split: Split) -> tuple[torch.Tensor, torch.Tensor]:
    """The samples of ``split`` that keep their label (y >= 0)."""
    if split.y is None:
        raise ConfigError("data.name: the dataset has no labels")
    keep = split.y >= 0
    return split.float_x(keep.nonzero().squeeze(1)), split.y[keep]


@torch.no_grad()
def classification_error(net: nn.Module, split: Split, batch_size: int = 500) -> float:
    """Fraction of ``split`` whose argmax logit is not the label (``net`` in eval mode, restored after)."""
    was_training = net.training
    net.eval()
    try:
        device = next(net.parameters()).device
        pred = torch.cat([net(split.float_x(idx).to(device)).argmax(1).cpu()
                          for idx in torch.arange(len(split)).split(batch_size)])
    finally:
        net.train(was_training)
    return float((pred != split.y).float().mean())


@dataclass
class SupervisedResult:
    net: Classifier
    test_error: float
    seconds: float
    fingerprint: dict


def train_supervised(cfg, steps: int, batch_size: int = 64, noise_std: float = 0.3, dropout: float = 0.0,
                     dataset: Dataset | None = None, split: str = "test",
                     extra_loss: Callable[[nn.Module], torch.Tensor] | None = None) -> SupervisedResult:
    """The supervised baseline: the classifier of ``cfg`` trained with cross-entropy on the labelled
    training samples only (``cfg.data.labels`` of them), the GAN's optimiser (``cfg.train.optimizer`` at ``cfg.train.lr_d``) under
    the schedule ``cfg.train.lr_decay`` over ``steps``,
    seeded by ``cfg.seed``; returns its error on ``split``.

    Same architecture, regularisers, labelled samples and optimiser as the semi-supervised GAN's D, so the
    difference between the two errors is what the unlabelled images (through the GAN) contributed.
    ``extra_loss(net)``, if given, is added to each step's cross-entropy (e.g. the Localized GAN's
    tangent smoothness on unlabelled images); the baseline is ``extra_loss=None``."""
    from gankit.engine.seed import seed_everything
    from gankit.engine.schedule import lr_factor, make_optimizer, set_lr

    seed_everything(cfg.seed, cfg.deterministic)
    dataset = dataset or build_dataset(cfg.data)
    x, y = labelled(dataset.train)
    net = build_classifier(cfg.net, dataset.info, noise_std, dropout, init_x=dataset.train.float_x(slice(0, INIT_BATCH)))
    opt = make_optimizer(cfg.train, list(net.parameters()), cfg.train.lr_d)
    t0 = time.perf_counter()
    for step in range(steps):
        set_lr(opt, cfg.train.lr_d, lr_factor(cfg.train.lr_decay, step, steps))  # the GAN's train.lr_decay
        idx = torch.randint(len(x), (min(batch_size, len(x)),))
        loss = F.cross_entropy(net(x[idx]), y[idx])
        if extra_loss is not None:
            loss = loss + extra_loss(net)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - t0
    fingerprint = {"dataset": dataset.info.name, "labelled": len(x), "split": split,
                   "n_test": len(dataset.split(split)), "steps": steps, "batch_size": batch_size,
                   "seed": cfg.seed, "noise_std": noise_std, "dropout": dropout,
                   "lr_decay": cfg.train.lr_decay}
    return SupervisedResult(net, classification_error(net, dataset.split(split)), seconds, fingerprint)
