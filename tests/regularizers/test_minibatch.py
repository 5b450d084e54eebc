"""Minibatch discrimination against a direct loop over the equations of Salimans et al. (2016), Sec. 3.2."""

import pytest
import torch
from torch import nn

from gankit.nets.mlp import MLPDiscriminator
from gankit.regularizers.minibatch import (
    MinibatchDiscrimination,
    add_minibatch_discrimination,
)


def loop_reference(f: torch.Tensor, T: torch.Tensor, B: int, C: int) -> torch.Tensor:
    """o(x_i)_b = sum_j exp(-sum_c |M_i,b,c - M_j,b,c|), M_i = f_i T, written as plain loops."""
    n, A = f.shape
    T3 = T.reshape(A, B, C)
    M = [[[sum(f[i, a] * T3[a, b, c] for a in range(A)) for c in range(C)] for b in range(B)] for i in range(n)]
    o = torch.zeros(n, B, dtype=f.dtype)
    for i in range(n):
        for b in range(B):
            o[i, b] = sum(torch.exp(-sum(abs(M[i][b][c] - M[j][b][c]) for c in range(C))) for j in range(n))
    return torch.cat([f, o], dim=1)


def test_layer_equals_the_loop():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(4, 3, 2).double()
    with torch.no_grad():
        layer.T.mul_(5)  # distances of order 1, so exp(-.) is neither 0 nor 1
    f = torch.randn(5, 4, dtype=torch.float64)
    out = layer(f)
    assert out.shape == (5, 7)
    torch.testing.assert_close(out, loop_reference(f, layer.T.detach(), 3, 2), rtol=1e-12, atol=1e-12)


def test_identical_batch_gives_batch_size():
    layer = MinibatchDiscrimination(3, 2, 4)
    f = torch.randn(1, 3).expand(6, 3)
    torch.testing.assert_close(layer(f)[:, 3:], torch.full((6, 2), 6.0), rtol=0, atol=0)


def test_head_is_replaced_and_scores_keep_their_shape():
    torch.manual_seed(0)
    D = MLPDiscriminator((2,), 8, 2)
    add_minibatch_discrimination(D, 5, 3)
    assert isinstance(D.head, nn.Sequential) and isinstance(D.head[0], MinibatchDiscrimination)
    assert D.head[1].in_features == 13 and D.head[1].out_features == 1
    x = torch.randn(6, 2)
    torch.testing.assert_close(D(x), D.head(D.features(x)).squeeze(1), rtol=0, atol=0)
    assert D(x).shape == (6,)


def test_a_non_linear_head_is_rejected():
    D = MLPDiscriminator((2,), 8, 2)
    D.head = nn.Sequential(nn.Linear(8, 1))
    with pytest.raises(TypeError, match="Linear"):
        add_minibatch_discrimination(D, 2, 2)
