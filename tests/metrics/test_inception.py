"""FID Inception-v3 loader: round trip on a weights file the test writes, checksum and offline errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from gankit.errors import GankitError
from gankit.metrics.extractor import WeightsError
from gankit.metrics.inception import (
    FEATURE_DIM,
    FIDInceptionV3,
    load_inception,
    preprocess,
)


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> tuple[Path, str, dict[str, torch.Tensor]]:
    """Random weights with the state_dict keys and shapes of pt_inception-2015-12-05 (no num_batches_tracked)."""
    torch.manual_seed(0)
    state = {k: v for k, v in FIDInceptionV3().state_dict().items() if not k.endswith("num_batches_tracked")}
    path = tmp_path_factory.mktemp("inception") / "pt_inception-test.pth"
    torch.save(state, path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest(), state


def test_round_trip_loads_every_tensor_and_fingerprints_the_file(weights) -> None:
    path, digest, state = weights
    ext = load_inception(path, sha256=digest)
    assert ext.sha256 == digest and ext.dim == FEATURE_DIM and ext.name == "inception-v3-fid"
    loaded = ext.net.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    assert ext.net.fc.weight.shape == (1008, 2048)


def test_checksum_mismatch_and_unpublished_file_are_errors(weights) -> None:
    path, _, _ = weights
    with pytest.raises(WeightsError, match="expected 000000000000"):
        load_inception(path, sha256="0" * 64)
    with pytest.raises(WeightsError, match="6726825d"):  # no sha256 given: the published prefix is required
        load_inception(path)


def test_missing_file_says_where_to_put_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    monkeypatch.delenv("GANKIT_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(GankitError, match=f"not found at {tmp_path}/pt_inception-2015-12-05-6726825d.pth"):
        load_inception()


def test_wrong_keys_or_shapes_are_errors(tmp_path, weights) -> None:
    _, _, state = weights
    bad = dict(state)
    bad["fc.weight"] = torch.zeros(1000, 2048)
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(WeightsError, match="fc.weight"):
        load_inception(tmp_path / "bad.pth", sha256=hashlib.sha256((tmp_path / "bad.pth").read_bytes()).hexdigest())
    torch.save({"fc.bias": torch.zeros(1008)}, tmp_path / "missing.pth")  # small file: most keys absent
    with pytest.raises(WeightsError, match="missing"):
        load_inception(tmp_path / "missing.pth", sha256=hashlib.sha256((tmp_path / "missing.pth").read_bytes()).hexdigest())


def test_preprocess_matches_pytorch_fid_scaling() -> None:
    x = torch.full((2, 1, 8, 8), 0.5)
    out = preprocess(x)
    assert out.shape == (2, 3, 299, 299)
    assert torch.allclose(out, torch.full_like(out, 0.5), atol=1e-6)  # constant images stay constant
