"""Is the trained discriminator optimal? A check on 1D/2D data whose density is known.

For a fixed G the optimal discriminator of the original GAN is (Goodfellow et al. 2014, Prop. 1)

    D*(x) = p_data(x) / (p_data(x) + p_g(x)),

and at D* the value function is V(D*, G) = -log 4 + 2 JSD(p_data || p_g) (Theorem 1). Here p_data is
exact (the toy datasets have ``log_prob``) and p_g is estimated from generated samples by a Gaussian
kernel density estimate (Scott's rule bandwidth per dimension, Scott 1992: h_j = std_j N^(-1/(d+4))).
On a regular grid over ``bounds`` both densities are renormalised to integrate to 1 on the grid
(so the identity above holds exactly for the grid densities), then:

- MAE: mean |D(x) - D*(x)| weighted by the mixture density (p_data + p_g) / 2: where neither
  distribution has mass, D* is undefined and D is never trained, so those points do not count;
- V(D, G) = integral p_data log D + p_g log(1 - D) on the grid, beside -log 4 + 2 JSD (= V(D*, G)).
  V(D, G) <= V(D*, G) always; the difference measures how far D is from optimal in value.

``d_prob`` maps float64 points (P, d) to D's probability of "real" (sigmoid of the logit for the GAN objectives).

Example::

    check = dstar_check(lambda x: torch.sigmoid(D(x)), dataset.log_prob, fake, bounds=[(-3, 3), (-3, 3)])
    check.mae, check.value, check.value_optimal
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

Density = Callable[[torch.Tensor], torch.Tensor]


def grid_points(bounds: list[tuple[float, float]], size: int) -> tuple[torch.Tensor, float]:
    """(points (size^d, d) float64 on a regular grid over ``bounds``, volume of one cell)."""
    axes = [torch.linspace(lo, hi, size, dtype=torch.float64) for lo, hi in bounds]
    mesh = torch.meshgrid(*axes, indexing="ij")
    cell = math.prod((hi - lo) / (size - 1) for lo, hi in bounds)
    return torch.stack([m.flatten() for m in mesh], dim=1), cell


def scott_bandwidth(samples: torch.Tensor) -> torch.Tensor:
    """Per-dimension Gaussian KDE bandwidth std_j * N^(-1/(d+4)) (Scott's rule)."""
    n, d = samples.shape
    return samples.std(0) * n ** (-1.0 / (d + 4))


def kde_density(samples: torch.Tensor, points: torch.Tensor, bandwidth: torch.Tensor | None = None,
                chunk: int = 4096) -> torch.Tensor:
    """Gaussian product-kernel density estimate of ``samples`` (N, d) at ``points`` (P, d), float64."""
    x = torch.as_tensor(samples, dtype=torch.float64)
    h = scott_bandwidth(x) if bandwidth is None else torch.as_tensor(bandwidth, dtype=torch.float64)
    log_norm = -float(torch.log(h).sum()) - x.shape[1] / 2 * math.log(2 * math.pi) - math.log(len(x))
    out = []
    for p in torch.as_tensor(points, dtype=torch.float64).split(chunk):
        sq = (((p[:, None, :] - x[None, :, :]) / h) ** 2).sum(-1)  # (c, N)
        out.append(torch.logsumexp(-0.5 * sq, dim=1) + log_norm)
    return torch.cat(out).exp()


@dataclass
class DStarCheck:
    """Trained D vs the optimal D* on a grid (see module docstring)."""

    mae: float
    value: float  # V(D, G) on the grid
    value_optimal: float  # V(D*, G) = -log 4 + 2 JSD
    jsd: float
    grid_size: int
    bandwidth: list[float]


def dstar_check(
    d_prob: Density,
    log_prob_data: Density,
    fake: torch.Tensor,
    bounds: list[tuple[float, float]],
    grid_size: int = 200,
    bandwidth: torch.Tensor | None = None,
) -> DStarCheck:
    """Compare ``d_prob`` with D* = p_data / (p_data + p_g), p_g a KDE of ``fake`` (N, d), d in {1, 2}."""
    fake = torch.as_tensor(fake, dtype=torch.float64)
    if fake.ndim != 2 or fake.shape[1] != len(bounds) or fake.shape[1] not in (1, 2):
        raise ValueError(f"the D* check takes (N, 1) or (N, 2) samples with one bound per dim, got {tuple(fake.shape)}")
    h = scott_bandwidth(fake) if bandwidth is None else torch.as_tensor(bandwidth, dtype=torch.float64)
    points, cell = grid_points(bounds, grid_size)
    p_data = log_prob_data(points).to(torch.float64).exp()
    p_g = kde_density(fake, points, h)
    # Renormalise on the grid so that both integrate to exactly 1 there: the identity V(D*) = -log 4 + 2 JSD
    # then holds for the very densities used, and truncation of the tails does not bias the comparison.
    p_data, p_g = p_data / (p_data.sum() * cell), p_g / (p_g.sum() * cell)
    mix = (p_data + p_g) / 2
    d_star = torch.where(mix > 0, p_data / (2 * mix).clamp(min=torch.finfo(torch.float64).tiny), torch.full_like(mix, 0.5))
    with torch.no_grad():
        d = d_prob(points).to(torch.float64).reshape(-1)
    mae = float((mix * (d - d_star).abs()).sum() / mix.sum())

    def xlogy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # x log y with 0 log 0 = 0
        return torch.where(x > 0, x * y.clamp(min=torch.finfo(torch.float64).tiny).log(), torch.zeros_like(x))

    value = float((xlogy(p_data, d) + xlogy(p_g, 1 - d)).sum() * cell)
    jsd = float(0.5 * (xlogy(p_data, p_data / mix) + xlogy(p_g, p_g / mix)).sum() * cell)
    return DStarCheck(mae, value, -math.log(4) + 2 * jsd, jsd, grid_size, [float(v) for v in h])


__all__ = ["DStarCheck", "dstar_check", "grid_points", "kde_density", "scott_bandwidth"]
