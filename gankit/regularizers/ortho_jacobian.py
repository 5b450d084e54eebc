"""The orthonormal-Jacobian penalty of Localized GAN (Qi et al. 2018, "Global versus Localized
Generative Adversarial Nets", CVPR, Eq. 5), applied to a global generator x = G(z).

Localized GAN asks the tangent vectors of the generated manifold, the columns of J = dG/dz, to be
orthonormal, J^T J = I, so that no latent direction is squashed (a rank-deficient J is a locally
collapsed manifold). The penalty is

    Omega(G) = E_z || J_P(z)^T J_P(z) - I_k ||_F^2,        J_P = (dG/dz) P

measured on a random subset of k latent coordinate directions (the columns of P: k distinct axes of
the noise part of z, drawn anew at each step, as the authors' code does). J_P is computed either
exactly, by forward-mode automatic differentiation (one Jacobian-vector product per direction), or by
central finite differences (G(z + eps p) - G(z - eps p)) / (2 eps). The penalty is added to G's loss.

BatchNorm: the penalty is computed with G in eval mode (BatchNorm uses its running statistics), so J
is the per-sample Jacobian of the generator that samples are drawn from. In train mode BatchNorm's batch
statistics couple the samples: moving the whole batch along one direction is removed by the mean
subtraction and J_P would read zero.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import torch
import torch.autograd.forward_ad as fwAD
from torch import nn

Method = Literal["autograd", "fd"]


def random_axes(in_dim: int, n_dirs: int, n_latent: int | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """P (in_dim, k): k = min(n_dirs, n_latent) distinct coordinate axes among the first ``n_latent``
    inputs (the noise part of G's input row; codes or one-hots that follow it are not perturbed),
    drawn from the global torch RNG. Its columns are orthonormal."""
    n_latent = in_dim if n_latent is None else n_latent
    axes = torch.randperm(n_latent, device=device)[: min(n_dirs, n_latent)]
    P = torch.zeros(in_dim, len(axes), device=device)
    P[axes, torch.arange(len(axes), device=device)] = 1.0
    return P


@contextlib.contextmanager
def eval_mode(net: nn.Module) -> Iterator[nn.Module]:
    """Put ``net`` in eval mode for the block, restoring every submodule's own flag afterwards."""
    flags = {m: m.training for m in net.modules()}
    net.eval()
    try:
        yield net
    finally:
        for m, flag in flags.items():
            m.training = flag


def jacobian_along(G: nn.Module, z: torch.Tensor, P: torch.Tensor, method: Method = "autograd",
                   eps: float = 1e-2) -> torch.Tensor:
    """J_P = (dG/dz) P per sample: (N, out_dim, k), differentiable w.r.t. G's weights.

    All k directions go through G as one batch of k * N rows (G has no batch coupling in eval mode).
    """
    n, k = len(z), P.shape[1]
    z_rep = z.detach().repeat(k, 1)                          # (k*N, d): direction j owns rows j*N .. j*N+N-1
    dirs = P.T.to(z.dtype).repeat_interleave(n, dim=0)      # (k*N, d)
    with eval_mode(G):
        if method == "autograd":
            with fwAD.dual_level():
                jv = fwAD.unpack_dual(G(fwAD.make_dual(z_rep, dirs))).tangent
        elif method == "fd":
            both = G(torch.cat([z_rep + eps * dirs, z_rep - eps * dirs]))
            jv = (both[: k * n] - both[k * n :]) / (2 * eps)
        else:
            raise ValueError(f"method must be autograd or fd, got {method!r}")
    return jv.reshape(k, n, -1).permute(1, 2, 0)           # (N, out_dim, k)


def ortho_jacobian_penalty(G: nn.Module, z: torch.Tensor, n_dirs: int = 4, method: Method = "autograd",
                           eps: float = 1e-2, weight: float = 1.0, P: torch.Tensor | None = None,
                           n_latent: int | None = None) -> torch.Tensor:
    """``weight * E_z ||J_P^T J_P - I||_F^2`` (Qi et al. 2018, Eq. 5) on ``n_dirs`` random latent axes
    (or the given orthonormal columns ``P`` (d, k)).

    Example::

        loss_g = objective.g_loss(D(G(z))) + ortho_jacobian_penalty(G, z, n_dirs=4, weight=0.1)
    """
    if P is None:
        P = random_axes(z.shape[1], n_dirs, n_latent, z.device)
    return weight * orthonormality_gap(jacobian_along(G, z, P, method, eps))


def orthonormality_gap(J: torch.Tensor) -> torch.Tensor:
    """``mean_n ||J_n^T J_n - I||_F^2`` of a batch of Jacobians ``J`` (N, out_dim, k): 0 exactly when every
    J_n has orthonormal columns."""
    gram = J.transpose(1, 2) @ J                             # (N, k, k)
    eye = torch.eye(gram.shape[1], dtype=gram.dtype, device=gram.device)
    return (gram - eye).pow(2).sum(dim=(1, 2)).mean()
