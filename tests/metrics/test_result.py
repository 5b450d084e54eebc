"""Fingerprints and the real-statistics cache."""

from __future__ import annotations

import torch

from gankit.metrics.extractor import load_extractor
from gankit.metrics.result import (
    MetricResult,
    cached_tensors,
    fingerprint,
    fingerprint_hash,
)


def test_fingerprint_names_everything_and_its_hash_is_stable() -> None:
    ext = load_extractor("digit-digits")
    fp = fingerprint("fid", "digits", "test", 100, 100, seed=3, extractor=ext)
    for key in ("metric", "dataset", "split", "n_generated", "n_real", "extractor", "extractor_sha256",
                "preprocessing", "seed", "gankit_version"):
        assert fp[key] is not None
    assert fp["extractor_sha256"] == ext.sha256
    assert fingerprint_hash(fp) == fingerprint_hash(dict(reversed(fp.items())))
    assert fingerprint_hash(fp) != fingerprint_hash({**fp, "seed": 4})
    line = MetricResult("fid", {"fid": 1.0}, fp, "FID 1.000").line()
    assert "digits test" in line and ext.sha256[:12] in line and "seed 3" in line


def test_cache_computes_once_and_reloads_identical_tensors(tmp_path) -> None:
    calls = []

    def compute() -> dict[str, torch.Tensor]:
        calls.append(1)
        return {"features": torch.arange(6.0).reshape(2, 3)}

    fp = {"metric": "real-features", "n": 2}
    first = cached_tensors(fp, compute, tmp_path)
    second = cached_tensors(fp, compute, tmp_path)
    assert len(calls) == 1 and torch.equal(first["features"], second["features"])
    assert len(list(tmp_path.glob("stats-*.safetensors"))) == 1 and len(list(tmp_path.glob("stats-*.json"))) == 1
    cached_tensors({**fp, "n": 3}, compute, tmp_path)  # another fingerprint: another entry
    assert len(calls) == 2
