"""Memorisation check: are generated samples closer to the training set than unseen real data is?

For each generated sample, the Euclidean distance (pixel space by default) to its nearest training
image; for each held-out test image, the same distance. A generator that generalises produces
samples about as far from the training set as new real images are; one that memorises produces
near-copies, far closer. Reported:

- median nearest-train distance of generated samples and of test images, and their ratio;
- the share of near-copies: generated samples closer to their nearest training image than the
  ``copy_quantile`` quantile (default 1 %) of the test images' distances. Real unseen data has that
  share by construction (about ``copy_quantile``), so a share far above it flags copying;
- a PNG grid of the closest pairs (generated sample above its nearest training image).

Example::

    report = memorization(fake, train.float_x(), test.float_x())
    report.near_copy_share, report.test_near_copy_share
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gankit.metrics.knn import DEFAULT_CHUNK, nearest_neighbour


@dataclass
class MemorizationReport:
    """Nearest-training-image distances of generated samples vs of test images (see module docstring)."""

    gen_median: float
    test_median: float
    ratio: float  # gen_median / test_median: well below 1 means samples sit on top of training images
    threshold: float  # the copy_quantile quantile of test distances
    near_copy_share: float
    test_near_copy_share: float
    gen_distances: torch.Tensor
    gen_nearest: torch.Tensor  # index of each generated sample's nearest training image


def memorization(
    fake: torch.Tensor,
    train: torch.Tensor,
    test: torch.Tensor,
    copy_quantile: float = 0.01,
    chunk: int = DEFAULT_CHUNK,
) -> MemorizationReport:
    """Compare nearest-train distances of ``fake`` and of ``test`` (any shapes (N, ...), flattened)."""
    if not 0 < copy_quantile < 1:
        raise ValueError(f"copy_quantile must be in (0, 1), got {copy_quantile}")
    d_gen, idx = nearest_neighbour(fake, train, chunk)
    d_test, _ = nearest_neighbour(test, train, chunk)
    threshold = float(torch.quantile(d_test, copy_quantile))
    gen_median, test_median = float(d_gen.median()), float(d_test.median())
    return MemorizationReport(
        gen_median=gen_median,
        test_median=test_median,
        ratio=gen_median / test_median if test_median > 0 else float("nan"),
        threshold=threshold,
        near_copy_share=float((d_gen < threshold).double().mean()),
        test_near_copy_share=float((d_test < threshold).double().mean()),
        gen_distances=d_gen,
        gen_nearest=idx,
    )


def save_closest_pairs(report: MemorizationReport, fake: torch.Tensor, train: torch.Tensor, path: str | Path,
                       n_pairs: int = 16) -> Path:
    """PNG of the ``n_pairs`` generated images closest to the training set: each above its nearest train image."""
    from gankit.viz import save_image_grid

    order = report.gen_distances.argsort()[:n_pairs]
    top, bottom = fake[order], train[report.gen_nearest[order]]
    return save_image_grid(torch.cat([top, bottom]), path, nrow=len(order))


__all__ = ["MemorizationReport", "memorization", "save_closest_pairs"]
