"""What every dataset reports, so that networks and metrics can be built from it."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from gankit.data.batch import Batch
from gankit.data.resize import center_crop_square, resize_images, resize_keeps_codes
from gankit.errors import ConfigError

HASH_CHUNK = 4096  # rows converted to float32 at a time while hashing a split
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class DataInfo:
    """Shape facts of a dataset. Networks are built from these, never from hard-coded sizes.

    ``shape`` is one sample's shape: ``(C, H, W)`` for images, ``(D,)`` for vectors, ``(1, S, S, S)`` for
    voxel grids (:mod:`gankit.data.voxels`: occupancy +1, empty -1). Images and voxels are float32 in
    [-1, 1]; ``num_classes`` is 0 for unlabelled data.
    """

    name: str
    kind: Literal["image", "vector", "voxel"]
    shape: tuple[int, ...]
    num_classes: int = 0
    extra_fields: tuple[tuple[str, tuple[int, ...]], ...] = ()
    """Batch fields beyond ``x`` and ``y``, as (name, per-sample shape) pairs (e.g. ``("x_a", (1, 28, 28))``
    for the input image of image-to-image data, whose ``x`` is the target: :mod:`gankit.data.paired`)."""

    @property
    def fields(self) -> dict[str, tuple[int, ...]]:
        """Every field of this dataset's batches and its per-sample shape: ``x``, ``y`` (``()``) when
        labelled, then :attr:`extra_fields`. Networks are built from these shapes."""
        out: dict[str, tuple[int, ...]] = {"x": tuple(self.shape)}
        if self.num_classes:
            out["y"] = ()
        return out | {name: tuple(shape) for name, shape in self.extra_fields}

    @property
    def channels(self) -> int:
        return self.shape[0] if self.kind in ("image", "voxel") else 1

    @property
    def image_size(self) -> int:
        """The side of an image (or of a cubic voxel grid)."""
        if self.kind == "vector":
            raise ValueError(f"dataset {self.name!r} holds vectors, not images")
        return self.shape[-1]

    @property
    def dim(self) -> int:
        return int(np.prod(self.shape))


@dataclass
class Split:
    """One split of a dataset: ``x`` holds its N samples as stored, ``y`` is (N,) int64 or None;
    ``extra`` holds the dataset's further fields (see :attr:`DataInfo.extra_fields`), N rows each.

    How ``x`` is stored (what a model sees is always float32, images in [-1, 1]):

    - ``x_max=None``: ``x`` is (N, *shape) float32, as a model sees it (toy vectors, resized images);
    - ``x_max=M``: ``x`` is (N, *shape) uint8 pixel codes 0..M of 8-bit sources (MNIST, CIFAR, image
      folders, mnist5k with M=255; sklearn digits with M=16), 4x less memory than float32. They become
      floats per batch, ``code * (2/M) - 1`` in float32 (:func:`codes_to_unit_range`), bit-identical to
      converting at load (:func:`images_to_unit_range`);
    - ``x`` may also be an on-disk image array (:class:`gankit.data.folder.FolderImages`, an image folder
      larger than ``data.memory_budget_mb``) whose rows are read from the files on demand (:attr:`streamed`).

    So read samples as floats through :meth:`float_x` (or :meth:`batch`), never by using ``x`` as
    floats: ``split.float_x(idx)`` are rows ``idx``, ``split.float_x()`` the whole split (a full float32
    copy for coded or streamed splits; take the rows you need first).

    Example::

        split = Split(torch.tensor([[0, 255]], dtype=torch.uint8), x_max=255)
        split.float_x()                      # tensor([[-1., 1.]])
        split.batch(torch.tensor([0])).x     # the same, as a Batch
    """

    x: Any
    y: torch.Tensor | None = None
    extra: dict[str, torch.Tensor] = field(default_factory=dict)
    x_max: float | None = None

    def __post_init__(self) -> None:
        if self.x_max is not None and self.x.dtype != torch.uint8:
            raise ValueError(f"x_max={self.x_max} marks uint8 pixel codes, but x is {self.x.dtype}")
        if self.x_max is None and self.x.dtype == torch.uint8:
            raise ValueError("uint8 x needs x_max, the code that means white (255 for 8-bit images)")
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError(f"split has {len(self.x)} samples but {len(self.y)} labels")
        for name, value in self.extra.items():
            if name in ("x", "y"):
                raise ValueError(f"extra field {name!r} would shadow the split's own {name}")
            if len(value) != len(self.x):
                raise ValueError(f"split has {len(self.x)} samples but {len(value)} rows of {name!r}")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def streamed(self) -> bool:
        """True when the samples stay on disk and are read per row (never moved to a device)."""
        return not isinstance(self.x, torch.Tensor)

    @property
    def nbytes(self) -> int:
        """Bytes the samples take in memory (0 for a streamed split)."""
        return 0 if self.streamed else self.x.numel() * self.x.element_size()

    def to(self, device: torch.device | str) -> "Split":
        """The same split with every field on ``device`` (a streamed split's ``x`` stays on disk)."""
        x = self.x if self.streamed else self.x.to(device)
        return Split(x, self.y.to(device) if self.y is not None else None,
                     {k: v.to(device) for k, v in self.extra.items()}, self.x_max)

    def float_x(self, index: torch.Tensor | slice | int | None = None) -> torch.Tensor:
        """Samples ``index`` (all when None) as float32, images in [-1, 1]: what a model sees.

        On the index's device (this split's device for an in-memory split; a streamed split reads
        the files and moves the rows there)."""
        if index is None:
            if self.x_max is None and not self.streamed:
                return self.x  # float storage is handed out as is (no copy), as ``x`` always was
            index = slice(None)
        if self.streamed:
            rows = self.x[index.cpu() if isinstance(index, torch.Tensor) else index]
            return rows.to(index.device) if isinstance(index, torch.Tensor) else rows
        rows = self.x[index]
        return rows if self.x_max is None else codes_to_unit_range(rows, self.x_max)

    def batch(self, index: torch.Tensor) -> Batch:
        """Rows ``index`` (on this split's device) as a :class:`Batch` of named fields."""
        return Batch({"x": self.float_x(index), "y": self.y[index] if self.y is not None else None,
                      **{k: v[index] for k, v in self.extra.items()}})

    def content_sha256(self) -> str:
        """SHA-256 of this split's samples as a model sees them (float32, images in [-1, 1], after any
        resizing, C order) and their shape.

        It names the data by content in every metric fingerprint and real-feature cache key, so two
        image folders of the same name, or two ``image_size`` choices of one folder, never share a
        fingerprint, while the same pixels give the same hash however they are stored (uint8 codes,
        float32, streamed from disk). Hashed in chunks of rows (no full float copy), once per split
        object (10,000 CIFAR images: about 0.3 s), and again only if ``x`` is replaced or changed in
        place (tracked by the tensor's version counter).

        Example::

            dataset.split("test").content_sha256()   # '3f5c...' (64 hex digits)
        """
        key = (id(self.x), getattr(self.x, "_version", 0), tuple(self.x.shape))
        cached = self.__dict__.get("_content_sha256")
        if cached is None or cached[0] != key:
            h = hashlib.sha256(f"float32 {tuple(self.x.shape)}\n".encode())
            for start in range(0, len(self), HASH_CHUNK):
                rows = self.float_x(slice(start, start + HASH_CHUNK)).detach().to("cpu", torch.float32)
                h.update(memoryview(rows.contiguous().numpy()).cast("B"))
            cached = (key, h.hexdigest())
            self.__dict__["_content_sha256"] = cached
        return cached[1]


@dataclass
class Dataset:
    """A dataset: its info and its splits (any of train / val / test)."""

    info: DataInfo
    splits: dict[str, Split] = field(default_factory=dict)

    def split(self, name: str) -> Split:
        if name not in self.splits:
            raise ConfigError(
                f"dataset {self.info.name!r} has no {name!r} split; it has: {', '.join(self.splits)}"
            )
        return self.splits[name]

    @property
    def train(self) -> Split:
        return self.split("train")


def images_to_unit_range(x: np.ndarray, max_value: float) -> torch.Tensor:
    """Map pixel values in [0, max_value] to float32 in [-1, 1]: ``x * (2 / max_value) - 1`` in float32."""
    return torch.from_numpy(np.asarray(x, dtype=np.float32) * (2.0 / max_value) - 1.0)


def codes_to_unit_range(codes: torch.Tensor, max_value: float) -> torch.Tensor:
    """uint8 pixel codes 0..max_value -> float32 in [-1, 1], bit-identical to :func:`images_to_unit_range`.

    The same two float32 operations, ``code * float32(2 / max_value) - 1``, each correctly rounded, done in
    place on the float copy (so the peak is the output itself). tests/data/test_base.py checks every code
    against :func:`images_to_unit_range` for the scales the loaders use (255, 16, 1).

    Example::

        codes_to_unit_range(torch.tensor([0, 255], dtype=torch.uint8), 255)  # tensor([-1., 1.])
    """
    return codes.to(torch.float32).mul_(2.0 / max_value).sub_(1.0)


def store_images(pixels: np.ndarray, max_value: float, image_size: int | None) -> tuple[torch.Tensor, float | None]:
    """How a loader stores 8-bit images (N, C, H, W) of values 0..max_value: ``(x, x_max)`` for a :class:`Split`.

    Kept as uint8 codes (``x_max = max_value``) when no resize changes them; a resize to another size
    gives area / bilinear averages that are not on the code grid, so those stay float32
    (``x_max = None``), exactly as before.
    """
    if resize_keeps_codes(tuple(pixels.shape[-2:]), image_size):
        codes = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.uint8))
        return (codes if image_size is None else center_crop_square(codes).contiguous()), max_value
    return resize_images(images_to_unit_range(pixels, max_value), image_size), None


