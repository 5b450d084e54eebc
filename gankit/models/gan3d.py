"""3D-GAN (Wu, Zhang, Xue, Freeman & Tenenbaum 2016): voxel shapes from z, with an adaptive D update.

G maps z ~ N(0, I) to a voxel grid with 3D transposed convolutions, D scores grids with 3D convolutions
(:mod:`gankit.nets.voxel`, sized from the dataset's (1, S, S, S)). The objective is the standard GAN loss
(their Eq. 1),

    L_3D-GAN = log D(x) + log(1 - D(G(z))),

which D maximises and G minimises; gankit's ``objective.name`` supplies the two sides (the presets use
``nonsaturating``: G minimises -log D(G(z)), the form Goodfellow et al. recommend in practice;
``objective.name=minimax`` gives the saturating one).

The adaptive D update (their Sec. 3.1, "Training details"): D learns much faster than G on voxel data, so
"the discriminator is only updated if its accuracy in the last batch is not higher than 80 %". Here, in
each D step, before any update:

    acc = ( #{real x : D says real} + #{fake G(z) : D says fake} ) / (2 N)       (N real, N fake)
    skip D's optimiser step  iff  acc > threshold      (model.params.adaptive_threshold, 0.8; null: never skip)

("says real" is the objective's own decision rule, a positive logit for the GAN losses.) A skipped step
computes D's loss and stats but runs no backward and no optimiser step (``StepResult.skip``; the trainer
skips ``after_d_step`` too, and under torchrun skips only when every process would); ``d_skipped`` logs
the fraction of skipped D steps. :func:`adaptive_skip` is the rule, tested exactly on crafted outputs.

Why a family of its own and not ``model=gan`` with the voxel nets: the 3D nets alone need no new family
(``net.name=voxel`` works with ``model=gan``), but the adaptive update changes the step, and the optional
class-conditional variant (``model.params.conditional: true``: G takes [z, one_hot(y)] from a
:class:`~gankit.sampling.ConditionalPrior`, D is the projection discriminator over the voxel D's features)
is not in the paper; both live here so that ``models/gan.py`` stays the plain Algorithm 1.

The end-of-run figure of every voxel run (this family or ``model=gan`` with ``net.name=voxel``) is the voxel
figure of :mod:`gankit.metrics.voxels` (``voxel_iou``): nearest-neighbour IoU of samples to the training shapes
(memorisation), coverage and minimum matching IoU of the held-out shapes, each beside real shapes.

Example::

    cfg = load_config(preset="shapes-3dgan")
    result = train(cfg)                  # samples/step-*.png are isometric renderings of the voxel grids
    gankit.sample(result.run_dir, out="shapes.png")
"""

from __future__ import annotations

import torch
from pydantic import Field

import gankit.data.voxels  # noqa: F401  (registers the shapes3d and voxel-folder datasets)
import gankit.nets.voxel  # noqa: F401  (registers net.name=voxel)
from gankit.config import Strict
from gankit.data.base import DataInfo
from gankit.data.batch import Batch
from gankit.errors import ConfigError
from gankit.models.base import Model, StepResult, d_stats
from gankit.models.cgan import require_labels
from gankit.nets import build_nets
from gankit.nets.conditional import ProjectionDiscriminator
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import ConditionalPrior, LatentPrior
from gankit.validation import parse_params


def batch_accuracy(real_out: torch.Tensor, fake_out: torch.Tensor, says_real) -> float:
    """D's accuracy on one batch: (real called real + fake called fake) / (N_real + N_fake), as a float."""
    correct = int(says_real(real_out.detach()).sum()) + int((~says_real(fake_out.detach())).sum())
    return correct / (real_out.numel() + fake_out.numel())


def adaptive_skip(real_out: torch.Tensor, fake_out: torch.Tensor, says_real, threshold: float | None) -> bool:
    """3D-GAN's rule: skip D's update iff its accuracy on this batch is above ``threshold`` (None: never)."""
    return threshold is not None and batch_accuracy(real_out, fake_out, says_real) > threshold


class GAN3D(Model):
    """3D-GAN: the GAN step on voxel grids with the adaptive D update; optionally class-conditional.

    Example::

        model = GAN3D(VoxelGenerator(200, 1, 16, 16), VoxelDiscriminator(1, 16, 16), NonSaturating(),
                      LatentPrior(200), threshold=0.8)
        d = model.d_step(Batch(x=real))      # d.skip: True when D was right on more than 80 % of the batch
    """

    skips_d_steps = True

    def __init__(self, G: torch.nn.Module, D: torch.nn.Module, objective: Objective, prior: LatentPrior,
                 threshold: float | None = 0.8) -> None:
        super().__init__({"G": G, "D": D}, prior)
        self.objective, self.threshold = objective, threshold
        self.conditional = isinstance(prior, ConditionalPrior)

    def _fake(self, n: int, device) -> tuple[torch.Tensor, torch.Tensor | None]:
        rows = self.sample_z(n, device)
        return self.G(rows), (self.prior.labels(rows) if self.conditional else None)

    def _score(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return self.D(x, y) if self.conditional else self.D(x)

    def d_step(self, batch: Batch) -> StepResult:
        real, y = batch.x, batch.y
        if self.conditional and y is None:
            raise ValueError("the conditional 3D-GAN's D step needs the real batch's labels")
        with torch.no_grad():  # D's step needs no gradient through G
            fake, y_fake = self._fake(len(real), real.device)
        real_out, fake_out = self._score(real, y), self._score(fake, y_fake)
        loss = self.objective.d_loss(real_out, fake_out)
        skip = adaptive_skip(real_out, fake_out, self.objective.says_real, self.threshold)
        stats = d_stats(self.objective, loss, real_out, fake_out)
        stats["d_skipped"] = torch.tensor(float(skip))
        return StepResult(loss, stats, skip=skip)

    def g_step(self, batch: Batch) -> StepResult:
        fake, y_fake = self._fake(len(batch), batch.device)
        loss = self.objective.g_loss(self._score(fake, y_fake))
        return StepResult(loss, {"g_loss": loss.detach()})


class GAN3DParams(Strict):
    adaptive_threshold: float | None = Field(0.8, ge=0, le=1)
    """Skip D's step while its accuracy on the current batch is above this (0.8 in the paper); null: never."""
    conditional: bool = False
    """G takes [z, one_hot(y)] and D is a projection discriminator (not in the paper; needs labels)."""


@MODELS.register("gan3d", "3D-GAN (Wu et al. 2016): voxel G and D, adaptive D update; conditional: true for G(z, y)")
def build_gan3d(cfg, info: DataInfo, device) -> GAN3D:
    p = parse_params(GAN3DParams, cfg.model.params, "model 'gan3d'")
    if info.kind != "voxel":
        raise ConfigError(f"data.name: model 'gan3d' generates voxel grids, but {info.name!r} holds {info.kind} "
                          "data; use data.name=shapes3d or voxel-folder")
    if p.conditional:
        require_labels(cfg, info, "gan3d")
        prior: LatentPrior = ConditionalPrior(cfg.net.z_dim, info.num_classes)
    else:
        prior = LatentPrior(cfg.net.z_dim)
    G, D = build_nets(cfg.net.model_copy(update={"z_dim": prior.dim}), info)
    if p.conditional:
        D = ProjectionDiscriminator(D, info.num_classes)
    return GAN3D(G.to(device), D.to(device), build_objective(cfg.objective), prior, p.adaptive_threshold).to(device)
