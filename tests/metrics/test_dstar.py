"""D* check: exact for a discriminator set to D*, and a KDE that integrates to one."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.data.toy import GaussianMixture
from gankit.metrics.dstar import dstar_check, grid_points, kde_density, scott_bandwidth

BOUNDS_2D = [(-4.0, 4.0), (-4.0, 4.0)]


def _setup() -> tuple[GaussianMixture, torch.Tensor]:
    data = GaussianMixture(torch.tensor([[-1.0, 0.0], [1.0, 0.5]], dtype=torch.float64), std=0.5)
    fake = torch.randn(800, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.8
    return data, fake


def _optimal(data: GaussianMixture, fake: torch.Tensor, bounds: list[tuple[float, float]], size: int):
    # D* from the very densities the check uses (grid-renormalised; the common factors cancel pointwise).
    points, cell = grid_points(bounds, size)
    p_data = data.log_prob(points).exp()
    p_data = p_data / (p_data.sum() * cell)
    p_g = kde_density(fake, points)
    p_g = p_g / (p_g.sum() * cell)
    table = {tuple(p.tolist()): float(a / (a + b)) for p, a, b in zip(points, p_data, p_g)}
    return lambda x: torch.tensor([table[tuple(p.double().tolist())] for p in x])


def test_discriminator_set_to_dstar_is_exact() -> None:
    data, fake = _setup()
    size = 41  # grid points in float32 -> float64 round trip must hit the table: use representable steps
    chk = dstar_check(_optimal(data, fake, BOUNDS_2D, size), data.log_prob, fake, BOUNDS_2D, grid_size=size)
    assert chk.mae == pytest.approx(0.0, abs=1e-7)
    assert chk.value == pytest.approx(chk.value_optimal, abs=1e-6)
    assert chk.value_optimal == pytest.approx(-math.log(4) + 2 * chk.jsd, abs=1e-12)
    assert 0 < chk.jsd < math.log(2)


def test_constant_half_discriminator_scores_minus_log4_and_is_worse_than_dstar() -> None:
    data, fake = _setup()
    chk = dstar_check(lambda x: torch.full((len(x),), 0.5), data.log_prob, fake, BOUNDS_2D, grid_size=41)
    assert chk.value == pytest.approx(-math.log(4), abs=1e-9)
    assert chk.value < chk.value_optimal
    assert chk.mae > 0.05


def test_kde_integrates_to_one_and_uses_scott_bandwidth_in_1d() -> None:
    x = torch.randn(400, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    points, cell = grid_points([(-8.0, 8.0)], 2001)
    assert float(kde_density(x, points).sum() * cell) == pytest.approx(1.0, abs=1e-6)
    assert float(scott_bandwidth(x)[0]) == pytest.approx(float(x.std()) * 400 ** (-1 / 5))


def test_rejects_3d_samples() -> None:
    with pytest.raises(ValueError, match=r"\(N, 1\) or \(N, 2\)"):
        dstar_check(lambda x: x[:, 0], lambda x: x[:, 0], torch.zeros(5, 3), [(0, 1)] * 3)
