"""The Localized GAN's semi-supervised classifier, trained as the paper trains it: a K-class discriminator
that plays against a local generator G(x, z) and is smooth along G's tangents (Qi et al., "Global versus
Localized Generative Adversarial Nets", CVPR 2018, section 5).

The classifier f is the semi-supervised GAN's D (:mod:`gankit.models.ssgan`, Salimans et al. 2016): K
class logits l_1..l_K and an implicit (K+1)-th "fake" logit fixed at 0, so D(x) = Z(x) / (Z(x) + 1) with
Z = sum_k exp l_k. What changes is where its fakes come from and one more term. D minimises

    L_D = CE(l(x_lab), y_lab)                                        labelled images
        + unsup_weight * objective.d_loss(log Z(x), log Z(G(x', z)))  every training image vs local fakes
        + smooth_weight * E_x sum_i || J_f(x) tau_i(x) ||^2           smoothness along the manifold

with G(x', z) = x' + sum_i z_i T_i(x', z) the local generator of :mod:`gankit.models.lgan` around real
training images x', tau_i(x) = dG(x, z)/dz_i at z = 0 its tangents at x (scaled by 1/s, detached: D's
step does not move G), and f's output taken as the K class log-probabilities
(:func:`gankit.models.lgan.tangent_smoothness`): the paper's Laplace-Beltrami term, the variation of the
classifier along the data manifold at x, computed from G's charts instead of a neighbourhood graph. G
minimises feature matching on D's features (Salimans et al. 2016, section 3.1) plus the orthonormal-tangent
penalty lambda_G || (J/s)^T (J/s) - I ||_F^2 at z = 0 (the Localized GAN's own term), so its tangents stay
k independent directions of length s for the smoothness term to use.

With ``smooth_weight=0`` the D step is exactly the semi-supervised GAN's D step with local fakes; with
``tangent_weight=0`` the G step is exactly its feature matching (both tested).

**Measured (mnist5k, 100 labels, preset ``mnist5k-lgan-ssl``; docs/benchmarks.md, section "localized"):
it does not reproduce the paper here.** Validation error after 2,000 steps (seed 0): smooth_weight 0
71.6 %, 1 45.8 %, 10 42.4 %, against 17.0 % for ``mnist5k-ssgan-mlp`` (the same D with global fakes) and
27.8 % for that MLP on the labels alone. D's real/fake accuracy stays at chance (0.49-0.54): fakes within
a nearest-neighbour distance of real images cannot be told from them, so the unsupervised term moves D's
logits along G's tangents instead of teaching it where the data are (the fakes that help a semi-supervised
D lie in the gaps between classes, Dai et al. 2017); the smoothness term repairs part of that. On test
(5 seeds, weight 10): 55.7 +- 12.3 % error, behind the supervised baseline in every seed.

Example::

    gankit train --preset mnist5k-lgan-ssl          # 100 labels; ends with D's test error and G's local dimension
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field

from gankit.data import build_dataset
from gankit.data.base import Dataset
from gankit.data.batch import Batch
from gankit.errors import ConfigError
from gankit.models.base import StepResult
from gankit.models.classifier import INIT_BATCH, Classifier, build_classifier, labelled
from gankit.models.lgan import (
    LGANParams,
    LocalCharts,
    LocalGenerator,
    LocalSource,
    check_local_family,
    local_parts,
    tangent_smoothness,
    tangents,
)
from gankit.models.ssgan import SemiSupervisedGAN, SSGANParams
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.validation import parse_params


class LocalSemiSupervisedGAN(LocalCharts, SemiSupervisedGAN):
    """The semi-supervised GAN's steps on local fakes G(x, z), D smooth along G's tangents (module docstring).

    Example::

        model = LocalSemiSupervisedGAN(G, D, NonSaturating(), LocalSource(train, 8), x_lab, y_lab,
                                       smooth_weight=1.0, tangent_weight=1.0, tangent_scale=3.25)
        d = model.d_step(Batch(x=real))     # d.stats["reg_smooth"], d.stats["sup_ce"], ...
        g = model.g_step(Batch(x=real))     # g.stats["reg_tangent"]
    """

    def __init__(self, G: LocalGenerator, D: Classifier, objective: Objective, source: LocalSource,
                 labelled_x: torch.Tensor, labelled_y: torch.Tensor, smooth_weight: float, tangent_weight: float,
                 tangent_scale: float, labelled_batch: int = 64, unsup_weight: float = 1.0,
                 smooth_batch: int | None = None, tangent_batch: int | None = None) -> None:
        super().__init__(G, D, objective, source.dim, labelled_x, labelled_y, labelled_batch, unsup_weight)
        self.source = source  # the base class set a latent prior; G takes (x, z) instead
        self.local_dim = source.dim
        self.smooth_weight, self.smooth_batch = smooth_weight, smooth_batch
        self.tangent_weight, self.tangent_scale, self.tangent_batch = tangent_weight, tangent_scale, tangent_batch

    def d_step(self, batch: Batch) -> StepResult:
        d = super().d_step(batch)
        if self.smooth_weight == 0:
            return d
        x = batch.x[:self.smooth_batch]  # labelled or not: the first images of the real batch
        with torch.no_grad():  # G's tangents at x, fixed for D's step
            T = tangents(self.G, x, self.local_dim, self.tangent_scale)
        smooth = self.smooth_weight * tangent_smoothness(self.D, x, T)
        return StepResult(d.loss + smooth, {**d.stats, "reg_smooth": smooth.detach()})

    def g_step(self, batch: Batch) -> StepResult:
        return self.with_tangent_penalty(super().g_step(batch), batch)

    def final_figures(self, dataset: Dataset, split: str) -> dict[str, Any]:
        """D's classification error on ``split`` (the family's figure) and G's local dimension there."""
        clf, loc = super().final_figures(dataset, split), self.local_dimension_figures(dataset, split)
        return {"lines": clf["lines"] + loc["lines"], "values": {**clf["values"], "local_dimension": loc["values"]},
                "fingerprint": {**clf["fingerprint"], "local_dimension": loc["fingerprint"]}}


