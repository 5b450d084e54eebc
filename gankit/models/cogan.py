"""Coupled GAN (CoGAN; Liu & Tuzel 2016, "Coupled Generative Adversarial Networks").

Two GANs, one per domain, trained on UNPAIRED samples of the two domains: G1, G2 share their first layers
and D1, D2 share their last layers (:mod:`gankit.nets.coupled`). The shared layers of G decode the same
high-level content from one z for both domains, so without ever seeing a pair the model learns a joint
distribution: G1(z) and G2(z) are the same digit in the two domains. The objective (the paper's Eq. 4, with
any gankit objective in place of the minimax one) is the sum of the two GAN games,

    D step:  L_D = d_loss(D1(x1), D1(G1(z))) + d_loss(D2(x2), D2(G2(z)))
    G step:  L_G = g_loss(D1(G1(z))) + g_loss(D2(G2(z)))

with one z ~ N(0, I) per row, shared by both generators. Data: batches with ``x`` (domain 1) and a second
image field, ``x2`` (the unpaired digits of :mod:`gankit.data.unpaired`) or ``x_target`` (the two-domain
datasets of :mod:`gankit.data.domains`); the two images of a row are unrelated.

``model.params``:

- ``share`` (true): false is the paper's no-sharing control, the same layers with nothing tied;
- ``class_weight`` (0): > 0 is CoGAN's unsupervised domain adaptation (the paper's Sec. 5): a softmax
  classifier on D's shared features, trained in D's step with weight ``class_weight`` on the labelled
  source images of domain 1 (cross-entropy of ``D1``'s class logits). Since D2 shares the feature layers,
  the same classifier reads the target domain through D2's own first layer, which the adversarial game
  adapts to the target: the target prediction is ``argmax classes(D2 features(x))``. Needs a two-domain
  dataset (``mnist5k-to-mnistm``, ``digits28-to-mnist5k``, ...).

Sampling: the source draws one z for both generators. ``Model.sample(n, seed)`` (FID / KID, ``gankit
sample``, ``gankit eval``) renders the domain whose real images the dataset's evaluation split holds as
``x``: domain 1 on the unpaired datasets; domain 2 (the target) on the two-domain datasets, whose val /
test ``x`` are the target's. :meth:`CoGAN.sample_pair` gives both images of the same z; sample grids show
row pairs (a row of domain 1, below it the same z in domain 2).

End-of-run figures (:meth:`CoGAN.final_figures`): on data with a known transform (``mnist5k-unpaired-*``)
the paper's pixel agreement ratio, :func:`pixel_agreement` of T(G1(z)) and G2(z) over ``FIGURE_N`` seeded
z, beside the same ratio for unrelated pairs (G2 of another z: the chance level); with the classifier,
the target (and source) test accuracy.

Not the paper's: the layers. gankit builds the coupled pair from its DCGAN nets (``net.width``,
``net.z_dim``): for 28 x 28 digits G is z -> 7x7x128 -> 14x14x64 (shared) -> 28x28 (per domain), D is
28 -> 14x14x32 (per domain) -> 7x7x64 -> score (shared); the paper's digit nets are wider (G up to 1024
channels, D LeNet-like with 20 / 50 channels and a 500-unit layer).

Example::

    cfg = load_config(preset="mnist5k-cogan-edges")
    result = train(cfg)        # prints "CoGAN pixel agreement ..." at the end
    x1, x2 = result.model.sample_pair(16, seed=0)
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field

from gankit.config import Strict
from gankit.data.base import DataInfo
from gankit.data.batch import Batch
from gankit.data.domains import TARGET_FIELD
from gankit.data.unpaired import SECOND_FIELD, transform_images
from gankit.errors import ConfigError
from gankit.models.base import Model, StepResult, d_stats
from gankit.nets.coupled import CoupledDiscriminator, CoupledGenerator
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import LatentPrior
from gankit.validation import parse_params

FIGURE_N = 2000  # z of the pixel agreement figure
FIGURE_SEED = 0  # their seed (the chance pairs use z of seed FIGURE_SEED + 1)
SECOND_FIELDS = (SECOND_FIELD, TARGET_FIELD)  # the domain-2 image field, whichever the data has


def pixel_agreement(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image fraction of pixels on which two images in [-1, 1] agree, each binarised at 0 (white > 0):
    the paper's pixel agreement ratio, applied to ``a = T(G1(z))`` and ``b = G2(z)``. (N,) float64.

    Example::

        x = torch.tensor([[[[-1.0, 0.5], [0.2, -0.3]]]])
        pixel_agreement(-x, -x)       # tensor([1.])
        pixel_agreement(x, -x)        # tensor([0.])
    """
    if a.shape != b.shape:
        raise ValueError(f"pixel agreement compares images of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return ((a > 0) == (b > 0)).flatten(1).double().mean(1)


class CoGANParams(Strict):
    """``model.params`` of cogan."""

    share: bool = True
    """Tie G's first layers and D's last layers across the domains (false: the no-sharing control)."""
    class_weight: float = Field(0.0, ge=0)
    """> 0: domain adaptation, a classifier on D's shared features trained on the labelled domain-1 images
    with this weight in D's loss (needs a two-domain dataset)."""


class CoGAN(Model):
    """Coupled generators and discriminators (module docstring).

    Example::

        model = CoGAN(CoupledGenerator(16, (1, 1), 28, 8), CoupledDiscriminator((1, 1), 28, 8), NonSaturating(), 16)
        d = model.d_step(Batch(x=x1, x2=x2))
        x1, x2 = model.sample_pair(8, seed=0)
    """

    def __init__(self, G: CoupledGenerator, D: CoupledDiscriminator, objective: Objective, z_dim: int,
                 second: str = SECOND_FIELD, class_weight: float = 0.0) -> None:
        super().__init__({"G": G, "D": D}, LatentPrior(z_dim))
        self.objective, self.second, self.class_weight = objective, second, class_weight

    @property
    def share(self) -> bool:
        return self.nets["G"].share

    def d_step(self, batch: Batch) -> StepResult:
        n = len(batch)
        with torch.no_grad():
            fake1, fake2 = self.G(self.sample_z(n, batch.device), both=True)
        # Real and fake of one domain in one pass (D has no batch statistics, so this equals two passes).
        if self.class_weight > 0:
            out1, logits = self.D(torch.cat([batch.x, fake1]), domain=1, with_classes=True)
        else:
            out1 = self.D(torch.cat([batch.x, fake1]), domain=1)
        out2 = self.D(torch.cat([batch[self.second], fake2]), domain=2)
        loss1 = self.objective.d_loss(out1[:n], out1[n:])
        loss2 = self.objective.d_loss(out2[:n], out2[n:])
        loss = loss1 + loss2
        s1, s2 = (d_stats(self.objective, l, o[:n], o[n:]) for l, o in ((loss1, out1), (loss2, out2)))
        stats = {"d_loss": loss.detach(), "d1_loss": s1["d_loss"], "d2_loss": s2["d_loss"],
                 "d_acc_real": (s1["d_acc_real"] + s2["d_acc_real"]) / 2,
                 "d_acc_fake": (s1["d_acc_fake"] + s2["d_acc_fake"]) / 2}
        if self.class_weight > 0:
            labelled = batch.y >= 0  # -1: a source image without its label (data.labels=N)
            logits, y = logits[:n][labelled], batch.y[labelled]
            ce = F.cross_entropy(logits, y) if len(y) else logits.sum() * 0.0  # no labelled row: no class loss
            loss = loss + self.class_weight * ce
            stats |= {"ce": ce.detach(), "acc": (logits.detach().argmax(1) == y).float().mean() if len(y)
                      else torch.zeros((), device=ce.device)}
        return StepResult(loss, stats)

    def g_step(self, batch: Batch) -> StepResult:
        fake1, fake2 = self.G(self.sample_z(len(batch), batch.device), both=True)
        loss1 = self.objective.g_loss(self.D(fake1, domain=1))
        loss2 = self.objective.g_loss(self.D(fake2, domain=2))
        return StepResult(loss1 + loss2, {"g_loss": (loss1 + loss2).detach(), "g1_loss": loss1.detach(),
                                          "g2_loss": loss2.detach()})

    # -- samples ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample_pair(self, n: int, seed: int, device: torch.device | str = "cpu", G: torch.nn.Module | None = None,
                    batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
        """(G1(z), G2(z)) for the same ``n`` seeded z (CPU float32, G in eval mode, its mode restored): the
        same content rendered in both domains. ``Model.sample`` gives one domain (module docstring)."""
        G = G if G is not None else self.nets["G"]
        z = self.source.sample(n, seed=seed, device=device)
        was_training = G.training
        G.eval()
        try:
            pairs = [G(chunk, both=True) for chunk in z.split(batch_size)]
        finally:
            G.train(was_training)
        return tuple(torch.cat([p[i].float().cpu() for p in pairs]) for i in range(2))

    def sample_grid(self, n: int, seed: int, device: torch.device | str = "cpu",
                    G: torch.nn.Module | None = None) -> torch.Tensor:
        """Row pairs: k = isqrt(n) columns, k // 2 (at least 1) pairs of rows; a row of domain 1 and under it the
        same z in domain 2 (grey domains shown in colour when the other is colour). 2 k (k // 2) images."""
        cols = max(1, math.isqrt(n))
        rows = max(1, cols // 2)
        x1, x2 = self.sample_pair(cols * rows, seed, device, G)
        c = max(x1.shape[1], x2.shape[1])
        x1, x2 = x1.expand(-1, c, -1, -1), x2.expand(-1, c, -1, -1)
        tiles = torch.stack([x1.reshape(rows, cols, *x1.shape[1:]), x2.reshape(rows, cols, *x2.shape[1:])], dim=1)
        return tiles.reshape(2 * rows * cols, *x1.shape[1:])

    # -- figures ---------------------------------------------------------------------------------------
    def agreement(self, transform: str, n: int = FIGURE_N, seed: int = FIGURE_SEED,
                  G: torch.nn.Module | None = None) -> dict[str, float]:
        """The paper's pixel agreement ratio: mean over n seeded z of :func:`pixel_agreement` of
        T(G1(z)) and G2(z) (``agreement``), and of T(G1(z)) and G2(z') for the z' of seed ``seed + 1``
        (``chance``: what two unrelated samples agree on, e.g. the shared black background)."""
        x1, x2 = self.sample_pair(n, seed, G=G)
        t1 = transform_images(transform, x1)
        _, other = self.sample_pair(n, seed + 1, G=G)
        return {"agreement": float(pixel_agreement(t1, x2).mean()), "chance": float(pixel_agreement(t1, other).mean())}

    @torch.no_grad()
    def accuracy(self, split, domain: int, batch_size: int = 500) -> float:
        """Fraction of ``split`` whose argmax of the class head on D's features (through ``domain``'s first
        layer) is its label (D in eval mode, restored after)."""
        D = self.nets["D"]
        was_training = D.training
        D.eval()
        try:
            device = next(D.parameters()).device
            rows = torch.arange(len(split)).split(batch_size)
            pred = torch.cat([D(split.float_x(idx.to(split.y.device)).to(device), domain=domain,
                                with_classes=True)[1].argmax(1).cpu() for idx in rows])
        finally:
            D.train(was_training)
        return float((pred == split.y.cpu()).double().mean())

    def final_figures(self, dataset, split: str) -> dict[str, Any]:
        """Pixel agreement (data with a known transform) and the classifier's accuracies (``class_weight`` > 0)."""
        lines: list[str] = []
        values: dict[str, Any] = {}
        sharing = "shared" if self.share else "no sharing"
        fp: dict[str, Any] = {"dataset": dataset.info.name, "share": self.share, "generator": "G"}
        transform = getattr(dataset, "transform", "")
        if transform:
            a = self.agreement(transform)
            values |= {"pixel_agreement": a["agreement"], "pixel_agreement_chance": a["chance"]}
            fp |= {"transform": transform, "n": FIGURE_N, "seed": FIGURE_SEED, "chance_seed": FIGURE_SEED + 1,
                   "pixel_agreement": "mean over z of the fraction of pixels where T(G1(z)) > 0 == G2(z) > 0, "
                                      "G1(z) through 8-bit codes"}
            lines.append(f"CoGAN pixel agreement {a['agreement']:.4f} (unrelated pairs: {a['chance']:.4f})  | "
                         f"{dataset.info.name}, T = {transform}, {sharing}, N={FIGURE_N} z of seed {FIGURE_SEED}, G")
        if self.class_weight > 0 and getattr(dataset, "source", None) is not None:
            held = dataset.split(split)
            source = dataset.source.split(split)
            target_acc, source_acc = self.accuracy(held, domain=2), self.accuracy(source, domain=1)
            values |= {"target_accuracy": target_acc, "source_accuracy": source_acc}
            fp |= {"split": split, "n_target": len(held), "n_source": len(source), "source": dataset.source.info.name,
                   "target": dataset.target.info.name, "classifier": "argmax of D's class head on shared features"}
            lines.append(f"CoGAN: target {split} accuracy {100 * target_acc:.2f} %, source {split} accuracy "
                         f"{100 * source_acc:.2f} %  | {dataset.info.name}, N={len(held)} target / {len(source)} "
                         f"source {split} images, {sharing}, class head on D's shared features")
        return {"lines": lines, "values": values, "fingerprint": fp} if lines else {}


def check_data(cfg, info: DataInfo, p: CoGANParams) -> str:
    """The domain-2 field of ``info``; a ConfigError naming the key to change when CoGAN cannot train on it."""
    second = next((f for f in SECOND_FIELDS if f in info.fields), None)
    if info.kind != "image" or second is None:
        raise ConfigError(f"data.name: model 'cogan' needs two image domains (a field {SECOND_FIELD!r} or "
                          f"{TARGET_FIELD!r}): mnist5k-unpaired-edges, mnist5k-unpaired-negative, mnist5k-to-mnistm, "
                          f"digits28-to-mnist5k, ...; {info.name!r} has fields {', '.join(info.fields)}")
    a, b = info.fields["x"], info.fields[second]
    if a[1:] != b[1:] or a[1] != a[2]:
        raise ConfigError(f"data.name: cogan needs square images of one size in both domains; {info.name!r} has "
                          f"{a} and {b}")
    if cfg.net.name != "dcgan":
        raise ConfigError(f"net.name: cogan builds its coupled nets from the DCGAN layout (net.width, net.z_dim); "
                          f"set net.name=dcgan, not {cfg.net.name}")
    if cfg.net.params:
        key = sorted(cfg.net.params)[0]
        raise ConfigError(f"net.params.{key}: cogan builds its coupled nets itself and reads no net.params; "
                          f"drop it")
    if p.class_weight > 0 and (second != TARGET_FIELD or info.num_classes < 2):
        raise ConfigError(f"model.params.class_weight: the classifier is CoGAN's domain adaptation and needs a "
                          f"two-domain dataset with labelled source images (mnist5k-to-mnistm, digits28-to-mnist5k, "
                          f"...), not {info.name!r}; set class_weight=0")
    return second


@MODELS.register("cogan", "Coupled GAN (Liu & Tuzel 2016): two G sharing first layers, two D sharing last layers, "
                          "unpaired domains; model.params.share, class_weight (domain adaptation)")
def build_cogan(cfg, info: DataInfo, device) -> CoGAN:
    p = parse_params(CoGANParams, cfg.model.params, "model 'cogan'")
    second = check_data(cfg, info, p)
    channels = (info.fields["x"][0], info.fields[second][0])
    # Sampling renders the domain the evaluation split's x holds: the target's on two-domain data.
    G = CoupledGenerator(cfg.net.z_dim, channels, info.image_size, cfg.net.width, p.share,
                         default_domain=2 if second == TARGET_FIELD else 1)
    D = CoupledDiscriminator(channels, info.image_size, cfg.net.width, p.share,
                             info.num_classes if p.class_weight > 0 else 0)
    return CoGAN(G, D, build_objective(cfg.objective), cfg.net.z_dim, second, p.class_weight).to(device)


__all__ = ["CoGAN", "CoGANParams", "pixel_agreement"]
