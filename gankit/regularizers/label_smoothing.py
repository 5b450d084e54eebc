"""One-sided label smoothing (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 3.4).

D's target for real samples becomes ``1 - alpha`` instead of 1; fake targets stay 0 (smoothing them too
would pull p_g towards wherever D is unsure, the paper's argument for one side only). For a sigmoid
cross-entropy D with logit l, the loss on a real sample becomes

    -(1 - alpha) log sigmoid(l) - alpha log(1 - sigmoid(l)) = (1 - alpha) softplus(-l) + alpha softplus(l)

and the optimal discriminator becomes D*(x) = (1 - alpha) p(x) / (p(x) + q(x)).
It only makes sense for objectives whose D is a sigmoid cross-entropy classifier (minimax,
non-saturating): such an objective opts in by defining ``d_loss_smoothed(real_out, fake_out, alpha)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def smoothed_logistic_d_loss(real_out: torch.Tensor, fake_out: torch.Tensor, alpha: float) -> torch.Tensor:
    """D's cross-entropy with real target ``1 - alpha`` and fake target 0, from logits (finite for any logit)."""
    real_term = (1 - alpha) * F.softplus(-real_out) + alpha * F.softplus(real_out)
    return real_term.mean() + F.softplus(fake_out).mean()


def supports_label_smoothing(objective: object) -> bool:
    """Does this objective (class or instance) define ``d_loss_smoothed``, i.e. accept smoothed targets?"""
    return callable(getattr(objective, "d_loss_smoothed", None))