class LGANSSLParams(SSGANParams, LGANParams):
    """``model.params`` of lgan-ssl: the semi-supervised GAN's and the Localized GAN's, and the smoothness term."""

    smooth_weight: float = Field(1.0, ge=0)
    """Weight of sum_i || J_f(x) tau_i / s ||^2 in D's loss; 0 switches it off."""
    smooth_batch: int = Field(32, ge=1)
    """The smoothness term is taken on the first this many images of each real batch (its forward-mode pass
    through D costs k rows per image)."""


@MODELS.register("lgan-ssl", "Localized GAN's semi-supervised classifier: K-class D vs local fakes G(x, z), "
                             "smooth along G's tangents")
def build_lgan_ssl(cfg, info, device) -> LocalSemiSupervisedGAN:
    p = parse_params(LGANSSLParams, cfg.model.params, "model 'lgan-ssl'")
    check_local_family(cfg, info, "lgan-ssl")
    train_split = build_dataset(cfg.data).train
    D = build_classifier(cfg.net, info, p.noise_std, p.dropout, init_x=train_split.float_x(slice(0, INIT_BATCH)))
    x_lab, y_lab = labelled(train_split)
    if len(x_lab) == 0:
        raise ConfigError("data.labels: lgan-ssl needs at least one labelled training sample")
    G, source, scale = local_parts(cfg, info, p, train_split)
    model = LocalSemiSupervisedGAN(G, D, build_objective(cfg.objective), source, x_lab, y_lab, p.smooth_weight,
                                   p.tangent_weight, scale, p.labelled_batch, p.unsup_weight, p.smooth_batch,
                                   p.tangent_batch)
    return model.to(device)


__all__ = ["LGANSSLParams", "LocalSemiSupervisedGAN"]
