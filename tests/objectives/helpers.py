"""Shared test helpers: two known distributions on a fine grid, weighted expectations, every objective."""

from __future__ import annotations

import math

import torch

from gankit import plugins  # noqa: F401  (fills the registries)
from gankit.objectives.base import Objective
from gankit.registry import OBJECTIVES


def two_gaussians(n: int = 4001) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(grid, p, q): N(0, 1) and N(1.5, 0.8^2) discretised on [-12, 12], each normalised to sum 1."""
    x = torch.linspace(-12.0, 12.0, n, dtype=torch.float64)

    def normal(mu: float, sigma: float) -> torch.Tensor:
        w = torch.exp(-0.5 * ((x - mu) / sigma) ** 2)
        return w / w.sum()

    return x, normal(0.0, 1.0), normal(1.5, 0.8)


def expect(weights: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """E_w[values] = sum_i w_i values_i for a probability vector w."""
    assert abs(float(weights.sum()) - 1.0) < 1e-12
    return (weights * values).sum()


def per_point(fn, out: torch.Tensor) -> torch.Tensor:
    """Apply a batch-mean function to each point on its own: (fn(out[0:1]), fn(out[1:2]), ...)."""
    return torch.vmap(lambda o: fn(o[None]))(out)


def jsd(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    m = (p + q) / 2
    return 0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum()


LOG4 = math.log(4.0)

# Objectives that need constructor arguments to be interesting are listed with them; every registered
# objective appears at least once (a test checks that).
EXTRA = {"fgan": [{"divergence": d} for d in ("kl", "reverse-kl", "pearson", "hellinger", "js", "gan",
                                              "total-variation")],
         "lsgan": [{}, {"a": -1, "b": 1, "c": 0}],
         "gls-gan": [{"slope": 0.0}, {"slope": 0.5}, {"slope": 1.0}]}


def all_objectives() -> list[Objective]:
    return [OBJECTIVES.get(n)(**kw) for n in OBJECTIVES.names() for kw in EXTRA.get(n, [{}])]


def toward_real(obj: Objective) -> float:
    """+1 if a higher output means "more real" for this objective, -1 if lower (energies, losses)."""
    hi = bool(obj.says_real(torch.tensor([50.0])))
    lower = [bool(obj.says_real(torch.tensor([v]))) for v in (0.0, -50.0)]  # energies stop at 0
    assert any(r != hi for r in lower), f"{obj!r}: says_real does not separate large from small outputs"
    return 1.0 if hi else -1.0


def losses(obj: Objective, real_out: torch.Tensor, fake_out: torch.Tensor, fake_for_g: torch.Tensor,
           seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(d_loss, g_loss) through the interface the plain GAN step uses, with made-up samples/codes."""
    g = torch.Generator().manual_seed(seed)
    n = len(real_out)
    if obj.needs_samples:
        real, fake = torch.randn(n, 2, generator=g), torch.randn(n, 2, generator=g) + 3.0
        d = obj.d_loss(real_out, fake_out, real=real, fake=fake)
    else:
        d = obj.d_loss(real_out, fake_out)
    if obj.needs_embeddings:
        return d, obj.g_loss(fake_for_g, embeddings=torch.randn(len(fake_for_g), 5, generator=g))
    return d, obj.g_loss(fake_for_g)
