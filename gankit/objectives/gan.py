"""The original GAN (Goodfellow et al. 2014) in its two forms.

D outputs a logit l with D(x) = sigmoid(l). The value function is

    V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]                              (Eq. 1)

and D maximises it, so ``d_loss = -V``. Using log sigmoid(l) = -softplus(-l) and
log(1 - sigmoid(l)) = -softplus(l) keeps every term finite for any logit.

- **minimax** (saturating): G minimises V, i.e. E_z[log(1 - D(G(z)))] = -E[softplus(l_fake)].
  Its gradient vanishes when D confidently rejects the fakes, as early in training.
- **non-saturating**: G maximises E_z[log D(G(z))] instead (Sec. 3 of the paper), i.e. minimises
  E[softplus(-l_fake)]: the same fixed point, strong gradients early on.

At D = 1/2 everywhere (l = 0), V = -log 4, the value at the global optimum p_g = p_data (Theorem 1);
for the optimal D* = p/(p+q), V(D*, G) = -log 4 + 2 JSD(p || q).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gankit.objectives.base import Objective
from gankit.registry import OBJECTIVES
from gankit.regularizers.label_smoothing import smoothed_logistic_d_loss


def gan_value(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """V(D, G) of Eq. 1 from logits: E[log sigmoid(l_real)] + E[log(1 - sigmoid(l_fake))]."""
    return -F.softplus(-real_out).mean() - F.softplus(fake_out).mean()


class _OriginalGAN(Objective):
    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return -gan_value(real_out, fake_out)

    def d_loss_smoothed(self, real_out: torch.Tensor, fake_out: torch.Tensor, alpha: float) -> torch.Tensor:
        """D's loss with one-sided label smoothing: real target 1 - alpha (``reg.label_smoothing``)."""
        return smoothed_logistic_d_loss(real_out, fake_out, alpha)


@OBJECTIVES.register("minimax", "original GAN, saturating: G minimises E log(1 - D(G(z)))")
class Minimax(_OriginalGAN):
    """Original GAN, saturating form: G minimises E_z[log(1 - D(G(z)))]."""

    name = "minimax"

    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        return -F.softplus(fake_out).mean()


@OBJECTIVES.register("nonsaturating", "original GAN, non-saturating: G maximises E log D(G(z))")
class NonSaturating(_OriginalGAN):
    """Original GAN, non-saturating form: G minimises -E_z[log D(G(z))]."""

    name = "nonsaturating"

    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_out).mean()
