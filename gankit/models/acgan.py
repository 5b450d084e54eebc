"""Auxiliary-classifier GAN (Odena et al. 2017): D also says which class a sample belongs to.

G gets ``[z, one_hot(c)]`` (a :class:`~gankit.sampling.ConditionalPrior`); D sees only x and has two
heads on one body: the adversarial score (source S) and K class logits (class C). With
L_S the adversarial loss and L_C = E[-log P(C = c | x)] over real and fake samples (their Eq. 2-3):

    D minimises  L_S^D + w * (CE(C(x_real), y_real) + w_fake * CE(C(G(z, c)), c))
    G minimises  L_S^G + w * CE(C(G(z, c)), c)

The paper's L_S is the original GAN's; here it is the configured objective (``objective.name``), so
ACGAN composes with any of them. ``w`` is ``model.params.class_weight`` (1 in the paper). Real samples
with label -1 (unlabelled, ``data.labels``) only contribute to L_S.

``w_fake`` (``model.params.fake_class_weight``, 1 in the paper) weighs D's class loss on G's samples.
With it, G and the class head C minimise the SAME term CE(C(G(z, c)), c): a cooperative game that
only asks for c to be recoverable from G(z, c) (InfoGAN's mutual-information term), not for G(z, c)
to look like a real digit of class c, so G and C may agree on cues that real digits do not have.
With ``w_fake = 0`` C learns from real labels only, and G lowers its class loss only by drawing what
real digits of class c look like to C. On mnist5k (1,500 steps, seed 0) the independent digit
classifier agreed with the requested class on 57.0 % of G_ema's samples with w_fake = 1 and on
65.6 % with w_fake = 0 (the mnist5k preset's choice), while C called 99.7 % / 99.9 % of them right:
C is fooled either way, the fake term only makes it worse.

Why the preset missed its target of >= 95 % (issue 18; benchmarks/conditional.py, seed 0, 1,500 steps
unless said): C named 91.6 % of the 500 real validation digits right, yet called 99.7 % of G_ema's
samples as requested while the digit classifier agreed on 63.6 % (90.1 % after 3,000): G lowers its
class loss with cues that C reads and the digit classifier does not, and its samples are speckled
(FID 21.2). Measured changes:

- a stronger C alone (``class_weight`` 3): C 93.6 % on validation digits, G 65.5 %: no help;
- one hidden layer in the class head (``class_hidden`` 256, :class:`AuxClassifierDiscriminator`):
  80.7 %, FID 16.0;
- and y at every layer of G (``g_every_layer``, :class:`~gankit.nets.conditional.ConcatDCGANGenerator`):
  83.8 %, FID 13.3; 93.5 % after 3,000 steps (the mnist5k preset; FID 10.4; 11.6 min on one CPU
  thread of a machine shared with other jobs): still short of 95 %.

- and dropout 0.3 on C's inputs and hidden units (``class_dropout``, the Keras ACGAN example's rate;
  the mnist5k preset): C names 95.8 / 96.0 % of the validation digits right (95.2 / 95.0 % without) and
  G reaches 94.2 / 93.4 % (93.5 / 91.8 % without), seeds 0 / 1 at 3,000 steps: still short of 95 %.

In every 3,000-step run G's accuracy sits 1-3 points under C's own accuracy on held-out real digits: C
is G's only teacher of the class, so G is bounded by how well C generalises from 4,000 digits while it
shares D's body with the real/fake game (the digit classifier, trained for the class alone: 98.8 %).
C still calls >= 99.7 % of the samples as requested in every variant, so G keeps satisfying C beyond
what the digits show; the changes make the samples cleaner digits (lower FID), and the classifier's
accuracy follows. Our reading, not measured separately: with the paper's linear head, the class loss
shapes D's two shared convolutions directly, in competition with the real/fake features, and G's class
loss then pulls along one fixed direction of those features per class; a hidden layer gives C its own
non-linear features.

Longer training is what moves it past the target (preset ``mnist5k-acgan-long``, 10,000 steps; learning
curves from the checkpoints, benchmarks/checkpoint_curve.py): 94.2 / 93.4 / 91.9 % at 3,000 steps,
96.2 / 95.1 / 93.6 % at 6,000 and 97.9 / 98.8 / 98.6 % at 10,000 for seeds 0 / 1 / 2 (mean 98.4 %, FID
4.6-5.0 beside real-vs-real 1.69): every seed is above 95 % from step 7,000 on. The bound read above
held only early: at 10,000 steps G's samples are classified better than C classifies the validation
digits (96.0-96.6 %), i.e. G draws clearer digits than the average real one, and C's accuracy on real
digits was a rate, not a ceiling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

from gankit.config import Strict
from gankit.data.base import DataInfo
from gankit.data.batch import Batch
from gankit.models.base import StepResult, d_stats
from gankit.models.cgan import ConditionalModel, conditional_nets
from gankit.nets.conditional import AuxClassifierDiscriminator
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import ConditionalPrior
from gankit.validation import parse_params


class ACGAN(ConditionalModel):
    """ACGAN step on an :class:`~gankit.nets.conditional.AuxClassifierDiscriminator`.

    Example::

        model = ACGAN(G, AuxClassifierDiscriminator(D, 10), NonSaturating(), ConditionalPrior(100, 10))
        d = model.d_step(Batch(x=real, y=y))     # d.stats["d_class_acc_real"], ...
    """

    def __init__(self, G: torch.nn.Module, D: AuxClassifierDiscriminator, objective: Objective,
                 prior: ConditionalPrior, class_weight: float = 1.0, fake_class_weight: float = 1.0) -> None:
        super().__init__(G, D, objective, prior)
        self.class_weight, self.fake_class_weight = class_weight, fake_class_weight

    def d_step(self, batch: Batch) -> StepResult:
        real, y = batch.x, batch.y
        if y is None:
            raise ValueError("ACGAN's D step needs the real batch's labels")
        with torch.no_grad():  # D's step needs no gradient through G
            fake, y_fake = self.fake_batch(len(real), real.device)
        real_out, real_logits = self.D(real, with_classes=True)
        fake_out, fake_logits = self.D(fake, with_classes=True)
        adversarial = self.objective.d_loss(real_out, fake_out)
        ce_real = _class_loss(real_logits, y)
        ce_fake = F.cross_entropy(fake_logits, y_fake)
        loss = adversarial + self.class_weight * (ce_real + self.fake_class_weight * ce_fake)
        stats = d_stats(self.objective, loss, real_out, fake_out)
        labelled = y >= 0
        stats |= {
            "d_adv_loss": adversarial.detach(),
            "d_class_loss": (ce_real + self.fake_class_weight * ce_fake).detach(),
            "d_class_acc_real": (real_logits.detach().argmax(1)[labelled] == y[labelled]).float().mean(),
            "d_class_acc_fake": (fake_logits.detach().argmax(1) == y_fake).float().mean(),
        }
        return StepResult(loss, stats)

    def g_step(self, batch: Batch) -> StepResult:
        fake, y_fake = self.fake_batch(len(batch), batch.device)
        fake_out, fake_logits = self.D(fake, with_classes=True)
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
    fake_class_weight: float = Field(1.0, ge=0)
    """Weight of the class loss on G's samples in D's loss, relative to the real one (1 in the paper;
    0 trains the class head on real labels only, see the module docstring)."""
    class_hidden: int = Field(0, ge=0)
    """Width of a hidden LeakyReLU layer in D's class head (0: the linear head of the paper)."""
    class_dropout: float = Field(0.0, ge=0, lt=1)
    """Dropout rate on the features entering D's class head (and on its hidden units), in training
    only (0: none, the paper's head). The Keras ACGAN example drops 0.3 in every layer of D."""
    g_every_layer: bool = False
    """G sees one-hot y at every layer, not only in its input row (dcgan;
    :class:`~gankit.nets.conditional.ConcatDCGANGenerator`)."""


@MODELS.register("acgan", "auxiliary-classifier GAN: D also predicts the class of real and fake samples")
def build_acgan(cfg, info: DataInfo, device) -> ACGAN:
    params = parse_params(ACGANParams, cfg.model.params, "model 'acgan'")
    prior, G, D = conditional_nets(cfg, info, "acgan", params.g_every_layer)
    D = AuxClassifierDiscriminator(D, info.num_classes, params.class_hidden, params.class_dropout)
    return ACGAN(G.to(device), D.to(device), build_objective(cfg.objective), prior, params.class_weight,
                 params.fake_class_weight)
