"""Wasserstein GAN: weight clipping (Arjovsky et al. 2017) and gradient penalty (Gulrajani et al. 2017).

D is a critic f with an unbounded score (higher means real). By Kantorovich-Rubinstein duality

    W(p_data, p_g) = sup_{||f||_L <= 1} E_x[f(x)] - E_z[f(G(z))]                 (WGAN, Eq. 2)

so the critic minimises ``d_loss = E_z[f(G(z))] - E_x[f(x)]`` and G minimises ``g_loss = -E_z[f(G(z))]``.
The two variants differ only in how f is kept (roughly) 1-Lipschitz:

- **wgan**: every critic weight is clamped to [-clip, clip] after each critic step (Algorithm 1,
  c = 0.01); the plain GAN model does it in ``after_d_step`` from this objective's ``clip_value``.
- **wgan-gp**: no clipping; the two-sided gradient penalty lambda E[(||grad f(x_hat)|| - 1)^2] at random
  interpolates x_hat (WGAN-GP, Eq. 3, lambda = 10) is added by the regulariser ``reg.gp``, so this
  objective requires ``reg.gp.weight > 0`` (``gankit.plugins.check`` says so otherwise).

The paper's settings: WGAN RMSProp lr 5e-5, n_critic = 5; WGAN-GP Adam lr 1e-4, betas (0, 0.9), n_critic = 5
(its released MNIST code: betas (0.5, 0.9), 200,000 generator iterations). At a CPU budget of minutes the
5 critic steps (each with the penalty's double backward) leave too few generator steps: preset
mnist5k-wgan-gp uses 1 critic step, Adam 2e-4, betas (0.5, 0.9) and a layer-normed critic, measured in
docs/benchmarks.md (section wgan_gp; issue 18): val FID gap 29.4 vs 55.2 for the paper's settings and 32.3
for an MLP WGAN-GP at 120 CPU s, 2 seeds.
"""

from __future__ import annotations

import torch

from gankit.objectives.base import Objective, check_param, is_number
from gankit.registry import OBJECTIVES

_NO_SMOOTHING = {"reg.label_smoothing": "the critic's score has no label to smooth"}


def wasserstein_d_loss(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """The critic's loss E[f(fake)] - E[f(real)], the negative of the dual estimate of W."""
    return fake_out.mean() - real_out.mean()


class _Critic(Objective):
    incompatible = _NO_SMOOTHING

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return wasserstein_d_loss(real_out, fake_out)

    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        return -fake_out.mean()


@OBJECTIVES.register("wgan", "Wasserstein GAN with weight clipping (Arjovsky et al. 2017); param clip")
class WGAN(_Critic):
    """WGAN critic losses; D's weights are clamped to [-clip, clip] after every critic step."""

    name = "wgan"

    def __init__(self, clip: float = 0.01) -> None:
        check_param(is_number(clip) and clip > 0, "clip", clip,
                    "must be a number > 0 (the paper uses 0.01)")
        self.clip_value = float(clip)

    def __repr__(self) -> str:
        return f"WGAN(clip={self.clip_value})"


@OBJECTIVES.register("wgan-gp", "WGAN with gradient penalty (Gulrajani et al. 2017); needs reg.gp.weight > 0")
class WGANGP(_Critic):
    """WGAN-GP critic losses; the gradient penalty itself comes from ``reg.gp`` (weight 10 in the paper)."""

    name = "wgan-gp"
    needs_gradient_penalty = True
