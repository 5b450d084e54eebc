"""Stacked MNIST: three mnist5k digits stacked as the three channels of one image (1,000 modes).

The mode-collapse benchmark of Metz et al. 2017 (Unrolled GAN, Section 3.3.2), VEEGAN (Srivastava et
al. 2017, Table 2) and PacGAN (Lin et al. 2018, Table 2): each sample is an image of shape
(3, 28, 28) whose channel c holds a digit image d_c, so the data have 10^3 = 1,000 modes, one per
triple (d1, d2, d3). Its label is ``d1 * 100 + d2 * 10 + d3`` (``num_classes`` 1000).

Here the digits come from the bundled mnist5k (:func:`gankit.data.digits.load_mnist5k`), not the full
MNIST of the papers, so the images differ; the protocol does not:

- train: ``n_train`` triples (``data.n_train``, 50,000 by default) whose three digits are drawn
  independently and uniformly from the 4,000 mnist5k TRAIN images;
- val / test: 5,000 triples each, drawn the same way from the 500 mnist5k val / test images, so no
  held-out digit ever appears in a training triple.

The draw is fixed by a constant seed (``STACKED_SEED``), never the run's seed: every run sees the same
triples. ``dataset.digits[split]`` keeps the mnist5k split the channels come from and
``dataset.indices[split]`` (N, 3) says which of its images fill each channel, so the metric can score
real stacked samples without storing them (:mod:`gankit.metrics.stacked`).

Example::

    ds = load_stacked_mnist(n_train=25_600)
    ds.info.shape, ds.info.num_classes        # (3, 28, 28), 1000
    x, y = ds.train.float_x(0), ds.train.y[0]  # y == 100 * d1 + 10 * d2 + d3
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from gankit.data.base import DataInfo, Dataset, Split
from gankit.data.digits import load_mnist5k

STACKED_SEED = 20170525  # a constant of the dataset (the triples are the same in every run)
N_CHANNELS = 3
N_MODES = 10**N_CHANNELS
DEFAULT_N_EVAL = 5_000
# Channel c's digit is weighted 10^(2 - c): the label of a triple reads as the three-digit number d1 d2 d3.
PLACE_VALUES = torch.tensor([100, 10, 1], dtype=torch.int64)


@dataclass
class StackedDataset(Dataset):
    """A Stacked MNIST dataset: its splits, plus the digit splits and per-split channel indices behind them.

    ``digits[split]`` is the single-digit Split (N_digits, 1, 28, 28) that fills the channels of
    ``splits[split]``; ``indices[split]`` (N, 3) int64 gives, per sample, the digit index of each channel.
    """

    digits: dict[str, Split] = field(default_factory=dict)
    indices: dict[str, torch.Tensor] = field(default_factory=dict)


def triple_labels(digit_labels: torch.Tensor) -> torch.Tensor:
    """Mode labels ``d1 * 100 + d2 * 10 + d3`` of per-channel digit labels (N, 3) -> (N,) int64."""
    return (digit_labels.to(torch.int64) * PLACE_VALUES.to(digit_labels.device)).sum(dim=1)


def draw_triples(n_digits: int, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 3) int64 digit indices, each channel drawn independently and uniformly from ``n_digits`` images."""
    return torch.randint(n_digits, (n, N_CHANNELS), generator=generator)


def stack(digits: Split, indices: torch.Tensor) -> Split:
    """The stacked images (N, 3, H, W) and their mode labels for digit ``indices`` (N, 3) into ``digits``."""
    if digits.y is None:
        raise ValueError("stacking needs labelled digits")
    x = digits.x[indices.reshape(-1)]  # (N * 3, 1, H, W), channel-major within each sample
    x = x.reshape(len(indices), N_CHANNELS, *digits.x.shape[2:])
    return Split(x, triple_labels(digits.y[indices]), x_max=digits.x_max)  # stored as the digits are (uint8)


def make_stacked(mnist: Dataset, n_train: int, n_eval: int = DEFAULT_N_EVAL,
                 seed: int = STACKED_SEED, name: str = "stacked-mnist") -> StackedDataset:
    """Stack the digits of each split of ``mnist`` (1-channel, labelled 0..9) into a :class:`StackedDataset`.

    ``n_train`` triples from the train digits, ``n_eval`` from each of val and test; deterministic in ``seed``.
    """
    if mnist.info.kind != "image" or mnist.info.channels != 1 or mnist.info.num_classes != 10:
        raise ValueError(f"stacking needs 1-channel images of 10 digit classes, got {mnist.info}")
    g = torch.Generator().manual_seed(seed)
    digits, indices, splits = {}, {}, {}
    for split_name, n in (("train", n_train), ("val", n_eval), ("test", n_eval)):
        digits[split_name] = mnist.split(split_name)
        indices[split_name] = draw_triples(len(digits[split_name]), n, g)
        splits[split_name] = stack(digits[split_name], indices[split_name])
    info = DataInfo(name=name, kind="image", shape=(N_CHANNELS, *mnist.info.shape[1:]), num_classes=N_MODES)
    return StackedDataset(info, splits, digits=digits, indices=indices)


def load_stacked_mnist(n_train: int = 50_000, n_eval: int = DEFAULT_N_EVAL) -> StackedDataset:
    """Stacked MNIST built from mnist5k: ``n_train`` train triples, ``n_eval`` val and test triples."""
    from gankit.limits import check_memory

    check_memory(2.0 * (n_train + 2 * n_eval) * 3 * 28 * 28, "data.n_train", f"{n_train:,} stacked 3x28x28 images")
    return make_stacked(load_mnist5k(), n_train, n_eval)
