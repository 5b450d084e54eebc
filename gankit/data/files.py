"""Datasets read from files the user already has: MNIST IDX files, CIFAR-10 python pickles, a folder of images.

- ``mnist-idx``: a folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each plain or gzipped (``.gz``). Works for
  any dataset in the MNIST file layout (Fashion-MNIST, KMNIST). Split: test = the t10k files; val = a
  stratified 1/12 of the training file (5,000 of MNIST's 60,000); train = the rest (55,000).
- ``cifar10``: the extracted ``cifar-10-batches-py`` folder (or its parent), ``data_batch_1..5`` and
  ``test_batch``. Split: test = ``test_batch``; val = a stratified 5,000 of the training batches
  (a tenth if there are fewer than 50,000); train = the rest (45,000).
- ``folder``: ``root/CLASS_NAME/*.png`` (also jpg, jpeg, bmp, gif, webp); labels follow the sorted
  class-folder names. A folder of images with no class folders is one unlabelled set. Split 80/10/10,
  stratified by class.

Every split is fixed by a constant seed (never the run's seed), so the test split is the same in
every run. Pixels are mapped to float32 in [-1, 1], images are (N, C, H, W), and ``image_size``
resizes every image to ``image_size x image_size`` with :func:`resize_images`.

Nothing here downloads: the files must already be on disk. Every problem with a file is a
:class:`~gankit.errors.DataError` whose one-line message names the file.

Example::

    from gankit.data.files import load_mnist_idx
    ds = load_mnist_idx("~/data/mnist", image_size=32)
    ds.info.shape, len(ds.train)  # ((1, 32, 32), 55000)
"""

from __future__ import annotations

import gzip
import math
import os
import pickle
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from gankit.data.base import DataInfo, Dataset, Split, images_to_unit_range, stratified_split
from gankit.data.digits import SPLIT_SEED
from gankit.errors import DataError

PathLike = str | os.PathLike

# --------------------------------------------------------------------------------------------------
# Resizing, shared by the three loaders
# --------------------------------------------------------------------------------------------------

_RESIZE_CHUNK = 4096  # images per interpolate call: bounds the peak memory of resizing CIFAR-sized sets


def center_crop_square(x: torch.Tensor) -> torch.Tensor:
    """Crop the largest centred square out of images ``x`` of shape (..., H, W).

    Odd margins leave the extra row / column at the bottom / right.

    Example::

        center_crop_square(torch.zeros(2, 3, 40, 30)).shape  # (2, 3, 30, 30)
    """
    h, w = x.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return x[..., top : top + side, left : left + side]


def resize_images(x: torch.Tensor, size: int | None) -> torch.Tensor:
    """Resize float images ``x`` (N, C, H, W) to (N, C, size, size); ``size=None`` returns ``x`` unchanged.

    Non-square images are first center-cropped to a square (:func:`center_crop_square`), so nothing is
    stretched. Shrinking uses ``mode="area"`` (each output pixel is the mean of the input pixels it
    covers, so thin strokes do not alias away); enlarging uses ``mode="bilinear"``. Both are convex
    combinations of input pixels, so values stay in [-1, 1]; bicubic would overshoot that range at
    edges, which is why it is not used. The same rule serves every loader, so a digit resized from
    IDX files and one resized from PNGs come out the same.

    Example::

        resize_images(torch.zeros(5, 1, 28, 28), 32).shape  # (5, 1, 32, 32)
    """
    if size is None:
        return x
    if size < 1:
        raise ValueError(f"image size must be positive, got {size}")
    x = center_crop_square(x)
    side = x.shape[-1]
    if side == size:
        return x.contiguous()
    mode = "area" if size < side else "bilinear"
    extra = {} if mode == "area" else {"align_corners": False}
    n, c = x.shape[:2]
    # Channels are resized independently, so folding them into the batch gives the same numbers;
    # on CPU it is about twice as fast for bilinear (measured on 8,192 CIFAR images, 32 -> 64).
    planes = x.reshape(n * c, 1, side, side)
    out = [F.interpolate(chunk, size=(size, size), mode=mode, **extra) for chunk in planes.split(_RESIZE_CHUNK)]
    return torch.cat(out).reshape(n, c, size, size) if out else x.new_zeros((0, c, size, size))


