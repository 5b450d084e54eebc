"""Gradient norms of D at chosen points, and the three penalties built on them.

One helper, :func:`grad_norms`, computes ``||grad_x D(x)||_2`` per score with ``create_graph=True``
(so the penalty itself can be back-propagated into D's weights: a double backward). Three penalties
share it:

- **gradient penalty** (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", Eq. 3)::

      GP = lambda * E_{x_hat}[(||grad D(x_hat)|| - c)^2]          two-sided
      GP = lambda * E_{x_hat}[max(0, ||grad D(x_hat)|| - c)^2]    one-sided (their Appendix / Petzka et al. 2018)

  with ``x_hat = eps * real + (1 - eps) * fake``, ``eps ~ U[0, 1]`` per sample (Algorithm 1, line 6),
  or ``x_hat`` the real or the fake samples themselves (DRAGAN-style and "zero-centred" variants);
- **R1** (Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?", Eq. 9)::

      R1 = gamma / 2 * E_{x ~ p_data}[||grad D(x)||^2]

- **R2** (same paper, Eq. 10): the same on generated samples, ``gamma / 2 * E_{x ~ p_g}[||grad D(x)||^2]``.

With a packed discriminator (PacGAN) one score judges ``pack`` consecutive samples, so the norm is
taken over the gradient of all the samples behind that score: the gradient rows are grouped by score.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

Critic = Callable[[torch.Tensor], torch.Tensor]
PenaltyAt = Literal["interpolates", "real", "fake"]


def grad_norms(D: Critic, x: torch.Tensor) -> torch.Tensor:
    """Per-score ``||grad_x D(x)||_2`` (shape ``(len(D(x)),)``), differentiable w.r.t. D's weights.

    Each score's gradient only involves its own input rows (D has no batch coupling: gankit's D nets
    use no BatchNorm), so the gradient of the sum of scores gives every per-score gradient at once.

    Example::

        D = lambda x: x @ w                    # a linear critic: grad = w everywhere
        grad_norms(D, torch.randn(5, 3))       # five copies of ||w||
    """
    # Outside autocast and in fp32 (train.precision = bf16 / fp16): the inner gradient is then an
    # unscaled fp32 value, and the scaled outer backward treats the penalty like any other term.
    x = x.detach()
    if x.dtype in (torch.float16, torch.bfloat16):  # fakes made under autocast
        x = x.float()
    x = x.requires_grad_(True)
    with torch.autocast(device_type=x.device.type, enabled=False):
        out = D(x)
        (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    # One row per score: with packing, a score's `pack` consecutive samples are one row.
    return torch.linalg.vector_norm(grad.reshape(len(out), -1), dim=1)


def interpolates(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``eps * real + (1 - eps) * fake`` with one ``eps ~ U[0, 1]`` per sample (global torch RNG)."""
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} batches differ in shape")
    eps = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    return eps * real.detach() + (1 - eps) * fake.detach()


def penalty_points(real: torch.Tensor, fake: torch.Tensor, at: PenaltyAt) -> torch.Tensor:
    """Where a gradient penalty is evaluated: random interpolates, the real or the fake samples."""
    if at == "interpolates":
        return interpolates(real, fake)
    if at == "real":
        return real
    if at == "fake":
        return fake
    raise ValueError(f"penalty point must be interpolates, real or fake, got {at!r}")


def gradient_penalty(D: Critic, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0,
                     center: float = 1.0, one_sided: bool = False, at: PenaltyAt = "interpolates") -> torch.Tensor:
    """``weight * E[(||grad D(x_hat)|| - center)^2]`` (Gulrajani et al. 2017, Eq. 3); one-sided: only
    norms above ``center`` are penalised, ``max(0, ||grad|| - center)^2``.

    Example::

        gp = gradient_penalty(D, real, fake, weight=10.0)          # WGAN-GP
        d_loss = d_loss + gp
    """
    gap = grad_norms(D, penalty_points(real, fake, at)) - center
    if one_sided:
        gap = gap.clamp(min=0.0)
    return weight * gap.pow(2).mean()


def r1_penalty(D: Critic, real: torch.Tensor, gamma: float) -> torch.Tensor:
    """R1 = ``gamma / 2 * E_real[||grad D(x)||^2]`` (Mescheder et al. 2018, Eq. 9)."""
    return gamma / 2 * grad_norms(D, real).pow(2).mean()


def r2_penalty(D: Critic, fake: torch.Tensor, gamma: float) -> torch.Tensor:
    """R2 = ``gamma / 2 * E_fake[||grad D(x)||^2]`` (Mescheder et al. 2018, Eq. 10)."""
    return r1_penalty(D, fake, gamma)  # the same functional, evaluated on generated samples
