"""Tests of gankit/data/cifar.py: every file here is written by the test itself."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.data.cifar import load_cifar10
from gankit.errors import DataError
from tests.data.file_writers import (
    N_CIFAR_PER_BATCH,
    N_CIFAR_TEST,
    assert_partition,
    cifar_batch,
    identity,
    pixels,
    write_cifar,
)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar10_planes_labels_and_splits(tmp_path: Path, protocol: int) -> None:
    ds = load_cifar10(write_cifar(tmp_path / "cifar-10-batches-py", protocol=protocol))
    assert ds.info.shape == (3, 32, 32) and ds.info.channels == 3 and ds.info.num_classes == 10
    n = 2 * N_CIFAR_PER_BATCH
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [90, 10, 20]  # val = round(100 / 10)

    ids = {s: identity(ds.split(s).float_x(), channel=0) for s in ("train", "val")}
    assert_partition(ids, n)
    for s in ("train", "val"):
        split = ds.split(s)
        np.testing.assert_array_equal(split.y.numpy(), ids[s] % N_CIFAR_PER_BATCH % 10)
        # The planes land in the right channels: green = 100 + i % 10, blue = 250 everywhere.
        np.testing.assert_array_equal(identity(split.float_x(), 1), 100 + ids[s] % N_CIFAR_PER_BATCH % 10)
        assert np.all(pixels(split.float_x()[:, 2]) == 250)
        assert torch.all(split.float_x()[:, 0, 2, 5] == 1.0) and torch.all(split.float_x()[:, 0, 5, 2] != 1.0)  # row 2, col 5
    assert sorted(ds.split("val").y.tolist()) == list(range(10))  # stratified: one of each class
    np.testing.assert_array_equal(identity(ds.split("test").float_x()), np.arange(N_CIFAR_TEST))


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
    np.testing.assert_array_equal(identity(ds.split("test").float_x()), 100 + np.arange(10))
    np.testing.assert_array_equal(identity(ds.split("test").float_x(), 1), 100 + np.arange(10) % 10)
    assert sorted(np.concatenate([identity(ds.split(s).float_x()) for s in ("train", "val")]).tolist()) == list(range(20))


def test_cifar10_parent_folder_determinism_and_resize(tmp_path: Path) -> None:
    write_cifar(tmp_path / "cifar-10-batches-py")
    a, b = load_cifar10(tmp_path / "cifar-10-batches-py"), load_cifar10(tmp_path)
    for s in ("train", "val", "test"):
        assert torch.equal(a.split(s).float_x(), b.split(s).float_x()) and torch.equal(a.split(s).y, b.split(s).y)
    small = load_cifar10(tmp_path, image_size=16)
    assert small.info.shape == (3, 16, 16) and small.split("test").float_x().shape == (20, 3, 16, 16)
    torch.testing.assert_close(small.train.float_x(), a.train.float_x().reshape(-1, 3, 16, 2, 16, 2).mean(dim=(3, 5)))


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


def test_cifar10_stores_codes_that_convert_to_the_old_floats(tmp_path: Path) -> None:
    from gankit.data.base import images_to_unit_range

    ds = load_cifar10(write_cifar(tmp_path / "c"))
    raw = np.concatenate([cifar_batch(N_CIFAR_PER_BATCH, b * N_CIFAR_PER_BATCH)[b"data"] for b in range(2)])
    old = images_to_unit_range(raw.reshape(-1, 3, 32, 32), 255.0)  # the float path: every pixel at load
    for s in ("train", "val"):
        split = ds.split(s)
        assert split.x.dtype == torch.uint8 and split.nbytes == len(split) * 3 * 32 * 32
        assert torch.equal(split.float_x(), old[identity(split.float_x())])  # red (0, 0) is the image's index
