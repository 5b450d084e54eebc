"""Hinge loss (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, "Spectral Normalization", Eq. 16/17).

D outputs a raw score (higher means real). D minimises the SVM hinge loss with margin 1, G the
negative mean score of its samples:

    d_loss = E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))]
    g_loss = -E_z[D(G(z))]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gankit.objectives.base import Objective
from gankit.registry import OBJECTIVES


@OBJECTIVES.register("hinge", "hinge loss (Lim & Ye 2017; Miyato et al. 2018)")
class Hinge(Objective):
    """Hinge loss: D pushes real scores above +1 and fake scores below -1; G raises its scores."""

    name = "hinge"
    incompatible = {"reg.label_smoothing": "label smoothing is defined for the sigmoid objectives only"}

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - real_out).mean() + F.relu(1.0 + fake_out).mean()

    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        return -fake_out.mean()
