"""Writers of small fake files, shared by the tests of the file datasets (idx, cifar, folder, registry).

MNIST IDX files, CIFAR-10 pickles and folders of images: every file a test reads, it writes with these.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import torch
from PIL import Image

IDX_CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype("i2"): 0x0B,
             np.dtype("i4"): 0x0C, np.dtype("f4"): 0x0D, np.dtype("f8"): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array``: 00 00 TYPE NDIM, big-endian uint32 dims, big-endian data."""
    header = bytes([0, 0, IDX_CODES[array.dtype], array.ndim])
    dims = np.asarray(array.shape, dtype=">u4").tobytes()
    return header + dims + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


MNIST_SIDE = 28
N_MNIST_TRAIN, N_MNIST_TEST = 120, 20  # 12 of each digit in train: val = round(120 / 12) = 10, one per digit


def mnist_images(n: int, offset: int) -> np.ndarray:
    """Image i has pixel (0, 0) = offset + i (its identity), (0, 1) = 0, (0, 2) = 255, (r, c) = (r * 9 + c) % 256."""
    r, c = np.meshgrid(np.arange(MNIST_SIDE), np.arange(MNIST_SIDE), indexing="ij")
    images = np.repeat(((r * 9 + c) % 256).astype(np.uint8)[None], n, axis=0)
    images[:, 0, 0] = offset + np.arange(n)
    images[:, 0, 1] = 0
    images[:, 0, 2] = 255
    return images


def mnist_labels(n: int) -> np.ndarray:
    return (np.arange(n) % 10).astype(np.uint8)


def write_mnist(folder: Path, gz: tuple[bool, bool, bool, bool] = (False,) * 4) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": mnist_images(N_MNIST_TRAIN, 0),
        "train-labels-idx1-ubyte": mnist_labels(N_MNIST_TRAIN),
        "t10k-images-idx3-ubyte": mnist_images(N_MNIST_TEST, 200),
        "t10k-labels-idx1-ubyte": mnist_labels(N_MNIST_TEST),
    }
    for (name, array), zipped in zip(arrays.items(), gz):
        write_idx(folder / (name + (".gz" if zipped else "")), array, gz=zipped)
    return folder


def pixels(x: torch.Tensor) -> np.ndarray:
    """Map [-1, 1] back to the integer pixel values 0..255 (float32 rounding is undone by rint)."""
    return np.rint((x.numpy().astype(np.float64) + 1.0) * 127.5).astype(np.int64)


def identity(x: torch.Tensor, channel: int = 0) -> np.ndarray:
    """Recover the pixel value (0..255) that each image stores at (channel, 0, 0)."""
    return pixels(x[:, channel, 0, 0])


N_CIFAR_PER_BATCH, N_CIFAR_TEST = 50, 20


def cifar_batch(n: int, offset: int) -> dict:
    """Image i: red plane = offset + i, green plane = 100 + i % 10, blue plane = 250; red (2, 5) = 255."""
    data = np.zeros((n, 3, 32, 32), dtype=np.uint8)
    data[:, 0] = (offset + np.arange(n))[:, None, None]
    data[:, 1] = (100 + np.arange(n) % 10)[:, None, None]
    data[:, 2] = 250
    data[:, 0, 2, 5] = 255
    # The real files hold each image as one row: 1024 red, then 1024 green, then 1024 blue values.
    return {b"batch_label": b"fake", b"labels": [int(v) for v in np.arange(n) % 10], b"data": data.reshape(n, 3072)}


def write_cifar(folder: Path, n_batches: int = 2, protocol: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for b in range(n_batches):
        with open(folder / f"data_batch_{b + 1}", "wb") as f:
            pickle.dump(cifar_batch(N_CIFAR_PER_BATCH, b * N_CIFAR_PER_BATCH), f, protocol=protocol)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump(cifar_batch(N_CIFAR_TEST, 0), f, protocol=protocol)
    return folder


def write_png(path: Path, pixels: np.ndarray) -> Path:
    """Save with Pillow; the suffix picks the format (.png, .bmp) and the dtype the mode (uint16 -> I;16)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def assert_partition(ids: dict[str, np.ndarray], total: int) -> None:
    """The splits' identities are disjoint and together are exactly 0..total-1."""
    everything = np.concatenate(list(ids.values()))
    assert len(everything) == total
    assert sorted(everything.tolist()) == list(range(total))


def rgb_image(cls: int, j: int, size: tuple[int, int] = (8, 8)) -> np.ndarray:
    """An (H, W, 3) image whose red = 100 * cls, green = 10 * j, blue = 7; pixel (1, 2) of blue = 255."""
    img = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 100 * cls, 10 * j, 7
    img[1, 2, 2] = 255
    return img


def write_class_folder(root: Path, n_per_class: int = 10) -> Path:
    # Class folders sort as a_dog, b_cat: labels follow that order, not creation order. Some files
    # have upper-case extensions; a text file and a hidden folder are ignored.
    for cls, name in [(1, "b_cat"), (0, "a_dog")]:
        for j in range(n_per_class):
            ext = ".BMP" if j % 3 == 0 else ".png"
            write_png(root / name / f"{j:02d}{ext}", rgb_image(cls, j))
    (root / "a_dog" / "notes.txt").write_text("not an image")
    (root / ".cache").mkdir()
    return root
