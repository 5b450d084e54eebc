"""Singular values of the generator's Jacobian dG/dz: where is G's tangent space collapsed?

At a latent point z, J(z) = dG(z)/dz is a (D_out x d) matrix whose column space is the tangent
space of the generated manifold. If some singular values are (near) zero, moving z in those
directions changes nothing: the generator has locally collapsed dimensions. Localized GAN (Qi et
al., CVPR 2018; BENCHMARKS section 7) penalises J^T J - I to prevent exactly this "local collapse".

Reported over points z sampled from G's prior:

- the singular values per point (descending), their mean over points;
- the numerical rank: singular values above ``rank_tol`` x the largest one at that point;
- the effective rank (Roy & Vetterli 2007): exp(entropy of s / sum(s)), a smooth count of the
  directions that matter;
- the share of rank-deficient points: numerical rank < min(D_out, d).

J is computed exactly with torch.func (``vmap(jacrev(G))``), falling back to one autograd Jacobian
per point for a G that vmap cannot trace. G runs in eval mode (BatchNorm uses its running stats, so
each point's Jacobian is its own).

Example::

    spec = jacobian_spectrum(G, model.prior.sample(64, seed=0))
    spec.mean_effective_rank, spec.rank_deficient_share
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class JacobianSpectrum:
    """Per-point singular values (P, min(D_out, d)) and the summaries described in the module docstring."""

    singular_values: torch.Tensor
    ranks: torch.Tensor
    effective_ranks: torch.Tensor
    full_rank: int
    rank_tol: float

    @property
    def mean_rank(self) -> float:
        return float(self.ranks.double().mean())

    @property
    def mean_effective_rank(self) -> float:
        return float(self.effective_ranks.mean())

    @property
    def rank_deficient_share(self) -> float:
        return float((self.ranks < self.full_rank).double().mean())


def jacobians(G: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """dG/dz at each row of z (P, d) -> (P, D_out, d) float32, D_out = G's flattened output size."""

    def one(zi: torch.Tensor) -> torch.Tensor:
        return G(zi[None]).flatten()

    try:
        return torch.func.vmap(torch.func.jacrev(one))(z)
    except (RuntimeError, NotImplementedError, ValueError):
        # some layers (in-place ops, data-dependent control flow) cannot be vmapped: one point at a time
        return torch.stack([torch.autograd.functional.jacobian(one, zi) for zi in z])


def effective_rank(s: torch.Tensor) -> torch.Tensor:
    """exp(H(s / sum s)) per row of singular values (P, r); 0 for an all-zero row."""
    total = s.sum(-1, keepdim=True)
    p = torch.where(total > 0, s / total.clamp(min=torch.finfo(s.dtype).tiny), torch.zeros_like(s))
    h = -torch.where(p > 0, p * p.log(), torch.zeros_like(p)).sum(-1)
    return torch.where(total[..., 0] > 0, h.exp(), torch.zeros_like(h))


def jacobian_spectrum(G: nn.Module, z: torch.Tensor, rank_tol: float = 1e-3, batch_size: int = 16) -> JacobianSpectrum:
    """Singular values of dG/dz at the rows of ``z`` and their rank summaries (see module docstring)."""
    if not 0 < rank_tol < 1:
        raise ValueError(f"rank_tol must be in (0, 1), got {rank_tol}")
    was_training = G.training
    G.eval()
    try:
        svals = [torch.linalg.svdvals(jacobians(G, chunk).detach().double()) for chunk in z.split(batch_size)]
    finally:
        G.train(was_training)
    s = torch.cat(svals).cpu()  # (P, min(D_out, d)), descending
    ranks = (s > rank_tol * s[:, :1]).sum(1)
    ranks = torch.where(s[:, 0] > 0, ranks, torch.zeros_like(ranks))
    return JacobianSpectrum(s, ranks, effective_rank(s), full_rank=s.shape[1], rank_tol=rank_tol)


__all__ = ["JacobianSpectrum", "effective_rank", "jacobian_spectrum", "jacobians"]
