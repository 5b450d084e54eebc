"""The semi-supervised GAN of Salimans et al. (2016, "Improved Techniques for Training GANs", section 5).

D is a K-class classifier with unnormalised logits l_1..l_K (no extra "fake" class: it is the K+1-th
logit fixed at 0). The probability that x is real is

    D(x) = Z(x) / (Z(x) + 1),    Z(x) = sum_k exp l_k(x),

so the real/fake logit is log Z(x) = logsumexp_k l_k(x) (:func:`real_logit`), and the GAN objective
(``cfg.objective``) is applied to it. D minimises

    L = CE(l(x_lab), y_lab) + unsup_weight * objective.d_loss(log Z(x), log Z(G(z)))

where the cross-entropy uses a batch of the labelled training samples (``data.labels`` of them, kept
by the model as a pool and drawn from the global RNG, so resuming is exact) and the unsupervised term
every training image, labelled or not. G minimises feature matching (section 3.1):
|| mean f(x) - mean f(G(z)) ||^2 on D's features f (the input of its head).

The classifier's test error is :func:`gankit.models.classifier.classification_error` of ``model.D``; the
supervised baseline with the same architecture and labels is
:func:`gankit.models.classifier.train_supervised`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

from gankit.config import Strict
from gankit.data import build_dataset
from gankit.errors import ConfigError
from gankit.data.batch import Batch
from gankit.models.base import Model, StepResult, d_stats
from gankit.models.classifier import INIT_BATCH, Classifier, build_classifier, classification_error, labelled
from gankit.nets import build_nets
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import LatentPrior
from gankit.validation import parse_params


def real_logit(logits: torch.Tensor) -> torch.Tensor:
    """log Z = logsumexp_k l_k (N,): the logit of D(x) = Z / (Z + 1), i.e. sigmoid(log Z) = D(x)."""
    return torch.logsumexp(logits, dim=1)


def real_probability(logits: torch.Tensor) -> torch.Tensor:
    """D(x) = Z / (Z + 1) with Z = sum_k exp l_k, computed stably as sigmoid(logsumexp l)."""
    return torch.sigmoid(real_logit(logits))


def feature_matching(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """|| mean_batch f(real) - mean_batch f(fake) ||^2 (Salimans et al. 2016, section 3.1)."""
    return (real_features.mean(0) - fake_features.mean(0)).pow(2).sum()


class SemiSupervisedGAN(Model):
    """G, and a K-class D whose logits also judge real vs fake.

    ``labelled_x``, ``labelled_y`` are the labelled training samples; each D step draws
    ``labelled_batch`` of them (with replacement) for the cross-entropy term.

    Example::

        model = SemiSupervisedGAN(G, D, NonSaturating(), z_dim=100, labelled_x=x_l, labelled_y=y_l)
        d = model.d_step(Batch(x=real))     # d.stats["sup_ce"], d.stats["d_acc_real"], ...
        model.D(x).argmax(1)                # the classifier's prediction
    """

    def __init__(self, G: torch.nn.Module, D: Classifier, objective: Objective, z_dim: int,
                 labelled_x: torch.Tensor, labelled_y: torch.Tensor, labelled_batch: int = 64,
                 unsup_weight: float = 1.0) -> None:
        super().__init__({"G": G, "D": D}, LatentPrior(z_dim))
        self.objective = objective
        self.labelled_x, self.labelled_y = labelled_x, labelled_y
        self.labelled_batch = labelled_batch
        self.unsup_weight = unsup_weight

    def d_step(self, batch: Batch) -> StepResult:
        real = batch.x
        # The labelled batch comes from the model's pool (the real batch holds ~1.6 labels in 64 when
        # 100 of 4,000 are labelled); indices from the global CPU RNG, whose state checkpoints save.
        idx = torch.randint(len(self.labelled_x), (self.labelled_batch,)).to(self.labelled_x.device)
        x_lab, y_lab = self.labelled_x[idx], self.labelled_y[idx]
        with torch.no_grad():
            fake = self.G(self.sample_z(len(real), real.device))
        logits_lab = self.D(x_lab)
        real_out, fake_out = real_logit(self.D(real)), real_logit(self.D(fake))
        sup = F.cross_entropy(logits_lab, y_lab)
        unsup = self.objective.d_loss(real_out, fake_out)
        loss = sup + self.unsup_weight * unsup
        return StepResult(loss, {
            **d_stats(self.objective, loss, real_out, fake_out),
            "sup_ce": sup.detach(),
            "sup_acc": (logits_lab.detach().argmax(1) == y_lab).float().mean(),
        })

    def final_figures(self, dataset, split: str) -> dict:
        """D's classification error on ``split`` (all its images, every label), the family's figure."""
        data = dataset.split(split)
        error = classification_error(self.nets["D"], data)
        fingerprint = {"dataset": dataset.info.name, "split": split, "n": len(data),
                       "labelled_train": len(self.labelled_y), "classifier": "D (argmax of its K logits)"}
        line = (f"semi-supervised D: test error {100 * error:.2f} %  | {dataset.info.name} {split}, N={len(data)}; "
                f"{len(self.labelled_y)} labelled training images")
        return {"lines": [line], "values": {"classifier_error": error}, "fingerprint": fingerprint}

    def g_step(self, batch: Batch) -> StepResult:
        real = batch.x
        with torch.no_grad():
            f_real = self.D(real, with_features=True)[1]
        f_fake = self.D(self.G(self.sample_z(len(real), real.device)), with_features=True)[1]
        loss = feature_matching(f_real, f_fake)
        return StepResult(loss, {"g_loss": loss.detach()})


class SSGANParams(Strict):
    """``model.params`` of ssgan."""

    labelled_batch: int = Field(64, ge=1)
    """Labelled samples (drawn with replacement) in each D step's cross-entropy term."""
    unsup_weight: float = Field(1.0, ge=0)
    """Weight of the unsupervised real/fake term in D's loss (0: D is a plain supervised classifier)."""
    noise_std: float = Field(0.3, ge=0)
    """Std of the Gaussian noise added to D's input while training (Salimans et al. use 0.3 on MNIST)."""
    dropout: float = Field(0.0, ge=0, lt=1)
    """Dropout rate on D's features, before its head."""


@MODELS.register("ssgan", "semi-supervised GAN: K-class D, real/fake = logsumexp of its logits, feature matching")
def build_ssgan(cfg, info, device) -> SemiSupervisedGAN:
    p = parse_params(SSGANParams, cfg.model.params, "model 'ssgan'")
    G, _ = build_nets(cfg.net, info)
    train_split = build_dataset(cfg.data).train
    D = build_classifier(cfg.net, info, p.noise_std, p.dropout, init_x=train_split.float_x(slice(0, INIT_BATCH)))
    x_lab, y_lab = labelled(train_split)
    if len(x_lab) == 0:
        raise ConfigError("data.labels: ssgan needs at least one labelled training sample")
    return SemiSupervisedGAN(G.to(device), D.to(device), build_objective(cfg.objective), cfg.net.z_dim,
                             x_lab.to(device), y_lab.to(device), p.labelled_batch, p.unsup_weight)
