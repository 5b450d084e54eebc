"""Precision/recall/density/coverage: against a brute-force reading of the papers and the `prdc` package."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.metrics.prdc import PRDC, prdc


def _brute_force(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """Kynkaanniemi et al. Eq. 1-2 and Naeem et al. Eq. 3-4 with explicit loops over points."""

    def dist(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sqrt(((a - b) ** 2).sum()))

    def radius(points: np.ndarray, i: int) -> float:
        others = sorted(dist(points[i], points[j]) for j in range(len(points)) if j != i)
        return others[k - 1]

    r_real = [radius(real, i) for i in range(len(real))]
    r_fake = [radius(fake, j) for j in range(len(fake))]
    precision = np.mean([any(dist(f, real[i]) < r_real[i] for i in range(len(real))) for f in fake])
    recall = np.mean([any(dist(r, fake[j]) < r_fake[j] for j in range(len(fake))) for r in real])
    density = np.mean([sum(dist(f, real[i]) < r_real[i] for i in range(len(real))) for f in fake]) / k
    coverage = np.mean([min(dist(real[i], f) for f in fake) < r_real[i] for i in range(len(real))])
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


def _data(seed: int, n_real: int = 60, n_fake: int = 50, d: int = 4, shift: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_real, d)), rng.normal(size=(n_fake, d)) * 1.3 + shift


@pytest.mark.parametrize("seed,k", [(0, 3), (1, 5)])
def test_prdc_equals_brute_force_definitions(seed: int, k: int) -> None:
    real, fake = _data(seed)
    got = prdc(torch.from_numpy(real), torch.from_numpy(fake), k=k, chunk=7)  # small chunks: boundaries exercised
    want = _brute_force(real, fake, k)
    assert got == pytest.approx(want, abs=1e-12)
    assert 0 < got["precision"] < 1 and 0 < got["coverage"] < 1  # the case is not degenerate


def test_prdc_equals_reference_package() -> None:
    prdc_ref = pytest.importorskip("prdc")
    real, fake = _data(2, 200, 150, 8, shift=0.3)
    want = prdc_ref.compute_prdc(real.astype(np.float32), fake.astype(np.float32), nearest_k=5)
    got = prdc(torch.from_numpy(real), torch.from_numpy(fake), k=5)
    assert got == pytest.approx({k: float(v) for k, v in want.items()}, abs=1e-12)


def test_identical_sets_give_full_scores_and_far_sets_zero() -> None:
    real = torch.randn(80, 3, generator=torch.Generator().manual_seed(3))
    same = prdc(real, real.clone(), k=4)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = prdc(real, real + 100.0, k=4)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_object_updates_in_batches_equal_function() -> None:
    real, fake = (torch.from_numpy(a) for a in _data(4))
    metric = PRDC(k=3)
    for chunk in real.split(25):
        metric.update(chunk, real=True)
    metric.update(fake[:20], real=False)
    metric.update(fake[20:], real=False)
    assert metric.compute() == prdc(real, fake, k=3)
    metric.reset(keep_real=True)
    with pytest.raises(ValueError, match="real and fake"):
        metric.compute()
