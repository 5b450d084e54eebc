"""FID_inf: the extrapolation recovers an exact line, and FID_inf of a sample against its own law is ~0."""

from __future__ import annotations

import pytest
import torch

from gankit.metrics.fid_inf import extrapolate, fid_infinity


def test_extrapolation_recovers_intercept_and_slope_of_exact_line() -> None:
    ns = [100, 200, 400, 800]
    intercept, slope = extrapolate(ns, [3.0 + 250.0 / n for n in ns])
    assert intercept == pytest.approx(3.0, abs=1e-10)
    assert slope == pytest.approx(250.0, rel=1e-10)


def test_fid_inf_of_equal_distributions_leaves_only_the_real_side_bias() -> None:
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(4000, 8, generator=g), torch.randn(2000, 8, generator=g)
    fit = fid_infinity(real, fake, [400, 800, 1200, 1600, 2000])
    assert all(a > b for a, b in zip(fit.fids, fit.fids[1:]))  # the bias shrinks with N
    # FID of one law has expectation c (1/N_real + 1/N): the intercept keeps the real side's c/N_real.
    want = fit.fids[-1] * (1 / 4000) / (1 / 4000 + 1 / 2000)
    assert 0.5 * want < fit.fid_inf < 1.5 * want
    assert fit.slope > 0


def test_needs_two_distinct_sizes_and_enough_samples() -> None:
    with pytest.raises(ValueError, match="two or more"):
        extrapolate([100, 100], [1.0, 1.0])
    with pytest.raises(ValueError, match="exceeds"):
        fid_infinity(torch.randn(10, 2), torch.randn(10, 2), [5, 20])
