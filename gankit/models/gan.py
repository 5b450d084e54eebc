"""The plain GAN step (Goodfellow et al. 2014, Algorithm 1): D on real vs fake, then G through D.

Works with any objective, since it only hands D's outputs to ``objective.d_loss`` / ``g_loss``.
"""

from __future__ import annotations

import torch

from gankit.models.base import Model, StepResult
from gankit.nets import build_nets
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import LatentPrior


class GAN(Model):
    """G maps z to samples; D scores samples; the objective turns scores into the two losses.

    Example::

        model = GAN(G, D, NonSaturating(), z_dim=100)
        d = model.d_step(real_batch, None)   # d.loss, d.stats["d_acc_real"], ...
        g = model.g_step(real_batch, None)
    """

    def __init__(self, G: torch.nn.Module, D: torch.nn.Module, objective: Objective, z_dim: int) -> None:
        self.nets = {"G": G, "D": D}
        self.objective = objective
        self.prior = LatentPrior(z_dim)

    def d_step(self, real: torch.Tensor, y: torch.Tensor | None) -> StepResult:
        with torch.no_grad():  # D's step needs no gradient through G
            fake = self.G(self.sample_z(len(real), real.device))
        real_out, fake_out = self.D(real), self.D(fake)
        loss = self.objective.d_loss(real_out, fake_out)
        says_real = self.objective.says_real
        return StepResult(
            loss,
            {
                "d_loss": loss.detach(),
                "d_acc_real": says_real(real_out.detach()).float().mean(),
                "d_acc_fake": (~says_real(fake_out.detach())).float().mean(),
            },
        )

    def g_step(self, real: torch.Tensor, y: torch.Tensor | None) -> StepResult:
        fake_out = self.D(self.G(self.sample_z(len(real), real.device)))
        loss = self.objective.g_loss(fake_out)
        return StepResult(loss, {"g_loss": loss.detach()})


@MODELS.register("gan", "plain GAN step: any objective over D's real and fake scores")
def build_gan(cfg, info, device) -> GAN:
    G, D = build_nets(cfg.net, info)
    return GAN(G.to(device), D.to(device), build_objective(cfg.objective), cfg.net.z_dim)
