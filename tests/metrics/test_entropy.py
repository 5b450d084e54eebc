"""Kozachenko-Leonenko entropy against the closed-form Gaussian entropy."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.metrics.entropy import gaussian_entropy, kl_entropy


@pytest.mark.parametrize("d", [1, 3])
def test_gaussian_entropy_is_recovered_at_large_n(d: int) -> None:
    g = torch.Generator().manual_seed(d)
    A = torch.randn(d, d, generator=g, dtype=torch.float64) + 2 * torch.eye(d, dtype=torch.float64)
    x = torch.randn(6000, d, generator=g, dtype=torch.float64) @ A.T
    assert kl_entropy(x, k=3) == pytest.approx(gaussian_entropy(A @ A.T), abs=0.05)


def test_closed_form_and_scaling_law() -> None:
    assert gaussian_entropy(torch.eye(2)) == pytest.approx(math.log(2 * math.pi * math.e))
    x = torch.randn(500, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    # H(aX) = H(X) + d log a holds exactly for the estimator too (all distances scale by a).
    assert kl_entropy(3 * x) == pytest.approx(kl_entropy(x) + 2 * math.log(3), abs=1e-10)


def test_duplicates_give_minus_infinity() -> None:
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    assert kl_entropy(torch.cat([x, x, x, x]), k=3) == -math.inf