def stratified_split(
    labels: np.ndarray, sizes: dict[str, int], seed: int
) -> dict[str, np.ndarray]:
    """Split indices into named parts of the given total sizes, each class spread in proportion.

    Deterministic for a given ``seed`` (a constant of each dataset, never the run's seed, so the
    test split is the same in every run). Within each class the indices are shuffled and cut in
    proportion to ``sizes``; rounding remainders go to the parts in order.
    """
    labels = np.asarray(labels)
    total = sum(sizes.values())
    if total > len(labels):
        raise ValueError(f"asked for {total} samples but the data has {len(labels)}")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    # Parts are cut one after another from what is left of each class, each in proportion to the
    # classes' remaining counts (largest remainder), so part totals are exact and no class is over-drawn.
    names = list(sizes) + ["_unused"]
    totals = list(sizes.values()) + [len(labels) - total]
    quota = {}
    left = counts.astype(np.int64).copy()
    for name, size in zip(names, totals):
        want = size * left / max(left.sum(), 1)
        base = np.minimum(np.floor(want).astype(np.int64), left)
        order = np.argsort(-(want - base), kind="stable")
        for i in order:
            if base.sum() == size:
                break
            if base[i] < left[i]:
                base[i] += 1
        quota[name] = base
        left -= base
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for ci, c in enumerate(classes):
        idx = rng.permutation(np.flatnonzero(labels == c))
        start = 0
        for name in names:
            n = int(quota[name][ci])
            parts[name].append(idx[start : start + n])
            start += n
    parts.pop("_unused")
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


