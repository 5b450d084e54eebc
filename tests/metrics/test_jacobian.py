"""Jacobian spectrum: exact singular values and rank for linear generators."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.metrics.jacobian import effective_rank, jacobian_spectrum, jacobians


def _linear(weight: torch.Tensor) -> nn.Module:
    G = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        G.weight.copy_(weight)
    return G


@pytest.mark.parametrize("rank", [1, 3, 5])
def test_rank_of_linear_G_equals_matrix_rank(rank: int) -> None:
    g = torch.Generator().manual_seed(rank)
    W = torch.randn(12, rank, generator=g) @ torch.randn(rank, 5, generator=g)
    spec = jacobian_spectrum(_linear(W), torch.randn(7, 5, generator=g))
    assert torch.all(spec.ranks == int(torch.linalg.matrix_rank(W)))
    assert spec.rank_deficient_share == (1.0 if rank < 5 else 0.0)
    want = torch.linalg.svdvals(W.double())
    assert torch.allclose(spec.singular_values, want.expand(7, -1), rtol=1e-4, atol=1e-5)


def test_jacobian_of_image_shaped_output_matches_autograd() -> None:
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 18), nn.Tanh(), nn.Unflatten(1, (2, 3, 3)))
    z = torch.randn(3, 4)
    J = jacobians(G, z)
    assert J.shape == (3, 18, 4)
    want = torch.stack([torch.autograd.functional.jacobian(lambda v: G(v[None]).flatten(), zi) for zi in z])
    assert torch.allclose(J, want, atol=1e-6)


def test_effective_rank_closed_forms() -> None:
    s = torch.tensor([[1.0, 1.0, 1.0, 0.0], [2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    assert effective_rank(s).tolist() == pytest.approx([3.0, 1.0, 0.0])
