"""The plain GAN step (Goodfellow et al. 2014, Algorithm 1): D on real vs fake, then G through D.

Works with any objective, since it only hands D's outputs to ``objective.d_loss`` / ``g_loss``.
The ``reg.*`` switches (:mod:`gankit.regularizers`) shape the nets at build time and add their
penalties to the two losses here, each logged as its own stat (reg_gp, reg_r1, reg_ortho, ...).
"""

from __future__ import annotations

import torch

from gankit.data.batch import Batch
from gankit.models.base import Model, StepResult
from gankit.nets import build_nets
from gankit.nets.autoencoder import build_autoencoder_discriminator
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.regularizers import Regularizers, apply_to_nets
from gankit.sampling import LatentPrior


class GAN(Model):
    """G maps z to samples; D scores samples; the objective turns scores into the two losses.

    Example::

        model = GAN(G, D, NonSaturating(), z_dim=100)
        d = model.d_step(Batch(x=real))      # d.loss, d.stats["d_acc_real"], ...
        g = model.g_step(Batch(x=real))
    """

    def __init__(self, G: torch.nn.Module, D: torch.nn.Module, objective: Objective, z_dim: int,
                 reg: Regularizers | None = None) -> None:
        super().__init__({"G": G, "D": D}, LatentPrior(z_dim))
        self.objective = objective
        self.reg = reg if reg is not None else Regularizers(None, z_dim)  # the loss-time reg.* switches

    def d_step(self, batch: Batch) -> StepResult:
        real = batch.x
        with torch.no_grad():  # D's step needs no gradient through G
            fake = self.G(self.sample_z(len(real), real.device))
        real_out, fake_out = self.D(real), self.D(fake)
        if self.objective.needs_samples:  # e.g. Loss-Sensitive GAN's margin Delta(x, G(z))
            loss = self.objective.d_loss(real_out, fake_out, real=real, fake=fake)
        else:
            loss = self.reg.d_loss(self.objective, real_out, fake_out)  # (label smoothing, if on)
        terms = self.reg.d_terms(self.D, real, fake)  # gradient penalty, R1, R2 (reg_gp, reg_r1, reg_r2)
        says_real = self.objective.says_real
        return StepResult(
            loss + sum(terms.values()),
            {
                "d_loss": loss.detach(),
                "d_acc_real": says_real(real_out.detach()).float().mean(),
                "d_acc_fake": (~says_real(fake_out.detach())).float().mean(),
                **{name: value.detach() for name, value in terms.items()},
            },
        )

    def after_d_step(self) -> None:
        """WGAN's weight clipping: clamp every D parameter to [-c, c] when the objective sets ``clip_value``."""
        c = self.objective.clip_value
        if c is not None:
            with torch.no_grad():
                for p in self.d_parameters():
                    p.clamp_(-c, c)

    def g_step(self, batch: Batch) -> StepResult:
        real = batch.x
        z = self.sample_z(len(real), real.device)
        fake = self.G(z)
        if self.objective.needs_embeddings:  # EBGAN's pull-away term acts on D's codes of the fakes
            fake_out, embeddings = self.D(fake, with_embedding=True)
            loss = self.objective.g_loss(fake_out, embeddings=embeddings)
        else:
            loss = self.objective.g_loss(self.D(fake))
        terms = self.reg.g_terms(self.G, self.D, z, real, fake)  # reg_ortho, reg_fm
        return StepResult(loss + sum(terms.values()),
                          {"g_loss": loss.detach(), **{name: value.detach() for name, value in terms.items()}})


@MODELS.register("gan", "plain GAN step: any objective over D's real and fake scores")
def build_gan(cfg, info, device) -> GAN:
    G, D = build_nets(cfg.net, info)
    objective = build_objective(cfg.objective)
    if objective.discriminator == "autoencoder":  # EBGAN: D is an energy auto-encoder, not a scorer
        D = build_autoencoder_discriminator(cfg.net, info)
    G, D = apply_to_nets(cfg, info, G, D)  # packing, minibatch discrimination, spectral norm
    return GAN(G.to(device), D.to(device), objective, cfg.net.z_dim, Regularizers(cfg.reg, cfg.net.z_dim))


build_gan.objective_hooks = True  # type: ignore[attr-defined]  # samples, embeddings, auto-encoder D, clipping
build_gan.applies_reg = True  # type: ignore[attr-defined]  # gankit.regularizers.check_config reads it
