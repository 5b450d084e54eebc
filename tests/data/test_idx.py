"""Tests of gankit/data/idx.py: every file here is written by the test itself."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.data.idx import load_mnist_idx, read_idx
from gankit.errors import DataError
from tests.data.file_writers import (
    IDX_CODES,
    N_MNIST_TEST,
    N_MNIST_TRAIN,
    assert_partition,
    identity,
    idx_bytes,
    mnist_labels,
    pixels,
    write_idx,
    write_mnist,
)


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

    ids = {s: identity(ds.split(s).float_x()) for s in ("train", "val")}
    assert_partition(ids, N_MNIST_TRAIN)
    for s in ("train", "val"):
        split = ds.split(s)
        assert split.float_x().dtype == torch.float32 and split.y.dtype == torch.int64
        np.testing.assert_array_equal(split.y.numpy(), ids[s] % 10)  # each image kept its own label
    # Stratified: 12 of each digit, so the 10 val images are one of each.
    assert sorted(ds.split("val").y.tolist()) == list(range(10))

    test = ds.split("test")
    np.testing.assert_array_equal(identity(test.float_x()), 200 + np.arange(N_MNIST_TEST))  # t10k, in file order
    np.testing.assert_array_equal(test.y.numpy(), np.arange(N_MNIST_TEST) % 10)

    x = ds.train.float_x()
    assert torch.all(x[:, 0, 0, 1] == -1.0) and torch.all(x[:, 0, 0, 2] == 1.0)  # 0 -> -1, 255 -> 1
    assert np.all(pixels(x[:, 0, 3, 5]) == 3 * 9 + 5)  # row 3, column 5: not transposed
    assert np.all(pixels(x[:, 0, 27, 1]) == (27 * 9 + 1) % 256)
    assert np.all(pixels(x[:, 0, 1:]) == ((np.arange(1, 28)[:, None] * 9 + np.arange(28)) % 256))
    assert x.min() >= -1.0 and x.max() <= 1.0


def test_mnist_idx_is_deterministic_and_accepts_plain_or_gz(mnist_dir: Path, tmp_path: Path) -> None:
    a, b = load_mnist_idx(mnist_dir), load_mnist_idx(write_mnist(tmp_path / "m", gz=(False, True, True, False)))
    for s in ("train", "val", "test"):
        assert torch.equal(a.split(s).float_x(), b.split(s).float_x()) and torch.equal(a.split(s).y, b.split(s).y)


def test_mnist_idx_finds_torchvision_layout(mnist_dir: Path, tmp_path: Path) -> None:
    write_mnist(tmp_path / "MNIST" / "raw")
    assert torch.equal(load_mnist_idx(tmp_path).split("val").float_x(), load_mnist_idx(mnist_dir).split("val").float_x())


@pytest.mark.parametrize("size, mode_check", [(32, "bilinear"), (14, "area")])
def test_mnist_idx_image_size(mnist_dir: Path, size: int, mode_check: str) -> None:
    ds = load_mnist_idx(mnist_dir, image_size=size)
    assert ds.info.shape == (1, size, size)
    assert ds.train.float_x().shape[1:] == (1, size, size) and ds.split("test").float_x().shape == (20, 1, size, size)
    assert ds.train.float_x().min() >= -1.0 and ds.train.float_x().max() <= 1.0
    if mode_check == "area":  # 28 -> 14: each output pixel is the mean of a 2x2 block
        full = load_mnist_idx(mnist_dir).train.float_x()
        expected = full.reshape(-1, 1, 14, 2, 14, 2).mean(dim=(3, 5))
        torch.testing.assert_close(ds.train.float_x(), expected, rtol=0, atol=1e-6)


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


@pytest.mark.parametrize("size", [None, 28, 14])
def test_mnist_idx_stores_codes_that_convert_to_the_old_floats(mnist_dir: Path, size: int | None) -> None:
    from gankit.data.base import images_to_unit_range, stratified_split
    from gankit.data.digits import SPLIT_SEED
    from gankit.data.resize import resize_images

    ds = load_mnist_idx(mnist_dir, image_size=size)
    raw = {"train": read_idx(mnist_dir / "train-images-idx3-ubyte.gz"), "test": read_idx(mnist_dir / "t10k-images-idx3-ubyte")}
    labels = read_idx(mnist_dir / "train-labels-idx1-ubyte")
    # The float path every figure so far was measured on: convert all pixels at load, then resize.
    old = {s: resize_images(images_to_unit_range(a[:, None], 255.0), size) for s, a in raw.items()}
    parts = stratified_split(labels, {"train": 110, "val": 10}, SPLIT_SEED)
    for s in ("train", "val", "test"):
        split = ds.split(s)
        expected = old["test"] if s == "test" else old["train"][torch.from_numpy(parts[s])]
        assert split.x.dtype == (torch.float32 if size == 14 else torch.uint8)  # a 28 -> 14 resize averages
        assert torch.equal(split.float_x(), expected)
