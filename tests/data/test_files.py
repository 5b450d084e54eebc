"""Tests of the file datasets (gankit/data/files.py): every file here is written by the test itself."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.config import DataConfig
from gankit.data.files import (
    load_cifar10,
    load_image_folder,
    load_mnist_idx,
    read_idx,
    resize_images,
)
from gankit.errors import ConfigError, DataError

# --------------------------------------------------------------------------------------------------
# Writers of small fake files
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# read_idx
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", list(IDX_CODES))
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trips_every_type(tmp_path: Path, dtype: np.dtype, gz: bool) -> None:
    array = (np.arange(24).reshape(2, 3, 4) * 5 - 40).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 10
    if dtype.kind == "f":
        array = array / 7
    out = read_idx(write_idx(tmp_path / "a.idx", array, gz=gz))
    assert out.dtype == dtype and out.dtype.isnative
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)
    assert out.flags.writeable


def test_read_idx_detects_gzip_by_magic_not_by_name(tmp_path: Path) -> None:
    array = np.arange(10, dtype=np.uint8)
    zipped_without_suffix = write_idx(tmp_path / "labels-idx1-ubyte", array, gz=True)
    plain_with_gz_suffix = write_idx(tmp_path / "labels-idx1-ubyte.gz", array, gz=False)
    np.testing.assert_array_equal(read_idx(zipped_without_suffix), array)
    np.testing.assert_array_equal(read_idx(plain_with_gz_suffix), array)


def test_read_idx_truncated_names_file_and_sizes(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    data = idx_bytes(np.zeros((100, 28, 28), dtype=np.uint8))[: 16 + 1234]
    path.write_bytes(gzip.compress(data))
    with pytest.raises(DataError) as e:
        read_idx(path)
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg and "truncated" in msg
    assert "78,400" in msg and "1,234" in msg and "\n" not in msg


def test_read_idx_refuses_trailing_garbage(tmp_path: Path) -> None:
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(10, dtype=np.uint8)) + b"junk")
    with pytest.raises(DataError, match=r"x-idx1-ubyte: 4 bytes of trailing garbage"):
        read_idx(path)


def test_read_idx_refuses_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "notidx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(DataError, match=r"notidx: not an IDX file: magic starts 89 50 4e 47"):
        read_idx(path)


def test_read_idx_refuses_unknown_type_code(tmp_path: Path) -> None:
    path = tmp_path / "weird-idx1"
    path.write_bytes(bytes([0, 0, 0x0A, 1]) + (3).to_bytes(4, "big") + bytes(3))
    with pytest.raises(DataError, match=r"weird-idx1: unknown IDX type code 0x0A"):
        read_idx(path)


def test_read_idx_refuses_short_header(tmp_path: Path) -> None:
    path = tmp_path / "short"
    path.write_bytes(bytes([0, 0, 8, 3]) + bytes(5))  # three dims need 12 header bytes after the magic
    with pytest.raises(DataError, match=r"short: truncated: header needs 16 bytes"):
        read_idx(path)


@pytest.mark.parametrize("damage", ["cut", "flip"])
def test_read_idx_corrupt_gzip_is_a_data_error(tmp_path: Path, damage: str) -> None:
    blob = bytearray(gzip.compress(idx_bytes(np.arange(5000, dtype=np.int32))))
    if damage == "cut":
        blob = blob[: len(blob) // 2]
    else:
        blob[20:40] = bytes(b ^ 0xFF for b in blob[20:40])
    path = tmp_path / "labels.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError, match=r"labels.gz: corrupt gzip stream"):
        read_idx(path)


# --------------------------------------------------------------------------------------------------
# load_mnist_idx
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mnist(tmp_path_factory.mktemp("mnist"), gz=(True, False, False, True))


def test_mnist_idx_pixels_labels_and_splits(mnist_dir: Path) -> None:
    ds = load_mnist_idx(mnist_dir)
    assert ds.info.shape == (1, 28, 28) and ds.info.channels == 1 and ds.info.num_classes == 10
    assert ds.info.kind == "image" and ds.info.name == "mnist-idx"
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [110, 10, 20]

    ids = {s: identity(ds.split(s).x) for s in ("train", "val")}
    assert_partition(ids, N_MNIST_TRAIN)
    for s in ("train", "val"):
        split = ds.split(s)
        assert split.x.dtype == torch.float32 and split.y.dtype == torch.int64
        np.testing.assert_array_equal(split.y.numpy(), ids[s] % 10)  # each image kept its own label
    # Stratified: 12 of each digit, so the 10 val images are one of each.
    assert sorted(ds.split("val").y.tolist()) == list(range(10))

    test = ds.split("test")
    np.testing.assert_array_equal(identity(test.x), 200 + np.arange(N_MNIST_TEST))  # t10k, in file order
    np.testing.assert_array_equal(test.y.numpy(), np.arange(N_MNIST_TEST) % 10)

    x = ds.train.x
    assert torch.all(x[:, 0, 0, 1] == -1.0) and torch.all(x[:, 0, 0, 2] == 1.0)  # 0 -> -1, 255 -> 1
    assert np.all(pixels(x[:, 0, 3, 5]) == 3 * 9 + 5)  # row 3, column 5: not transposed
    assert np.all(pixels(x[:, 0, 27, 1]) == (27 * 9 + 1) % 256)
    assert np.all(pixels(x[:, 0, 1:]) == ((np.arange(1, 28)[:, None] * 9 + np.arange(28)) % 256))
    assert x.min() >= -1.0 and x.max() <= 1.0


def test_mnist_idx_is_deterministic_and_accepts_plain_or_gz(mnist_dir: Path, tmp_path: Path) -> None:
    a, b = load_mnist_idx(mnist_dir), load_mnist_idx(write_mnist(tmp_path / "m", gz=(False, True, True, False)))
    for s in ("train", "val", "test"):
        assert torch.equal(a.split(s).x, b.split(s).x) and torch.equal(a.split(s).y, b.split(s).y)


def test_mnist_idx_finds_torchvision_layout(mnist_dir: Path, tmp_path: Path) -> None:
    write_mnist(tmp_path / "MNIST" / "raw")
    assert torch.equal(load_mnist_idx(tmp_path).split("val").x, load_mnist_idx(mnist_dir).split("val").x)


@pytest.mark.parametrize("size, mode_check", [(32, "bilinear"), (14, "area")])
def test_mnist_idx_image_size(mnist_dir: Path, size: int, mode_check: str) -> None:
    ds = load_mnist_idx(mnist_dir, image_size=size)
    assert ds.info.shape == (1, size, size)
    assert ds.train.x.shape[1:] == (1, size, size) and ds.split("test").x.shape == (20, 1, size, size)
    assert ds.train.x.min() >= -1.0 and ds.train.x.max() <= 1.0
    if mode_check == "area":  # 28 -> 14: each output pixel is the mean of a 2x2 block
        full = load_mnist_idx(mnist_dir).train.x
        expected = full.reshape(-1, 1, 14, 2, 14, 2).mean(dim=(3, 5))
        torch.testing.assert_close(ds.train.x, expected, rtol=0, atol=1e-6)


def test_mnist_idx_missing_file_names_it_and_the_folder(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist")
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError) as e:
        load_mnist_idx(folder)
    assert str(e.value).startswith(f"{folder}: no t10k-labels-idx1-ubyte (or t10k-labels-idx1-ubyte.gz)")


def test_mnist_idx_count_mismatch(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist")
    write_idx(folder / "train-labels-idx1-ubyte", mnist_labels(N_MNIST_TRAIN - 1))
    with pytest.raises(DataError, match=r"labels-idx1-ubyte: holds 119 labels but train-images-idx3-ubyte holds 120"):
        load_mnist_idx(folder)


def test_mnist_idx_truncated_file_is_named(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "mnist")
    path = folder / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: truncated: header says 15,680 bytes of data"):
        load_mnist_idx(folder)


# --------------------------------------------------------------------------------------------------
# resize_images
# --------------------------------------------------------------------------------------------------


def test_resize_images_modes_and_crop() -> None:
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4) / 100 - 0.5
    assert resize_images(x, None) is x
    torch.testing.assert_close(resize_images(x, 2), x.reshape(2, 3, 2, 2, 2, 2).mean(dim=(3, 5)))  # area
    up = resize_images(x, 8)  # bilinear, align_corners=False: a constant image stays constant
    assert up.shape == (2, 3, 8, 8) and up.min() >= x.min() and up.max() <= x.max()
    torch.testing.assert_close(resize_images(torch.full((1, 1, 5, 5), 0.25), 9), torch.full((1, 1, 9, 9), 0.25))
    wide = torch.zeros(1, 1, 4, 8)
    wide[..., 2:6] = 1.0  # the centre 4x4 square is all ones, the margins zeros
    assert torch.equal(resize_images(wide, 4), torch.ones(1, 1, 4, 4))


# --------------------------------------------------------------------------------------------------
# load_cifar10
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar10_planes_labels_and_splits(tmp_path: Path, protocol: int) -> None:
    ds = load_cifar10(write_cifar(tmp_path / "cifar-10-batches-py", protocol=protocol))
    assert ds.info.shape == (3, 32, 32) and ds.info.channels == 3 and ds.info.num_classes == 10
    n = 2 * N_CIFAR_PER_BATCH
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [90, 10, 20]  # val = round(100 / 10)

    ids = {s: identity(ds.split(s).x, channel=0) for s in ("train", "val")}
    assert_partition(ids, n)
    for s in ("train", "val"):
        split = ds.split(s)
        np.testing.assert_array_equal(split.y.numpy(), ids[s] % N_CIFAR_PER_BATCH % 10)
        # The planes land in the right channels: green = 100 + i % 10, blue = 250 everywhere.
        np.testing.assert_array_equal(identity(split.x, 1), 100 + ids[s] % N_CIFAR_PER_BATCH % 10)
        assert np.all(pixels(split.x[:, 2]) == 250)
        assert torch.all(split.x[:, 0, 2, 5] == 1.0) and torch.all(split.x[:, 0, 5, 2] != 1.0)  # row 2, col 5
    assert sorted(ds.split("val").y.tolist()) == list(range(10))  # stratified: one of each class
    np.testing.assert_array_equal(identity(ds.split("test").x), np.arange(N_CIFAR_TEST))


def python2_cifar_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """A batch as Python 2's cPickle wrote the real files: str (not bytes) keys and raw data, and numpy 1's
    ``numpy.core.multiarray._reconstruct``, which numpy 2 no longer has under that name."""

    def string(b: bytes) -> bytes:
        return (b"U" + bytes([len(b)]) + b) if len(b) < 256 else (b"T" + len(b).to_bytes(4, "little") + b)

    def int_(v: int) -> bytes:
        return b"K" + bytes([v]) if v < 256 else b"M" + v.to_bytes(2, "little")

    array = (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + string(b"b") + b"\x87R"
        + b"(K\x01" + int_(data.shape[0]) + int_(data.shape[1]) + b"\x86"
        + b"cnumpy\ndtype\n" + string(b"u1") + b"K\x00K\x01\x87R"
        + b"(K\x03" + string(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
        + b"\x89" + string(data.tobytes()) + b"tb"
    )
    label_list = b"](" + b"".join(int_(v) for v in labels) + b"e"
    return b"\x80\x02}(" + string(b"data") + array + string(b"labels") + label_list + b"u."


def test_cifar10_reads_python2_pickles(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    for name, n, offset in [("data_batch_1", 20, 0), ("test_batch", 10, 100)]:
        batch = cifar_batch(n, offset)
        (folder / name).write_bytes(python2_cifar_pickle(batch[b"data"], batch[b"labels"]))
    ds = load_cifar10(folder)
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [18, 2, 10]
    np.testing.assert_array_equal(identity(ds.split("test").x), 100 + np.arange(10))
    np.testing.assert_array_equal(identity(ds.split("test").x, 1), 100 + np.arange(10) % 10)
    assert sorted(np.concatenate([identity(ds.split(s).x) for s in ("train", "val")]).tolist()) == list(range(20))


def test_cifar10_parent_folder_determinism_and_resize(tmp_path: Path) -> None:
    write_cifar(tmp_path / "cifar-10-batches-py")
    a, b = load_cifar10(tmp_path / "cifar-10-batches-py"), load_cifar10(tmp_path)
    for s in ("train", "val", "test"):
        assert torch.equal(a.split(s).x, b.split(s).x) and torch.equal(a.split(s).y, b.split(s).y)
    small = load_cifar10(tmp_path, image_size=16)
    assert small.info.shape == (3, 16, 16) and small.split("test").x.shape == (20, 3, 16, 16)
    torch.testing.assert_close(small.train.x, a.train.x.reshape(-1, 3, 16, 2, 16, 2).mean(dim=(3, 5)))


def test_cifar10_uses_the_batches_present(tmp_path: Path) -> None:
    ds = load_cifar10(write_cifar(tmp_path / "c", n_batches=1))
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [45, 5, 20]


def test_cifar10_needs_a_data_batch_and_a_test_batch(tmp_path: Path) -> None:
    folder = write_cifar(tmp_path / "c", n_batches=1)
    (folder / "test_batch").unlink()
    with pytest.raises(DataError, match=r"test_batch: file not found"):
        load_cifar10(folder)
    (folder / "data_batch_1").unlink()
    with pytest.raises(DataError, match=r"c: no data_batch_1..5 in this folder"):
        load_cifar10(folder)


class _Payload:
    """Pickles as a call of ``func(arg)``: what a malicious 'dataset' file would contain."""

    def __init__(self, func: object, arg: str) -> None:
        self.func, self.arg = func, arg

    def __reduce__(self) -> tuple:
        return (self.func, (self.arg,))


@pytest.mark.parametrize("attack", ["os.system", "builtins.exec"])
def test_cifar10_refuses_malicious_pickle_without_running_it(tmp_path: Path, attack: str) -> None:
    folder = write_cifar(tmp_path / "c", n_batches=1)
    marker = tmp_path / "pwned"
    payload = (
        _Payload(os.system, f"touch {marker}")
        if attack == "os.system"
        else _Payload(exec, f"open({str(marker)!r}, 'w').close()")
    )
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({b"data": payload, b"labels": [0]}, f, protocol=2)
    with pytest.raises(DataError) as e:
        load_cifar10(folder)
    msg = str(e.value)
    assert msg.startswith(f"{folder / 'data_batch_1'}: refused to unpickle")
    assert ("system" if attack == "os.system" else "exec") in msg  # protocol 2 names it __builtin__.exec
    assert not marker.exists()


def test_cifar10_truncated_or_wrong_batch_is_named(tmp_path: Path) -> None:
    folder = write_cifar(tmp_path / "c", n_batches=2)
    path = folder / "data_batch_2"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError, match=r"data_batch_2: corrupt or truncated pickle"):
        load_cifar10(folder)
    with open(path, "wb") as f:
        pickle.dump({b"data": np.zeros((3, 3072), np.uint8), b"fine_labels": [0, 1, 2]}, f)
    with pytest.raises(DataError, match=r"data_batch_2: has b'fine_labels' but no b'labels': this is CIFAR-100"):
        load_cifar10(folder)
    with open(path, "wb") as f:
        pickle.dump({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(DataError, match=r"data_batch_2: holds 3 images but 2 labels"):
        load_cifar10(folder)


# --------------------------------------------------------------------------------------------------
# load_image_folder
# --------------------------------------------------------------------------------------------------


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


def test_folder_labels_pixels_and_stratified_splits(tmp_path: Path) -> None:
    ds = load_image_folder(write_class_folder(tmp_path / "pets"))
    assert ds.info.shape == (3, 8, 8) and ds.info.num_classes == 2 and ds.info.name == "folder"
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [16, 2, 2]
    seen = []
    for s in ("train", "val", "test"):
        split = ds.split(s)
        red, green = identity(split.x, 0), identity(split.x, 1)
        np.testing.assert_array_equal(red, 100 * split.y.numpy())  # a_dog -> 0, b_cat -> 1
        assert np.all(pixels(split.x[:, 2, 0, 0]) == 7) and torch.all(split.x[:, 2, 1, 2] == 1.0)
        seen += list(zip(split.y.tolist(), (green // 10).tolist()))
        assert np.bincount(split.y.numpy(), minlength=2).tolist() == [len(split) // 2] * 2  # 8/1/1 per class
    assert sorted(seen) == [(c, j) for c in range(2) for j in range(10)]  # disjoint, and cover all 20


def test_folder_is_deterministic_and_resizes_mixed_sizes(tmp_path: Path) -> None:
    root = write_class_folder(tmp_path / "pets")
    a, b = load_image_folder(root), load_image_folder(root)
    for s in ("train", "val", "test"):
        assert torch.equal(a.split(s).x, b.split(s).x) and torch.equal(a.split(s).y, b.split(s).y)

    odd = write_png(root / "b_cat" / "wide.png", rgb_image(1, 3, size=(12, 6)))  # 12 wide, 6 high
    with pytest.raises(DataError) as e:
        load_image_folder(root)
    assert str(e.value).startswith(f"{odd}: image is 12x6 but 00.BMP is 8x8")
    assert "data.image_size=N" in str(e.value)
    ds = load_image_folder(root, image_size=4)
    assert ds.info.shape == (3, 4, 4) and sum(len(ds.split(s)) for s in ("train", "val", "test")) == 21


def test_folder_not_square_without_image_size(tmp_path: Path) -> None:
    for j in range(3):
        write_png(tmp_path / f"{j}.png", rgb_image(0, j, size=(10, 6)))
    with pytest.raises(DataError, match=r"0.png: images are 10x6 \(width x height\), not square; set data.image_size"):
        load_image_folder(tmp_path)
    ds = load_image_folder(tmp_path, image_size=6)  # center crop keeps columns 2..7
    assert ds.info.shape == (3, 6, 6)


def test_folder_unlabelled_grayscale(tmp_path: Path) -> None:
    for j in range(25):
        pixels = np.full((6, 6), j * 10, dtype=np.uint8)
        pixels[0, 1] = 255
        write_png(tmp_path / f"img{j:02d}.PNG", pixels)
    ds = load_image_folder(tmp_path)
    assert ds.info.shape == (1, 6, 6) and ds.info.num_classes == 0
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [21, 2, 2]  # round(2.5) is 2 in Python
    ids = [identity(ds.split(s).x) // 10 for s in ("train", "val", "test")]
    assert all(ds.split(s).y is None for s in ("train", "val", "test"))
    assert sorted(np.concatenate(ids).tolist()) == list(range(25))
    assert torch.all(ds.train.x[:, 0, 0, 1] == 1.0)


def test_folder_mixed_gray_and_rgb_becomes_rgb(tmp_path: Path) -> None:
    write_png(tmp_path / "a.png", np.full((4, 4), 51, dtype=np.uint8))
    write_png(tmp_path / "b.png", np.full((4, 4), 255, dtype=np.uint16))  # 16-bit gray
    write_png(tmp_path / "c.png", rgb_image(1, 2, size=(4, 4)))
    ds = load_image_folder(tmp_path)
    assert ds.info.shape == (3, 4, 4)
    x = torch.cat([ds.split(s).x for s in ("train", "val", "test")])
    values = sorted(np.unique(pixels(img)).tolist() for img in x)
    # 8-bit gray 51 copied to all three channels; 16-bit gray 255 scaled by 65535 (not clipped to 255,
    # which is what Pillow's convert("RGB") would do); the RGB image keeps its own values.
    assert values == [[1], [7, 20, 100, 255], [51]]
    gray8 = next(img for img in x if pixels(img).max() == 51)
    assert gray8.shape == (3, 4, 4) and torch.equal(gray8[0], gray8[1]) and torch.equal(gray8[1], gray8[2])


def test_folder_16bit_gray_stays_one_channel(tmp_path: Path) -> None:
    write_png(tmp_path / "a.png", np.array([[0, 65535], [65535, 0]], dtype=np.uint16))
    ds = load_image_folder(tmp_path)
    assert ds.info.shape == (1, 2, 2)
    assert torch.equal(ds.train.x[0, 0], torch.tensor([[-1.0, 1.0], [1.0, -1.0]]))


def test_folder_unreadable_image_is_named(tmp_path: Path) -> None:
    root = write_class_folder(tmp_path / "pets", n_per_class=3)
    bad = root / "a_dog" / "broken.png"
    bad.write_bytes(b"this is not a png")
    with pytest.raises(DataError, match=r"broken.png: Pillow cannot open this image"):
        load_image_folder(root)
    good = (root / "a_dog" / "01.png").read_bytes()
    bad.write_bytes(good[: len(good) // 2])  # valid header, cut data: fails when decoded
    with pytest.raises(DataError, match=r"broken.png: Pillow cannot read this image"):
        load_image_folder(root)


def test_folder_empty_cases(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"empty: no class folders and no images"):
        load_image_folder(tmp_path)
    (tmp_path / "cats").mkdir()
    write_png(tmp_path / "dogs" / "a.png", rgb_image(0, 0))
    with pytest.raises(DataError, match=r"cats: class folder holds no images"):
        load_image_folder(tmp_path)


# --------------------------------------------------------------------------------------------------
# Through the registry and the config
# --------------------------------------------------------------------------------------------------


def _all_files(tmp_path: Path) -> dict[str, Path]:
    return {
        "mnist-idx": write_mnist(tmp_path / "mnist"),
        "cifar10": write_cifar(tmp_path / "cifar"),
        "folder": write_class_folder(tmp_path / "pets"),
    }


def test_registry_builds_each_file_dataset(tmp_path: Path) -> None:
    import gankit.data.registry  # noqa: F401  (registers the datasets)
    from gankit.registry import DATASETS

    shapes = {"mnist-idx": (1, 32, 32), "cifar10": (3, 32, 32), "folder": (3, 32, 32)}
    for name, root in _all_files(tmp_path).items():
        ds = DATASETS.get(name)(DataConfig(name=name, root=root, image_size=32))
        assert ds.info.shape == shapes[name]
        with pytest.raises(ConfigError, match=rf"data.root: dataset '{name}' reads files; set data.root=PATH"):
            DATASETS.get(name)(DataConfig(name=name))


def test_build_dataset_from_config(tmp_path: Path) -> None:
    from gankit.config import load_config
    from gankit.data import build_dataset

    root = write_cifar(tmp_path / "cifar-10-batches-py")
    ds = build_dataset(load_config(overrides=["data.name=cifar10", f"data.root={tmp_path}"]).data)
    assert ds.info.shape == (3, 32, 32) and len(ds.split("test")) == N_CIFAR_TEST
    ds = build_dataset(load_config(overrides=["data.name=cifar10", f"data.root={root}", "data.image_size=16"]).data)
    assert ds.info.shape == (3, 16, 16)
