"""CIFAR-10 from its python pickles (``cifar10``), unpickled with an allow-list: :func:`load_cifar10`.

``root`` is the extracted ``cifar-10-batches-py`` folder (or its parent) with ``data_batch_1..5``
and ``test_batch``. Split: test = ``test_batch``; val = a stratified 5,000 of the training batches
(a tenth if there are fewer than 50,000); train = the rest (45,000), fixed by a constant seed (never
the run's seed). Pixels are stored as uint8 codes and reach a model as float32 in [-1, 1]
(:class:`gankit.data.base.Split`); ``image_size`` resizes with :func:`gankit.data.resize.resize_images`
(a resized set is stored as float32).

Nothing here downloads. Every problem with a file is a :class:`~gankit.errors.DataError` whose
one-line message names the file.

Example::

    from gankit.data.cifar import load_cifar10
    ds = load_cifar10("data/cifar-10-batches-py")
    len(ds.train), len(ds.split("val")), len(ds.split("test"))  # (45000, 5000, 10000)
"""

from __future__ import annotations

import math
import os
import pickle
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from gankit.data.base import DataInfo, Dataset, Split, splits_from_indices, store_images, stratified_split
from gankit.data.digits import SPLIT_SEED
from gankit.errors import DataError

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


def _requested_bytes(shape: Any, dtype: Any) -> float:
    """Bytes an array of ``shape`` and ``dtype`` takes (inf when they are not a shape and a dtype)."""
    try:
        dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
        if any(d < 0 for d in dims):
            return math.inf
        return float(math.prod(dims)) * np.dtype(dtype).itemsize
    except (TypeError, ValueError, OverflowError):
        return math.inf


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only rebuilds numpy arrays and plain containers; any other global is refused.

    The array constructors it hands out allocate at most the file's own size: a batch's pixels are
    bytes of the file, so a pickle of allowed names that asks for a terabyte array is refused before
    numpy allocates it."""

    def __init__(self, file: Any, path: Path, limit: int) -> None:
        super().__init__(file, encoding="bytes")  # CIFAR's pickles come from Python 2: str -> bytes
        self.path, self.limit = path, limit

    def _bounded(self, make: Callable[..., Any], shape: Any, dtype: Any) -> None:
        want = _requested_bytes(shape, dtype)
        if want > self.limit:
            shown = f"{want:,.0f} bytes" if math.isfinite(want) else "an invalid shape"
            raise DataError(f"{self.path}: the pickle asks for an array of {shown}, more than the file's "
                            f"{self.limit:,} bytes can hold; not a CIFAR-10 batch")

    def find_class(self, module: str, name: str) -> Any:
        make = _PICKLE_ALLOWED.get((module, name))
        if make is None:
            raise DataError(
                f"{self.path}: refused to unpickle: it asks for {module}.{name}, which a CIFAR batch never "
                "holds (only numpy arrays are allowed); the file is not a CIFAR-10 batch or was tampered with"
            )
        target = make()
        if name == "_reconstruct":  # _reconstruct(subtype, shape, dtype)
            def reconstruct(subtype: Any, shape: Any, dtype: Any) -> Any:
                self._bounded(target, shape, dtype)
                return target(np.ndarray, shape, dtype)  # the only array type handed out (ndarray itself)
            return reconstruct
        if name == "ndarray":  # ndarray(shape, dtype=float, ...)
            def ndarray(shape: Any, dtype: Any = float, *args: Any, **kwargs: Any) -> Any:
                self._bounded(target, shape, dtype)
                return np.ndarray(shape, dtype, *args, **kwargs)
            return ndarray
        return target


def _unpickle(path: Path) -> Any:
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            return _RestrictedUnpickler(f, path, limit=size).load()
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except MemoryError:
        raise DataError(f"{path}: the pickle asks for more memory than this machine has; not a CIFAR-10 batch") from None
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


def load_cifar10(root: str | os.PathLike, image_size: int | None = None) -> Dataset:
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

    del batches  # the concatenated copy is all that is needed: keeps the peak at one copy of the pixels
    x_train, x_max = store_images(train_images, 255.0, image_size)
    x_test, _ = store_images(test_images, 255.0, image_size)
    n = len(train_labels)
    n_val = min(5000, round(n / 10))
    parts = stratified_split(train_labels, {"train": n - n_val, "val": n_val}, SPLIT_SEED)
    splits = splits_from_indices(x_train, torch.from_numpy(train_labels), parts, x_max)
    splits["test"] = Split(x_test, torch.from_numpy(test_labels), x_max=x_max)
    info = DataInfo(name="cifar10", kind="image", shape=tuple(x_train.shape[1:]), num_classes=10)
    return Dataset(info, splits)


__all__ = ["load_cifar10"]
