"""Auxiliary-classifier GAN (Odena et al. 2017): D also says which class a sample belongs to.

G gets ``[z, one_hot(c)]`` (a :class:`~gankit.sampling.ConditionalPrior`); D sees only x and has two
heads on one body: the adversarial score (source S) and K class logits (class C). With
L_S the adversarial loss and L_C = E[-log P(C = c | x)] over real and fake samples (their Eq. 2-3):

    D minimises  L_S^D + w * (CE(C(x_real), y_real) + CE(C(G(z, c)), c))
    G minimises  L_S^G + w * CE(C(G(z, c)), c)

The paper's L_S is the original GAN's; here it is the configured objective (``objective.name``), so
ACGAN composes with any of them. ``w`` is ``model.params.class_weight`` (1 in the paper). Real samples
with label -1 (unlabelled, ``data.labels``) only contribute to L_S.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

from gankit.config import Strict
from gankit.data.base import DataInfo
from gankit.models.base import StepResult
from gankit.models.cgan import ConditionalModel, conditional_nets, d_stats, parse_params
from gankit.nets.conditional import AuxClassifierDiscriminator
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import ConditionalPrior


class ACGAN(ConditionalModel):
    """ACGAN step on an :class:`~gankit.nets.conditional.AuxClassifierDiscriminator`.

    Example::

        model = ACGAN(G, AuxClassifierDiscriminator(D, 10), NonSaturating(), ConditionalPrior(100, 10))
        d = model.d_step(real, y)     # d.stats["d_class_acc_real"], ...
    """

    def __init__(self, G: torch.nn.Module, D: AuxClassifierDiscriminator, objective: Objective,
                 prior: ConditionalPrior, class_weight: float = 1.0) -> None:
        super().__init__(G, D, objective, prior)
        self.class_weight = class_weight

    def d_step(self, real: torch.Tensor, y: torch.Tensor | None) -> StepResult:
        if y is None:
            raise ValueError("ACGAN's D step needs the real batch's labels")
        with torch.no_grad():  # D's step needs no gradient through G
            fake, y_fake = self.fake_batch(len(real), real.device)
        real_out, real_logits = self.D.scores(real)
        fake_out, fake_logits = self.D.scores(fake)
        adversarial = self.objective.d_loss(real_out, fake_out)
        ce_real = _class_loss(real_logits, y)
        ce_fake = F.cross_entropy(fake_logits, y_fake)
        loss = adversarial + self.class_weight * (ce_real + ce_fake)
        stats = d_stats(self.objective, loss, real_out, fake_out)
        labelled = y >= 0
        stats |= {
            "d_adv_loss": adversarial.detach(),
            "d_class_loss": (ce_real + ce_fake).detach(),
            "d_class_acc_real": (real_logits.detach().argmax(1)[labelled] == y[labelled]).float().mean(),
            "d_class_acc_fake": (fake_logits.detach().argmax(1) == y_fake).float().mean(),
        }
        return StepResult(loss, stats)

    def g_step(self, real: torch.Tensor, y: torch.Tensor | None) -> StepResult:
        fake, y_fake = self.fake_batch(len(real), real.device)
        fake_out, fake_logits = self.D.scores(fake)
        adversarial = self.objective.g_loss(fake_out)
        ce = F.cross_entropy(fake_logits, y_fake)
        loss = adversarial + self.class_weight * ce
        return StepResult(loss, {"g_loss": loss.detach(), "g_adv_loss": adversarial.detach(), "g_class_loss": ce.detach()})


def _class_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the labelled samples (y >= 0); 0 when none is labelled."""
    labelled = y >= 0
    if not bool(labelled.any()):
        return logits.sum() * 0.0  # keeps the graph (and the dtype/device) without a NaN mean
    return F.cross_entropy(logits[labelled], y[labelled])


class ACGANParams(Strict):
    class_weight: float = Field(1.0, ge=0)
    """Weight w of the class log-likelihood L_C in both losses (1 in Odena et al. 2017)."""


@MODELS.register("acgan", "auxiliary-classifier GAN: D also predicts the class of real and fake samples")
def build_acgan(cfg, info: DataInfo, device) -> ACGAN:
    params = parse_params(ACGANParams, cfg.model.params, "acgan")
    prior, G, D = conditional_nets(cfg, info, "acgan")
    D = AuxClassifierDiscriminator(D, info.num_classes)
    return ACGAN(G.to(device), D.to(device), build_objective(cfg.objective), prior, params.class_weight)
