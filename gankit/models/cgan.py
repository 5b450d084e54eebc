"""Conditional GAN (Mirza & Osindero 2014): G and D both see the class y.

    min_G max_D  E_{x,y}[log D(x | y)] + E_{z,y}[log(1 - D(G(z | y) | y))]          (their Eq. 2)

G's input row is ``[z, one_hot(y)]`` from a :class:`~gankit.sampling.ConditionalPrior`, so the plain
DCGAN / MLP generator with ``z_dim + K`` inputs is the concatenation-conditioned generator. D is
conditioned in one of two ways (``model.params.conditioning``):

- ``concat``: one-hot y as extra input channels / features (Mirza & Osindero, Sec. 3.2);
- ``projection``: D(x, y) = head(f(x)) + <embed(y), f(x)> (Miyato & Koyama 2018).

The adversarial part is the configured objective (``objective.name``) over D(x | y), so the CGAN is
the plain GAN step with y passed along. Fake samples get classes drawn uniformly by the prior.

``model.params.mismatch`` (off in the paper, on in the mnist5k presets) makes D matching-aware, as
GAN-CLS (Reed et al. 2016, Sec. 4.1): real images paired with a WRONG class join the fakes in D's
loss, so with N real, N fake and N mismatched pairs D's loss is the objective over (real pairs,
fake pairs + mismatched pairs), and for the objectives that average over fakes each kind of negative
weighs one half, as in their Algorithm 1. Why: without it, D only has to tell real from fake and
need not check that x shows class y; early in training the fakes' flaws are the easier cue, so D
ignores y and so does G (the concat CGAN on mnist5k: 9.9 % class accuracy after 700 steps, chance;
with mismatch, y still only at the nets' inputs, 79.8 % after 1,500 steps and 86.8 % after 3,000;
the projection CGAN went from 65.6 % to 93.0 % after 1,500 steps and reached 98.9 % after 3,000;
docs/benchmarks.md, "conditional").
The wrong class is y + U{1, .., K-1} mod K: uniform over the other classes.

Where y enters the concat nets (``g_every_layer``, ``d_every_layer``, ``d_hidden``; all on in the
mnist5k-cgan preset except ``d_every_layer``). Concatenating a one-hot to a layer's input adds a
per-class bias to that layer and nothing else, so WHERE it is concatenated decides what y can
change. With y only in G's input row and as D's input planes (the paper's Fig. 1, and gankit's
concat CGAN before issue 18), y is a bias of D's first 4x4 convolution: D's own class guess,
argmax_y D(x, y), named the class of only 75.0 % of the 500 real validation digits after 1,500
steps, and G_ema drew the requested class 78.1 % of the time (86.8 % after 3,000), while the
projection D (y enters as an inner product with the last features) gave 93.0 % and 98.9 %. Measured
(benchmarks/conditional.py, seed 0, 1,500 steps unless said; docs/benchmarks.md, "conditional"):

- y also at the input of D's second convolution (``d_every_layer``, with ``g_every_layer``): 76.2 %,
  D's class guess 80.4 %: a bias on low-level features is still the wrong place;
- a 1,024-unit hidden layer on [D's features, one_hot(y)] before the head (``d_hidden``, the
  ``dfc`` layer of the conditional DCGAN MNIST code): D's class guess 92.0 %, but G 78.7 %: D knows
  the class, G (y only in its input row, where after the projection's BatchNorm it is one small
  bias among the z features) does not follow within 1,500 steps;
- both, y at every layer of G too (``g_every_layer``, :class:`ConcatDCGANGenerator`): 86.4 % after
  1,500 steps (FID 10.5 vs 15.3), 97.3 % after 3,000 (FID 5.6; 10.5 min on one shared CPU thread):
  the target of >= 95 % is met by concatenation alone once y reaches G's every layer and D's last
  hidden layer, as the reference conditional DCGANs do.

This module also holds what the class-conditioned families share: the labels check, the nets and the
fake batch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

import torch

from gankit.config import Strict
from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.data.batch import Batch
from gankit.models.base import Model, StepResult, d_stats
from gankit.nets import build_nets
from gankit.nets.conditional import ConcatDCGANGenerator, ConcatDiscriminator, ProjectionDiscriminator
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import ConditionalPrior
from gankit.validation import parse_params

def require_labels(cfg, info: DataInfo, model: str) -> None:
    """A class-conditional family needs a labelled dataset with every training label kept."""
    if info.num_classes < 2:
        raise ConfigError(f"data.name: model {model!r} needs class labels, but {info.name!r} has none; "
                          "use a labelled dataset (digits, mnist5k, ...) or model=infogan")
    if cfg.data.labels is not None and model == "cgan":
        raise ConfigError("data.labels: model 'cgan' conditions D on every real label; remove data.labels")


def conditional_nets(cfg, info: DataInfo, model: str, g_every_layer: bool = False,
                     ) -> tuple[ConditionalPrior, torch.nn.Module, torch.nn.Module]:
    """(prior, G, unconditional D) of a class-conditional family: G gets z_dim + K inputs, and with
    ``g_every_layer`` (dcgan on images only) the one-hot planes at every layer (:class:`ConcatDCGANGenerator`)."""
    require_labels(cfg, info, model)
    prior = ConditionalPrior(cfg.net.z_dim, info.num_classes)
    G, D = build_nets(cfg.net.model_copy(update={"z_dim": prior.dim}), info)
    if g_every_layer:
        if cfg.net.name != "dcgan" or info.kind != "image":
            raise ConfigError(f"model.params.g_every_layer: needs net.name=dcgan on images, got {cfg.net.name!r} "
                              f"on {info.kind} data")
        G = ConcatDCGANGenerator(cfg.net.z_dim, info.num_classes, info.channels, info.image_size, cfg.net.width)
    return prior, G, D


class ConditionalModel(Model):
    """A family whose G draws class-conditioned rows: owns the objective and the :class:`ConditionalPrior`."""

    prior: ConditionalPrior

    def __init__(self, G: torch.nn.Module, D: torch.nn.Module, objective: Objective, prior: ConditionalPrior) -> None:
        super().__init__({"G": G, "D": D}, prior)
        self.objective = objective

    def fake_batch(self, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """(G(z, y) (N, ...), y (N,)) with z and y drawn from the global RNG (checkpointed)."""
        rows = self.sample_z(n, device)
        return self.G(rows), self.prior.labels(rows)


class CGAN(ConditionalModel):
    """Conditional GAN: the objective over D(x, y) for real (x, y) and for (G(z, y), y).

    Example::

        model = CGAN(G, ProjectionDiscriminator(D, 10), NonSaturating(), ConditionalPrior(100, 10))
        d = model.d_step(Batch(x=real, y=y))     # y: the real batch's labels
        g = model.g_step(Batch(x=real, y=y))
    """

    def __init__(self, G: torch.nn.Module, D: torch.nn.Module, objective: Objective, prior: ConditionalPrior,
                 mismatch: bool = False) -> None:
        super().__init__(G, D, objective, prior)
        self.mismatch = mismatch

    def d_step(self, batch: Batch) -> StepResult:
        real, y = batch.x, batch.y
        if y is None:
            raise ValueError("CGAN's D step needs the real batch's labels")
        with torch.no_grad():  # D's step needs no gradient through G
            fake, y_fake = self.fake_batch(len(real), real.device)
        real_out, fake_out = self.D(real, y), self.D(fake, y_fake)
        if not self.mismatch:
            loss = self.objective.d_loss(real_out, fake_out)
            return StepResult(loss, d_stats(self.objective, loss, real_out, fake_out))
        k = self.prior.num_classes
        y_wrong = (y + torch.randint(1, k, y.shape, device=y.device)) % k  # never y itself
        wrong_out = self.D(real, y_wrong)
        loss = self.objective.d_loss(real_out, torch.cat([fake_out, wrong_out]))
        stats = d_stats(self.objective, loss, real_out, fake_out)
        stats["d_acc_mismatch"] = (~self.objective.says_real(wrong_out.detach())).float().mean()
        return StepResult(loss, stats)

    def g_step(self, batch: Batch) -> StepResult:
        fake, y_fake = self.fake_batch(len(batch), batch.device)
        loss = self.objective.g_loss(self.D(fake, y_fake))
        return StepResult(loss, {"g_loss": loss.detach()})


class CGANParams(Strict):
    conditioning: Literal["concat", "projection"] = "concat"
    """How D sees y: one-hot input channels (Mirza & Osindero) or a projection (Miyato & Koyama)."""
    mismatch: bool = False
    """Matching-aware D (GAN-CLS, Reed et al. 2016): real images with a wrong class count as fakes."""
    g_every_layer: bool = False
    """G sees one-hot y at every layer, not only in its input row (dcgan; :class:`ConcatDCGANGenerator`)."""
    d_every_layer: bool = False
    """concat only: D sees the one-hot planes at the input of every convolution, not only beside x (dcgan)."""
    d_hidden: int = Field(0, ge=0)
    """concat only: a hidden LeakyReLU layer of this width on [D's features, one_hot(y)] before the head (0: none)."""


@MODELS.register("cgan", "conditional GAN: G and D see the class (D by concat or projection)")
def build_cgan(cfg, info: DataInfo, device) -> CGAN:
    params = parse_params(CGANParams, cfg.model.params, "model 'cgan'")
    prior, G, D = conditional_nets(cfg, info, "cgan", params.g_every_layer)
    if params.conditioning == "concat":
        if cfg.net.params.get("d_norm", "none") != "none":
            raise ConfigError("net.params.d_norm: conditioning=concat builds its own D, without normalisation; "
                              "drop it or set model.params.conditioning=projection")
        D = ConcatDiscriminator(cfg.net.name, info, cfg.net.width, cfg.net.depth, params.d_every_layer, params.d_hidden)
    else:
        if params.d_every_layer or params.d_hidden:
            key = "d_every_layer" if params.d_every_layer else "d_hidden"
            raise ConfigError(f"model.params.{key}: only for conditioning=concat (projection sees y once, late)")
        D = ProjectionDiscriminator(D, info.num_classes)
    return CGAN(G.to(device), D.to(device), build_objective(cfg.objective), prior, params.mismatch)