def splits_from_indices(
    x: torch.Tensor, y: torch.Tensor | None, parts: dict[str, np.ndarray], x_max: float | None = None
) -> dict[str, Split]:
    """The :class:`Split` of each named part: the rows of ``x`` (and ``y``, if any) at that part's indices.

    ``parts`` is what :func:`stratified_split` returns; every file loader builds its splits with it.
    ``x_max`` says how ``x`` is stored (see :class:`Split`).

    Example::

        splits_from_indices(torch.arange(4.0), None, {"train": np.array([0, 2]), "val": np.array([3])})
        # {"train": Split(x=tensor([0., 2.]), y=None), "val": Split(x=tensor([3.]), y=None)}
    """
    splits = {}
    for name, idx in parts.items():
        index = torch.from_numpy(idx.astype(np.int64))
        splits[name] = Split(x[index], None if y is None else y[index], x_max=x_max)
    return splits


LABELS_SEED = 4  # a constant, not the run's seed: every run (and the supervised baseline) sees the same labels


def keep_labels(dataset: Dataset, n: int, seed: int = LABELS_SEED) -> Dataset:
    """``dataset`` with the labels of only ``n`` training samples kept; the others get y = -1.

    Stratified: every class keeps ``n // K`` labels, and the ``n % K`` left over go to classes chosen by
    a seeded permutation, so 100 labels of 10 digits are exactly 10 per class. Which samples keep their
    label is a seeded draw within each class. The val and test splits keep all their labels.

    Example::

        ds = keep_labels(load_mnist5k(), 100)
        (ds.train.y >= 0).sum()   # 100
    """
    train = dataset.train
    name = dataset.info.name
    if train.y is None or dataset.info.num_classes == 0:
        raise ConfigError(f"data.labels: dataset {name!r} has no labels to keep; remove data.labels")
    if n > len(train):
        raise ConfigError(f"data.labels: {n} is more than the {len(train)} training samples of {name}")
    y = train.y.numpy()
    classes = np.unique(y)
    rng = np.random.default_rng(seed)
    quota = np.full(len(classes), n // len(classes))
    quota[rng.permutation(len(classes))[: n % len(classes)]] += 1
    kept = []
    for c, q in zip(classes, quota):
        members = np.flatnonzero(y == c)
        if q > len(members):
            raise ConfigError(f"data.labels: {n} labels need {q} of class {c}, but {name}'s train split has {len(members)}")
        kept.append(rng.permutation(members)[:q])
    new_y = torch.full_like(train.y, -1)
    idx = torch.from_numpy(np.concatenate(kept))
    new_y[idx] = train.y[idx]
    out = copy.copy(dataset)  # a shallow copy: the images are shared, only the train split's labels change
    out.splits = {**dataset.splits, "train": dataclasses.replace(train, y=new_y)}
    return out
