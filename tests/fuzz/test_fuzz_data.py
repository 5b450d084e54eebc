"""Fuzz: generated IDX headers (plain and gzipped) and CIFAR pickles. Reading gives an array or one
DataError line; nothing larger than the file (or the machine) is allocated."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from gankit.data.cifar import load_cifar10
from gankit.data.idx import read_idx
from gankit.errors import DataError
from tests.data.file_writers import cifar_batch, write_cifar
from tests.fuzz.conftest import budget

CODES = st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]) | st.integers(0, 255)


@budget(100)
@given(magic=st.sampled_from([b"\0\0"]) | st.binary(min_size=0, max_size=2), code=CODES, ndim=st.integers(0, 6),
       dims=st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 5), max_size=6), payload=st.binary(max_size=200),
       zipped=st.booleans(), cut=st.none() | st.integers(0, 300))
def test_idx_headers(magic, code, ndim, dims, payload, zipped, cut, tmp_path_factory):
    raw = magic + bytes([code, ndim]) + np.asarray(dims, dtype=">u4").tobytes() + payload
    data = gzip.compress(raw) if zipped else raw
    if cut is not None:
        data = data[:cut]
    path = tmp_path_factory.mktemp("idx") / "f"
    path.write_bytes(data)
    try:
        array = read_idx(path)
    except DataError as e:
        assert "\n" not in str(e) and len(str(e)) < 700
        return
    assert array.nbytes <= len(raw)  # never more than the file held


def _array_strategy():
    dtypes = st.sampled_from(["u1", "i8", "f4", "u2", "?"])
    return st.builds(lambda shape, dt: np.zeros(shape, dtype=dt),
                     st.lists(st.integers(0, 40), max_size=3).map(tuple), dtypes)


PIECES = (st.none() | st.integers(-5, 20) | st.text(max_size=5) | st.binary(max_size=5) | _array_strategy()
          | st.lists(st.integers(-3, 12), max_size=60))


@budget(40)
@given(data=PIECES, labels=PIECES, extra=st.dictionaries(st.binary(max_size=6), PIECES, max_size=2),
       protocol=st.sampled_from([2, 4]), cut=st.none() | st.integers(0, 4000), top=st.booleans())
def test_cifar_pickles(data, labels, extra, protocol, cut, top, tmp_path_factory):
    root = write_cifar(tmp_path_factory.mktemp("cifar") / "cifar-10-batches-py", n_batches=1)
    batch = cifar_batch(10, 0) | {b"data": data, b"labels": labels} | extra
    raw = pickle.dumps(batch if top else [batch], protocol=protocol)
    (root / "data_batch_1").write_bytes(raw if cut is None else raw[:cut])
    try:
        load_cifar10(root)
    except DataError as e:
        assert "\n" not in str(e) and len(str(e)) < 700
