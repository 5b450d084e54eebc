"""Issue 19, data class: files whose declared sizes lie. Each is one DataError line naming the file, raised
before anything of the declared size is allocated."""

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

from gankit.data.cifar import load_cifar10
from gankit.data.idx import load_mnist_idx, read_idx
from gankit.errors import DataError
from tests.data.file_writers import cifar_batch, idx_bytes, write_cifar, write_idx, write_mnist


def test_idx_set_with_zero_images(tmp_path):
    root = write_mnist(tmp_path / "mnist")
    write_idx(root / "train-images-idx3-ubyte", np.zeros((0, 28, 28), np.uint8))
    write_idx(root / "train-labels-idx1-ubyte", np.zeros((0,), np.uint8))
    with pytest.raises(DataError, match="train-images-idx3-ubyte: holds no images"):
        load_mnist_idx(root)


def test_idx_header_declaring_terabytes(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_MEMORY_LIMIT_MB", "1024")
    header = bytes([0, 0, 0x08, 3]) + np.asarray([2**32 - 1, 28, 28], ">u4").tobytes()
    plain = tmp_path / "plain"
    plain.write_bytes(header + b"\0" * 100)
    with pytest.raises(DataError, match=r"plain: truncated: header says 3,[\d,]+ bytes of data, file holds 100"):
        read_idx(plain)
    gz = tmp_path / "bomb.gz"  # a small gzip whose header claims 3 TB: refused before inflating anything
    gz.write_bytes(gzip.compress(header + b"\0" * 100))
    with pytest.raises(DataError, match=r"bomb.gz: needs about 3\.\d TiB of memory \(its IDX header declares"):
        read_idx(gz)


def test_gzipped_idx_with_trailing_data_and_short_data(tmp_path):
    good = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))
    (tmp_path / "long.gz").write_bytes(gzip.compress(good + b"xyz"))
    with pytest.raises(DataError, match="bytes of trailing garbage"):
        read_idx(tmp_path / "long.gz")
    (tmp_path / "short.gz").write_bytes(gzip.compress(good[:-2]))
    with pytest.raises(DataError, match="truncated: header says 12 bytes of data, file holds \\(after gunzip\\) 10"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "ok.gz").write_bytes(gzip.compress(good))
    assert read_idx(tmp_path / "ok.gz").tolist() == np.arange(12).reshape(3, 4).tolist()


class _Huge:
    """Pickles as numpy.ndarray((10**12,), 'u1'): only allowed names, a terabyte when called."""

    def __reduce__(self):
        return np.ndarray, ((10**12,), "u1")


class _HugeReconstruct:
    def __reduce__(self):
        try:  # the function a real CIFAR pickle names (numpy 2, then numpy 1)
            from numpy._core.multiarray import _reconstruct
        except ImportError:  # pragma: no cover
            from numpy.core.multiarray import _reconstruct
        return _reconstruct, (np.ndarray, (10**12,), b"b")


@pytest.mark.parametrize("huge", [_Huge, _HugeReconstruct])
def test_cifar_pickle_of_allowed_names_asking_for_a_terabyte(tmp_path, huge):
    root = write_cifar(tmp_path / "cifar-10-batches-py", n_batches=1)
    batch = cifar_batch(10, 0) | {b"data": huge()}
    (root / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DataError, match=r"data_batch_1: the pickle asks for an array of 1,000,000,000,000 bytes, "
                                        r"more than the file's \d+ bytes"):
        load_cifar10(root)
