"""Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 3.2).

D's features f(x_i) in R^A are multiplied by a tensor T in R^{A x B x C}, giving a matrix M_i in
R^{B x C} per sample. For each of the B kernels, the closeness of samples i and j is

    c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_{L1})

and the layer outputs o(x_i)_b = sum_j c_b(x_i, x_j) (over the whole batch, j = i included), which is
concatenated to f(x_i) and fed to D's head. A collapsed batch has large o, so D can reject it.
"""

from __future__ import annotations

import torch
from torch import nn


class MinibatchDiscrimination(nn.Module):
    """(N, in_features) -> (N, in_features + kernels): the features followed by o(x_i) of Sec. 3.2.

    Example::

        D.head = nn.Sequential(MinibatchDiscrimination(F, 50, 5), nn.Linear(F + 50, 1))
    """

    def __init__(self, in_features: int, kernels: int, kernel_dim: int) -> None:
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        # Small init: with large projections every L1 distance is big, exp(-.) ~ 0, and the layer starts dead.
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        M = (f @ self.T).view(len(f), self.kernels, self.kernel_dim)   # (N, B, C)
        l1 = (M.unsqueeze(1) - M.unsqueeze(0)).abs().sum(dim=3)         # (N, N, B): ||M_i,b - M_j,b||_1
        o = torch.exp(-l1).sum(dim=1)                                    # (N, B): sum over j
        return torch.cat([f, o], dim=1)


def add_minibatch_discrimination(D: nn.Module, kernels: int, kernel_dim: int) -> nn.Module:
    """Replace D's ``head`` (Linear F -> 1) by ``Sequential(MinibatchDiscrimination(F, B, C), Linear(F + B, 1))``."""
    head = D.head
    if not isinstance(head, nn.Linear):
        raise TypeError(f"minibatch discrimination needs D.head to be a Linear layer, got {type(head).__name__}")
    F = head.in_features
    D.head = nn.Sequential(MinibatchDiscrimination(F, kernels, kernel_dim), nn.Linear(F + kernels, head.out_features))
    return D
