"""MNIST from its IDX files (``mnist-idx``): :func:`read_idx` and :func:`load_mnist_idx`.

``root`` holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
and ``t10k-labels-idx1-ubyte``, each plain or gzipped (``.gz``). Works for any dataset in the MNIST
file layout (Fashion-MNIST, KMNIST). Split: test = the t10k files; val = a stratified 1/12 of the
training file (5,000 of MNIST's 60,000); train = the rest (55,000), fixed by a constant seed (never
the run's seed). Images (N, 1, H, W) are stored as uint8 codes and reach a model as float32 in [-1, 1]
(:class:`gankit.data.base.Split`); ``image_size`` resizes them with :func:`gankit.data.resize.resize_images`
(a resized set is stored as float32).

Nothing here downloads. Every problem with a file is a :class:`~gankit.errors.DataError` whose
one-line message names the file.

Example::

    from gankit.data.idx import load_mnist_idx
    ds = load_mnist_idx("~/data/mnist", image_size=32)
    ds.info.shape, len(ds.train)  # ((1, 32, 32), 55000)
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np
import torch

from gankit.data.base import DataInfo, Dataset, Split, splits_from_indices, store_images, stratified_split
from gankit.data.digits import SPLIT_SEED
from gankit.errors import DataError
from gankit.limits import check_memory

# IDX type codes -> big-endian numpy dtypes (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_DTYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
_GZIP_MAGIC = b"\x1f\x8b"


class _Reader:
    """Bytes of a plain or gzipped file, read on demand: an IDX header is checked before its data is read,
    so a header that declares more than the file holds allocates nothing (a gzip stream is not inflated
    past what the header declares)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.file = open(path, "rb")
            self.size = os.fstat(self.file.fileno()).st_size
            self.gzipped = self.file.read(2) == _GZIP_MAGIC
            self.file.seek(0)
        except FileNotFoundError:
            raise DataError(f"{path}: file not found") from None
        except OSError as e:
            raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
        self.stream = gzip.GzipFile(fileobj=self.file) if self.gzipped else self.file

    def read(self, n: int) -> bytes:
        try:
            return self.stream.read(n)
        except (OSError, EOFError, zlib.error) as e:
            if not self.gzipped:
                raise DataError(f"{self.path}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
            # BadGzipFile (an OSError) for a bad header, EOFError for a cut stream, zlib.error for bad data.
            raise DataError(f"{self.path}: corrupt gzip stream ({e}); download the file again") from None

    def close(self) -> None:
        self.file.close()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), plain or gzipped, into a native-byte-order numpy array.

    Gzip is detected by the magic bytes ``1f 8b``, not by the file name. The header is two zero bytes,
    a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number
    of dimensions, then each dimension as a big-endian uint32; the data follow, big-endian.
    A wrong magic, an unknown type code, too few or too many data bytes, or a corrupt gzip stream
    raise a :class:`DataError` naming the file. The size the header declares is checked against the
    file's size (plain) or the machine's memory (gzipped) before anything is allocated.

    Example::

        images = read_idx("mnist/train-images-idx3-ubyte.gz")  # uint8, shape (60000, 28, 28)
    """
    path = Path(path)
    reader = _Reader(path)
    try:
        return _read_idx(reader)
    finally:
        reader.close()


def _read_idx(reader: _Reader) -> np.ndarray:
    path, gzipped = reader.path, reader.gzipped
    holds = "file holds" if not gzipped else "file holds (after gunzip)"
    head = reader.read(4)
    if len(head) < 4:
        raise DataError(f"{path}: truncated: {len(head)} bytes, shorter than the 4-byte IDX magic")
    if head[0] != 0 or head[1] != 0:
        raise DataError(
            f"{path}: not an IDX file: magic starts {head[:4].hex(' ')}, expected 00 00 TYPE NDIM"
        )
    code, ndim = head[2], head[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise DataError(f"{path}: unknown IDX type code 0x{code:02X}; known: {known}")
    if ndim == 0:
        raise DataError(f"{path}: IDX header says 0 dimensions")
    header = 4 + 4 * ndim
    raw_dims = reader.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DataError(f"{path}: truncated: header needs {header:,} bytes, {holds} {4 + len(raw_dims):,}")
    dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4", count=ndim))
    dtype = np.dtype(_IDX_DTYPES[code])
    want = math.prod(dims) * dtype.itemsize
    if not gzipped and want != reader.size - header:
        have = reader.size - header
        if have < want:
            raise DataError(f"{path}: truncated: header says {want:,} bytes of data, {holds} {have:,}")
        raise DataError(
            f"{path}: {have - want:,} bytes of trailing garbage after the {want:,} bytes of data "
            f"that the header ({' x '.join(map(str, dims))}) describes"
        )
    if gzipped:  # the inflated size is not known before inflating: bound it by the machine
        check_memory(want, str(path), f"its IDX header declares {' x '.join(map(str, dims))} values", DataError,
                     advice="the header is corrupt, or the file is not an IDX file")
    raw = reader.read(want + 1)
    if len(raw) < want:
        raise DataError(f"{path}: truncated: header says {want:,} bytes of data, {holds} {len(raw):,}")
    if len(raw) > want:
        rest = len(raw) - want + len(reader.read(1 << 20))
        raise DataError(
            f"{path}: {rest:,}{'+' if rest > 1 else ''} bytes of trailing garbage after the {want:,} bytes of data "
            f"that the header ({' x '.join(map(str, dims))}) describes"
        )
    # astype copies into native byte order, so the result is writable and torch.from_numpy accepts it.
    return np.frombuffer(raw, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _find_mnist_file(folder: Path, name: str) -> Path:
    # The plain file wins over the .gz when both exist: it is usually the user's own extraction of it.
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"{folder}: no {name} (or {name}.gz) in this folder; data.name=mnist-idx needs "
        f"{', '.join(MNIST_FILES.values())} (each plain or .gz)"
    )


def _read_mnist_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{images_path}: expected uint8 images of shape (N, H, W), got {images.dtype} of shape {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DataError(
            f"{labels_path}: expected integer labels of shape (N,), got {labels.dtype} of shape {labels.shape}"
        )
    if len(images) == 0:
        raise DataError(f"{images_path}: holds no images (its IDX header says 0); data.name=mnist-idx needs "
                        "images in both the train and the t10k files")
    if 0 in images.shape[1:]:
        raise DataError(f"{images_path}: images of size {images.shape[1]}x{images.shape[2]}; not MNIST images")
    if len(images) != len(labels):
        raise DataError(
            f"{labels_path}: holds {len(labels):,} labels but {images_path.name} holds {len(images):,} images"
        )
    if len(labels) and labels.min() < 0:
        raise DataError(f"{labels_path}: negative label {int(labels.min())}")
    return images, labels.astype(np.int64)


def load_mnist_idx(root: str | os.PathLike, image_size: int | None = None) -> Dataset:
    """Load MNIST (or any dataset in its IDX layout) from the four IDX files in ``root``.

    Files may be plain or gzipped; a torchvision download (``root/MNIST/raw``) is found too.
    Splits: test = t10k (10,000), val = a stratified ``round(n / 12)`` of the training file (5,000),
    train = the rest (55,000). Images are (N, 1, H, W) in [-1, 1]; ``num_classes`` is the largest
    label + 1 (10 for MNIST).

    Example::

        ds = load_mnist_idx("data/mnist")
        ds.info.shape, len(ds.split("val"))  # ((1, 28, 28), 5000)
    """
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DataError(f"{folder}: data.name=mnist-idx needs a folder holding the four MNIST IDX files")
    torchvision_layout = folder / "MNIST" / "raw"
    if not any((folder / f).is_file() or (folder / f"{f}.gz").is_file() for f in MNIST_FILES.values()):
        if torchvision_layout.is_dir():
            folder = torchvision_layout
    paths = {key: _find_mnist_file(folder, name) for key, name in MNIST_FILES.items()}
    train_images, train_labels = _read_mnist_pair(paths["train_images"], paths["train_labels"])
    test_images, test_labels = _read_mnist_pair(paths["test_images"], paths["test_labels"])
    if train_images.shape[1:] != test_images.shape[1:]:
        raise DataError(
            f"{paths['test_images']}: images are {test_images.shape[1]}x{test_images.shape[2]} but the "
            f"training images are {train_images.shape[1]}x{train_images.shape[2]}"
        )
    if image_size is None and train_images.shape[1] != train_images.shape[2]:
        raise DataError(
            f"{paths['train_images']}: images are {train_images.shape[1]}x{train_images.shape[2]}, not square; "
            "set data.image_size=N to crop and resize them to N x N"
        )

    x_train, x_max = store_images(train_images[:, None], 255.0, image_size)
    x_test, _ = store_images(test_images[:, None], 255.0, image_size)
    n = len(train_labels)
    n_val = round(n / 12)
    parts = stratified_split(train_labels, {"train": n - n_val, "val": n_val}, SPLIT_SEED)
    y_train = torch.from_numpy(train_labels)
    splits = splits_from_indices(x_train, y_train, parts, x_max)
    splits["test"] = Split(x_test, torch.from_numpy(test_labels), x_max=x_max)
    num_classes = int(max(train_labels.max(initial=-1), test_labels.max(initial=-1))) + 1
    info = DataInfo(name="mnist-idx", kind="image", shape=tuple(x_train.shape[1:]), num_classes=num_classes)
    return Dataset(info, splits)


__all__ = ["MNIST_FILES", "load_mnist_idx", "read_idx"]