def _make_splits(x: torch.Tensor, y: torch.Tensor | None, parts: dict[str, np.ndarray]) -> dict[str, Split]:
    splits = {}
    for name, idx in parts.items():
        index = torch.from_numpy(idx.astype(np.int64))
        splits[name] = Split(x[index], None if y is None else y[index])
    return splits


# --------------------------------------------------------------------------------------------------
# MNIST: IDX files
# --------------------------------------------------------------------------------------------------

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


def _read_maybe_gzip(path: Path) -> tuple[bytes, bool]:
    """The file's bytes, gunzipped if it starts with the gzip magic (whatever its name says)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    if not raw.startswith(_GZIP_MAGIC):
        return raw, False
    try:
        return gzip.decompress(raw), True
    except (OSError, EOFError, zlib.error) as e:
        # BadGzipFile (an OSError) for a bad header, EOFError for a cut stream, zlib.error for bad data.
        raise DataError(f"{path}: corrupt gzip stream ({e}); download the file again") from None


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), plain or gzipped, into a native-byte-order numpy array.

    Gzip is detected by the magic bytes ``1f 8b``, not by the file name. The header is two zero bytes,
    a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number
    of dimensions, then each dimension as a big-endian uint32; the data follow, big-endian.
    A wrong magic, an unknown type code, too few or too many data bytes, or a corrupt gzip stream
    raise a :class:`DataError` naming the file.

    Example::

        images = read_idx("mnist/train-images-idx3-ubyte.gz")  # uint8, shape (60000, 28, 28)
    """
    path = Path(path)
    raw, gzipped = _read_maybe_gzip(path)
    holds = "file holds" if not gzipped else "file holds (after gunzip)"
    if len(raw) < 4:
        raise DataError(f"{path}: truncated: {len(raw)} bytes, shorter than the 4-byte IDX magic")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(
            f"{path}: not an IDX file: magic starts {raw[:4].hex(' ')}, expected 00 00 TYPE NDIM"
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise DataError(f"{path}: unknown IDX type code 0x{code:02X}; known: {known}")
    if ndim == 0:
        raise DataError(f"{path}: IDX header says 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated: header needs {header:,} bytes, {holds} {len(raw):,}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    want = math.prod(dims) * dtype.itemsize
    have = len(raw) - header
    if have < want:
        raise DataError(f"{path}: truncated: header says {want:,} bytes of data, {holds} {have:,}")
    if have > want:
        raise DataError(
            f"{path}: {have - want:,} bytes of trailing garbage after the {want:,} bytes of data "
            f"that the header ({' x '.join(map(str, dims))}) describes"
        )
    # astype copies into native byte order, so the result is writable and torch.from_numpy accepts it.
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


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
    if len(images) != len(labels):
        raise DataError(
            f"{labels_path}: holds {len(labels):,} labels but {images_path.name} holds {len(images):,} images"
        )
    if len(labels) and labels.min() < 0:
        raise DataError(f"{labels_path}: negative label {int(labels.min())}")
    return images, labels.astype(np.int64)


def load_mnist_idx(root: PathLike, image_size: int | None = None) -> Dataset:
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

    x_train = resize_images(images_to_unit_range(train_images[:, None], 255.0), image_size)
    x_test = resize_images(images_to_unit_range(test_images[:, None], 255.0), image_size)
    n = len(train_labels)
    n_val = round(n / 12)
    parts = stratified_split(train_labels, {"train": n - n_val, "val": n_val}, SPLIT_SEED)
    y_train = torch.from_numpy(train_labels)
    splits = _make_splits(x_train, y_train, parts)
    splits["test"] = Split(x_test, torch.from_numpy(test_labels))
    num_classes = int(max(train_labels.max(initial=-1), test_labels.max(initial=-1))) + 1
    info = DataInfo(name="mnist-idx", kind="image", shape=tuple(x_train.shape[1:]), num_classes=num_classes)
    return Dataset(info, splits)


# --------------------------------------------------------------------------------------------------
# CIFAR-10: python pickles, unpickled with an allow-list
# --------------------------------------------------------------------------------------------------


def _numpy_attr(module: str, name: str) -> Any:
    """``numpy._core.<module>.<name>`` (numpy 2) or ``numpy.core.<module>.<name>`` (numpy 1).

    Pickles name either location depending on the numpy that wrote them; both map to the one this
    numpy has, without touching ``numpy.core`` (deprecated in numpy 2).
    """
    import importlib

    for base in ("numpy._core", "numpy.core"):
        try:
            return getattr(importlib.import_module(f"{base}.{module}"), name)
        except (ImportError, AttributeError):
            continue
    raise AttributeError(f"numpy has no {module}.{name}")


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    # Protocol-2 pickles written by Python 3 store bytes as _codecs.encode(text, "latin1"). Only that
    # codec is allowed: a codec name is looked up (and its module imported), which we do not hand out.
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin1")


# (module, name) a pickle may name -> what it gets. Everything else is refused, so a pickle can only
# build dicts, lists, numbers, bytes and numpy arrays: nothing that runs code.
_PICKLE_ALLOWED: dict[tuple[str, str], Callable[[], Any]] = {
    ("numpy.core.multiarray", "_reconstruct"): lambda: _numpy_attr("multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): lambda: _numpy_attr("multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"): lambda: _numpy_attr("numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): lambda: _numpy_attr("numeric", "_frombuffer"),
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("_codecs", "encode"): lambda: _latin1_encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only rebuilds numpy arrays and plain containers; any other global is refused."""

    def __init__(self, file: Any, path: Path) -> None:
        super().__init__(file, encoding="bytes")  # CIFAR's pickles come from Python 2: str -> bytes
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        make = _PICKLE_ALLOWED.get((module, name))
        if make is None:
            raise DataError(
                f"{self.path}: refused to unpickle: it asks for {module}.{name}, which a CIFAR batch never "
                "holds (only numpy arrays are allowed); the file is not a CIFAR-10 batch or was tampered with"
            )
        return make()


def _unpickle(path: Path) -> Any:
    try:
        with path.open("rb") as f:
            return _RestrictedUnpickler(f, path).load()
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - a corrupt pickle raises almost anything; all mean "bad file"
        detail = str(e) or type(e).__name__
        raise DataError(f"{path}: corrupt or truncated pickle ({detail}); extract the archive again") from None


def _get(batch: dict, key: str) -> Any:
    # Python-2 pickles give bytes keys (b"data"); a batch re-saved by Python 3 may have str keys.
    return batch[key.encode()] if key.encode() in batch else batch.get(key)


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3, 32, 32) uint8 images and (N,) int64 labels of one CIFAR-10 batch file."""
    batch = _unpickle(path)
    if not isinstance(batch, dict):
        raise DataError(f"{path}: expected a pickled dict with b'data' and b'labels', got {type(batch).__name__}")
    data, labels = _get(batch, "data"), _get(batch, "labels")
    if labels is None and _get(batch, "fine_labels") is not None:
        raise DataError(f"{path}: has b'fine_labels' but no b'labels': this is CIFAR-100, not CIFAR-10")
    if data is None or labels is None:
        raise DataError(f"{path}: pickled dict lacks b'data' or b'labels'; not a CIFAR-10 batch")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        what = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"{path}: b'data' must be a uint8 array of shape (N, 3072), got {what}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise DataError(f"{path}: b'labels' must be a list of integers") from None
    if labels.shape != (len(data),):
        raise DataError(f"{path}: holds {len(data):,} images but {labels.size:,} labels")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{path}: labels must lie in 0..9, found {int(labels.min())}..{int(labels.max())}")
    # Each row is the red plane, then green, then blue, each 32x32 row-major: a plain reshape gives CHW.
    return data.reshape(-1, 3, 32, 32), labels


def _cifar_folder(root: Path) -> Path:
    if root.is_file():
        hint = f"; extract it first (tar xzf {root.name})" if root.name.endswith((".tar.gz", ".tgz")) else ""
        raise DataError(f"{root}: data.name=cifar10 needs the cifar-10-batches-py folder, not a file{hint}")
    nested = root / "cifar-10-batches-py"
    return nested if nested.is_dir() else root


def load_cifar10(root: PathLike, image_size: int | None = None) -> Dataset:
    """Load CIFAR-10 from its python pickles in ``root`` (``cifar-10-batches-py`` or its parent).

    The pickles are read by an unpickler that only rebuilds numpy arrays and refuses every other
    global, so a tampered file cannot run code. Every ``data_batch_*`` present is used (at least one).
    Splits: test = ``test_batch``; val = a stratified ``min(5000, round(n / 10))`` of the training
    batches; train = the rest. Images are (N, 3, 32, 32) in [-1, 1], 10 classes.

    Example::

        ds = load_cifar10("data/cifar-10-batches-py")
        len(ds.train), len(ds.split("val")), len(ds.split("test"))  # (45000, 5000, 10000)
    """
    folder = _cifar_folder(Path(root).expanduser())

    def batch_number(p: Path) -> tuple[int, str]:
        suffix = p.name.removeprefix("data_batch_")
        return (int(suffix), p.name) if suffix.isdigit() else (1 << 30, p.name)

    train_paths = sorted((p for p in folder.glob("data_batch_*") if p.is_file()), key=batch_number)
    if not train_paths:
        raise DataError(
            f"{folder}: no data_batch_1..5 in this folder; set data.root to the extracted cifar-10-batches-py folder"
        )
    test_path = folder / "test_batch"
    if not test_path.is_file():
        raise DataError(f"{test_path}: file not found; cifar10 needs test_batch next to the data_batch_* files")

    batches = [_read_cifar_batch(p) for p in train_paths]
    train_images = np.concatenate([b[0] for b in batches])
    train_labels = np.concatenate([b[1] for b in batches])
    test_images, test_labels = _read_cifar_batch(test_path)

    x_train = resize_images(images_to_unit_range(train_images, 255.0), image_size)
    x_test = resize_images(images_to_unit_range(test_images, 255.0), image_size)
    n = len(train_labels)
    n_val = min(5000, round(n / 10))
    parts = stratified_split(train_labels, {"train": n - n_val, "val": n_val}, SPLIT_SEED)
    splits = _make_splits(x_train, torch.from_numpy(train_labels), parts)
    splits["test"] = Split(x_test, torch.from_numpy(test_labels))
    info = DataInfo(name="cifar10", kind="image", shape=tuple(x_train.shape[1:]), num_classes=10)
    return Dataset(info, splits)


# --------------------------------------------------------------------------------------------------
# A folder of images
# --------------------------------------------------------------------------------------------------

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
# Modes that stay one channel, with the value that maps to white. "I;16*" is how Pillow opens 16-bit
# grayscale PNGs; plain "I" (32-bit int) is taken to hold 16-bit values too, as that is where it comes from.
_GRAY_MAX: dict[str, float] = {"1": 1.0, "L": 255.0, "I": 65535.0, "I;16": 65535.0, "I;16L": 65535.0,
                               "I;16B": 65535.0, "I;16N": 65535.0}


def _is_image_file(p: Path) -> bool:
    # Hidden files are skipped: macOS "._name.png" resource forks look like images but are not.
    return p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS


def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if _is_image_file(p))


def _collect_folder(root: Path) -> tuple[list[Path], list[int], list[str]]:
    """Image paths, their labels, and the class names (empty for an unlabelled folder)."""
    if not root.is_dir():
        raise DataError(f"{root}: data.name=folder needs a folder of class folders of images, not a file")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = _list_images(root)
    exts = ", ".join(IMAGE_EXTENSIONS)
    if not class_dirs:
        if not loose:
            raise DataError(f"{root}: empty: no class folders and no images ({exts})")
        return loose, [], []
    if loose:
        raise DataError(
            f"{loose[0]}: image next to class folders ({', '.join(p.name for p in class_dirs[:3])}); "
            "move loose images into a class folder, or point data.root at a folder of images only"
        )
    paths: list[Path] = []
    labels: list[int] = []
    for label, d in enumerate(class_dirs):
        found = _list_images(d)
        if not found:
            raise DataError(f"{d}: class folder holds no images ({exts}); remove it or add images")
        paths += found
        labels += [label] * len(found)
    return paths, labels, [d.name for d in class_dirs]


def _open_image(path: Path) -> Any:
    from PIL import Image

    try:
        img = Image.open(path)
        img.load()  # decode now: a truncated file fails here, not later in a half-built tensor
        return img
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - Pillow's plugins raise many types for a bad file
        raise DataError(f"{path}: Pillow cannot read this image ({e or type(e).__name__})") from None


def _image_array(img: Any, rgb: bool) -> tuple[np.ndarray, float]:
    """(C, H, W) pixel values and the value that means white."""
    if img.mode in _GRAY_MAX:
        top = _GRAY_MAX[img.mode]
        gray = np.clip(np.asarray(img, dtype=np.float32), 0.0, top)[None]  # mode "1" gives bools -> 0/1
        return (np.repeat(gray, 3, axis=0) if rgb else gray), top
    # Palette, RGBA, LA, CMYK, ...: Pillow's RGB conversion (alpha is dropped, not composited).
    return np.asarray(img.convert("RGB")).transpose(2, 0, 1), 255.0


def load_image_folder(root: PathLike, image_size: int | None = None) -> Dataset:
    """Load ``root/CLASS_NAME/*.png`` (jpg, jpeg, bmp, gif, webp; any case) as a labelled image dataset.

    Labels are the positions of the class folders in sorted order. A folder of images without class
    folders is one unlabelled set (``num_classes`` 0, ``y`` None). Images stay one channel only if every
    image is grayscale (Pillow modes ``1``, ``L``, ``I``, ``I;16``); otherwise all become RGB. An
    animated GIF or WebP gives its first frame. Without ``image_size`` every image must have one
    square size; with it, each is center-cropped to a square and resized by :func:`resize_images`.
    Splits: 80 / 10 / 10 (val and test are ``round(n / 10)`` each), stratified by class.

    Example::

        ds = load_image_folder("data/flowers", image_size=64)
        ds.info.num_classes, ds.info.shape  # (5, (3, 64, 64))
    """
    from PIL import Image

    folder = Path(root).expanduser()
    paths, labels, class_names = _collect_folder(folder)

    # First pass reads headers only (cheap), so a size problem is reported before anything is decoded.
    modes, sizes = [], []
    for p in paths:
        try:
            with Image.open(p) as img:
                modes.append(img.mode)
                sizes.append(img.size)
        except MemoryError:
            raise
        except Exception as e:  # noqa: BLE001
            raise DataError(f"{p}: Pillow cannot open this image ({e or type(e).__name__})") from None
    rgb = any(m not in _GRAY_MAX for m in modes)
    if image_size is None:
        for p, s in zip(paths, sizes):
            if s != sizes[0]:
                raise DataError(
                    f"{p}: image is {s[0]}x{s[1]} but {paths[0].name} is {sizes[0][0]}x{sizes[0][1]}; "
                    "set data.image_size=N to crop and resize every image to N x N"
                )
        if sizes[0][0] != sizes[0][1]:
            raise DataError(
                f"{paths[0]}: images are {sizes[0][0]}x{sizes[0][1]} (width x height), not square; "
                "set data.image_size=N to center-crop and resize them to N x N"
            )

    images = []
    for p in paths:
        with _open_image(p) as img:
            pixels, top = _image_array(img, rgb)
        x = images_to_unit_range(pixels[None], top)  # (1, C, H, W) in [-1, 1]
        images.append(resize_images(x, image_size))  # resized one by one: sizes may differ
    x_all = torch.cat(images)

    n = len(paths)
    n_val = n_test = round(n / 10)
    strata = np.asarray(labels, dtype=np.int64) if class_names else np.zeros(n, dtype=np.int64)
    parts = stratified_split(strata, {"train": n - n_val - n_test, "val": n_val, "test": n_test}, SPLIT_SEED)
    y_all = torch.from_numpy(strata) if class_names else None
    info = DataInfo(name="folder", kind="image", shape=tuple(x_all.shape[1:]), num_classes=len(class_names))
    return Dataset(info, _make_splits(x_all, y_all, parts))


__all__ = [
    "read_idx",
    "load_mnist_idx",
    "load_cifar10",
    "load_image_folder",
    "resize_images",
    "center_crop_square",
    "IMAGE_EXTENSIONS",
]
