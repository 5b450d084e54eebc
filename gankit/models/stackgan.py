"""StackGAN (Zhang et al. 2017, "StackGAN: Text to Photo-realistic Image Synthesis with Stacked Generative
Adversarial Networks"), small: an image drawn from a caption, first coarse, then refined.

Data: images with captions (:mod:`gankit.data.captions`: ``mnist5k-captions``, "a thin, right-slanted,
small seven", or a user's ``caption-folder``). Networks: :mod:`gankit.nets.stackgan`.

Text embedding and conditioning augmentation (CA, Sec. 3.1). phi_t is the caption's fixed embedding (here
its bag of words). Instead of feeding phi_t to G, CA draws the conditioning variable from a Gaussian
whose mean and diagonal covariance are functions of phi_t:

    c = mu(phi_t) + sigma(phi_t) * eps,      eps ~ N(0, I)

and G is regularised towards a smooth conditioning manifold by

    lambda * D_KL( N(mu(phi_t), diag sigma(phi_t)^2) || N(0, I) )
        = lambda * 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)

(``model.params.kl_weight`` = lambda, 1 in the paper). Each stage has its own CA (c_1 and c_2 below).

Stage-I (Sec. 3.2), at half resolution (14 x 14 for digits), alternately maximising L_D1 and minimising L_G1:

    L_D1 = E_(I, t) [log D_1(I_1, phi_t)] + E_(z, t) [log(1 - D_1(G_1(z, c_1), phi_t))]
    L_G1 = E_(z, t) [log(1 - D_1(G_1(z, c_1), phi_t))] + lambda D_KL(N(mu_1, Sigma_1) || N(0, I))

with I_1 the real image at half resolution (2 x 2 mean pooling). Stage-II (Sec. 3.3), at full resolution,
conditioned on the Stage-I image s_0 = G_1(z, c_1) and on the text again:

    L_D2 = E_(I, t) [log D_2(I, phi_t)] + E_(s_0, t) [log(1 - D_2(G_2(s_0, c_2), phi_t))]
    L_G2 = E_(s_0, t) [log(1 - D_2(G_2(s_0, c_2), phi_t))] + lambda D_KL(N(mu_2, Sigma_2) || N(0, I))

The log terms are gankit's objective (``objective.name``, non-saturating by default, as the paper's code
uses): ``d_loss(real_scores, fake_scores)`` and ``g_loss(fake_scores)``. Both stages are trained together
here (one D step, one G step per iteration: L_D1 + L_D2 and L_G1 + L_G2 + lambda (KL_1 + KL_2)) rather than
Stage-I first and Stage-II after with Stage-I fixed; Stage-II sees Stage-I's image detached, so its loss
never changes Stage-I, which is what "fixed" protects.

Matching-aware D (Sec. 3.4, from Reed et al. 2016's GAN-CLS): besides (real image, its caption) -> real and
(fake image, its caption) -> fake, D sees (real image, a mismatched caption) -> fake, the caption of the
next image in the batch. The fake and mismatched pairs share the "fake" term equally, as in the paper's code:

    L_D = d_loss(D(I, t), [D(G(z, c), t), D(I, t_wrong)])     (the fake side a mean over both halves)

``model.params.matching_aware=false`` drops the mismatched pairs, ``model.params.ca=false`` uses c = mu(phi_t)
with no KL term (the paper's "no CA" ablation).

Where this small version departs from the paper, and why (each found on mnist5k-captions, 300-step runs):

- Stage-II's output is a correction added to Stage-I's pre-tanh image, upsampled: G_2(s_0, c_2) =
  tanh(up(logit s_0) + R(s_0, c_2)). Decoding the whole image (the paper), our small Stage-II G drew one
  image for every input. c_1 also joins Stage-I's first feature map on every position.
- Each D's score adds a projection term <f, W phi_t> to the paper's score of the joint features f (Miyato &
  Koyama 2018), so the caption matters to D from the first steps.
- The preset's lambda is 0.05 (the paper: 1), and CA starts at sigma = e^-1 (its log-variance bias -2):
  with lambda = 1 and sigma = 1 at the start the KL term held c at N(0, I), eps drowned the text, and after
  300 steps every caption drew the same images.

The model's :class:`CaptionSource` draws G's input ``(z, caption tokens, eps)``: the captions of the reference
split (``eval.split``, the test split by default; every caption once when n is its size), so FID/KID and the
end-of-run figure score images drawn for held-out captions. :func:`text_figures` (the end-of-run figure)
asks whether the images follow the text: the bundled digit classifier's accuracy on the digit the caption
names and the correlation of each requested attribute word with the attribute measured on the image, for
Stage-II and Stage-I, beside the same measurements on the real images. ``gankit sample RUN --text "a thick
slanted three"`` (:func:`gankit.api.sample`) draws from a typed caption (:meth:`StackGAN.text_inputs`).

Example::

    cfg = gankit.load_config(preset="mnist5k-stackgan", overrides=["train.steps=300"])
    result = gankit.train(cfg)
    x = result.model.sample_text("a thick, right-slanted, large three", n=8, seed=0)   # (8, 1, 28, 28)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field

from gankit.config import Strict
from gankit.data import build_dataset
from gankit.data.base import DataInfo
from gankit.data.batch import Batch
from gankit.data.captions import (ATTRIBUTE_NAMES, CAPTION_FIELD, LEVELS_FIELD, CaptionDataset, Vocabulary,
                                  digit_caption, measure_attributes, parse_digit_caption)
from gankit.errors import ConfigError
from gankit.models.base import Model, StepResult, d_stats
from gankit.nets.stackgan import StackDiscriminator, StackGenerator
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import Source, cycled_rows, generate
from gankit.validation import parse_params


class CaptionSource(Source):
    """G's inputs ``(z, tokens, eps)``: z ~ N(0, I) (n, z_dim), captions of a reference split, and the CA noise
    eps ~ N(0, I) (n, eps_dim).

    ``sample(n, seed)``: the captions in the order of a permutation seeded with ``seed`` (wrapping around, so
    n = N uses every caption once), z and eps from the same generator. ``grid(n, seed)``: m = isqrt(n)
    captions evenly spaced over the split (a split sorted by class shows every digit), each on one row of m
    samples (columns share z and eps). ``text(texts, seed)``: the inputs for typed captions."""

    latent = False

    def __init__(self, captions: torch.Tensor, z_dim: int, eps_dim: int, vocab: Vocabulary, digit_grammar: bool,
                 name: str) -> None:
        if len(captions) == 0:
            raise ConfigError(f"eval.split: {name} holds no captions; choose a split that has some")
        self.captions, self.z_dim, self.eps_dim = captions.cpu(), z_dim, eps_dim
        self.vocab, self.digit_grammar, self.name = vocab, digit_grammar, name

    def noise(self, n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"):
        """(z, eps) for n rows: from ``generator`` on the CPU, or the global RNG on ``device`` when None."""
        where = "cpu" if generator is not None else device
        z = torch.randn(n, self.z_dim, generator=generator, device=where)
        eps = torch.randn(n, self.eps_dim, generator=generator, device=where)
        return z.to(device), eps.to(device)

    def sample(self, n: int, seed: int | None = None, device: torch.device | str = "cpu",
               y: torch.Tensor | None = None):
        if y is not None:
            raise ValueError("a caption source takes captions, not class labels; use text_inputs / --text")
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        idx = cycled_rows(len(self.captions), n, g)
        z, eps = self.noise(n, g, device)
        return z, self.captions[idx].to(device), eps

    def grid_rows(self, m: int) -> torch.Tensor:
        """The m reference rows a grid shows: evenly spaced over the split."""
        return torch.arange(m) * len(self.captions) // m if m <= len(self.captions) else torch.arange(m) % len(self.captions)

    def grid(self, n: int, seed: int, device: torch.device | str = "cpu"):
        m = max(1, math.isqrt(n))
        z, eps = self.noise(m, torch.Generator().manual_seed(seed))
        tokens = self.captions[self.grid_rows(m)].repeat_interleave(m, dim=0)
        return z.repeat(m, 1).to(device), tokens.to(device), eps.repeat(m, 1).to(device)

    def encode(self, texts: list[str], seed: int, what: str = "--text") -> torch.Tensor:
        """Token ids (len(texts), L) of typed captions. Digit captions are completed per row (an attribute
        left out is drawn from a generator seeded with ``seed``) and rewritten in the canonical form."""
        if not self.digit_grammar:
            return torch.stack([self.vocab.encode(t, what) for t in texts])
        g = torch.Generator().manual_seed(seed)
        rows = []
        for t in texts:
            digit, *levels = parse_digit_caption(t, g, what)
            rows.append(self.vocab.encode(digit_caption(digit, levels), what))
        return torch.stack(rows)

    def text(self, texts: list[str], seed: int, device: torch.device | str = "cpu"):
        """G's inputs for the typed captions ``texts`` (one sample each), z and eps seeded with ``seed``."""
        tokens = self.encode(texts, seed)
        z, eps = self.noise(len(texts), torch.Generator().manual_seed(seed))
        return z.to(device), tokens.to(device), eps.to(device)

    def __repr__(self) -> str:
        return (f"CaptionSource({self.name}, {len(self.captions)} captions of {self.captions.shape[1]} tokens, "
                f"z_dim={self.z_dim}, eps_dim={self.eps_dim})")


class StageOne(torch.nn.Module):
    """A view of a StackGAN G that returns its Stage-I images, upsampled (nearest) to the full side, so the
    Stage-I images are measured (FID, classifier, attributes) exactly as the Stage-II ones are."""

    def __init__(self, G: StackGenerator) -> None:
        super().__init__()
        self.G = G

    def forward(self, z: torch.Tensor, tokens: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        low = self.G(z, tokens, eps, stage=1)
        return F.interpolate(low, scale_factor=self.G.side // low.shape[-1], mode="nearest")


class StackGAN(Model):
    """Stage-I and Stage-II G (one net, ``G``) and D (one net, ``D``), conditioned on captions; see the module
    docstring for the losses.

    Example::

        model = StackGAN(G, D, NonSaturating(), source)
        d = model.d_step(batch)     # batch.x images, batch["caption"] token ids; d.stats: d1_loss, d2_loss, ...
        g = model.g_step(batch)     # g.stats: g1_loss, g2_loss, kl
    """

    def __init__(self, G: StackGenerator, D: StackDiscriminator, objective: Objective, source: CaptionSource,
                 kl_weight: float = 1.0, matching_aware: bool = True) -> None:
        super().__init__({"G": G, "D": D}, source)
        self.objective, self.kl_weight, self.matching_aware = objective, kl_weight, matching_aware

    def noise(self, n: int, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
        """(z, eps) of a training step from the global RNG, drawn for the global batch and sharded."""
        rank, world = self.shard
        z, eps = self.source.noise(n * world, device=device)
        return z[rank * n:(rank + 1) * n], eps[rank * n:(rank + 1) * n]

    @staticmethod
    def low(x: torch.Tensor) -> torch.Tensor:
        """Real images at Stage-I's resolution: 2 x 2 mean pooling."""
        return F.avg_pool2d(x, 2)

    def d_step(self, batch: Batch) -> StepResult:
        real, tokens = batch.x, batch[CAPTION_FIELD]
        z, eps = self.noise(len(real), real.device)
        with torch.no_grad():
            fake2, fake1, _ = self.G(z, tokens, eps, with_kl=True)
        wrong = tokens.roll(1, dims=0)  # the next image's caption: a mismatched pair for the real image
        loss, stats = 0.0, {}
        for stage, r, f in ((1, self.low(real), fake1), (2, real, fake2)):
            real_out, fake_out = self.D(r, tokens, stage), self.D(f, tokens, stage)
            fakes = torch.cat([fake_out, self.D(r, wrong, stage)]) if self.matching_aware else fake_out
            loss_s = self.objective.d_loss(real_out, fakes)
            loss = loss + loss_s
            s = d_stats(self.objective, loss_s, real_out, fake_out)
            stats |= {f"d{stage}_loss": s["d_loss"], f"d{stage}_acc_real": s["d_acc_real"],
                      f"d{stage}_acc_fake": s["d_acc_fake"]}
        stats["d_loss"] = loss.detach()
        return StepResult(loss, stats)

    def g_step(self, batch: Batch) -> StepResult:
        tokens = batch[CAPTION_FIELD]
        z, eps = self.noise(len(tokens), tokens.device)
        fake2, fake1, kl = self.G(z, tokens, eps, with_kl=True)
        g1 = self.objective.g_loss(self.D(fake1, tokens, 1))
        g2 = self.objective.g_loss(self.D(fake2, tokens, 2))
        loss = g1 + g2 + (self.kl_weight * kl if self.nets["G"].ca1.enabled else 0.0)
        return StepResult(loss, {"g_loss": (g1 + g2).detach(), "g1_loss": g1.detach(), "g2_loss": g2.detach(),
                                 "kl": kl.detach()})

    # -- drawing from captions ---------------------------------------------------------------------------
    def text_inputs(self, text: str | list[str], n: int, seed: int, device: torch.device | str = "cpu"):
        """G's inputs for n samples of a typed caption (or one sample of each caption of a list)."""
        texts = [text] * n if isinstance(text, str) else list(text)
        return self.source.text(texts, seed, device)

    def sample_text(self, text: str | list[str], n: int = 8, seed: int = 0, G: torch.nn.Module | None = None,
                    stage: int = 2) -> torch.Tensor:
        """n images (CPU, [-1, 1]) drawn for a typed caption; bad words are a one-line CaptionError."""
        G = G if G is not None else self.nets["G"]
        device = next(G.parameters()).device
        return generate(StageOne(G) if stage == 1 else G, self.text_inputs(text, n, seed, device))

    def final_figures(self, dataset, split: str) -> dict[str, Any]:
        """Does the image follow the text? See :func:`text_figures` (on G; the trainer's FID/KID use G_ema)."""
        return text_figures(self, dataset, split)


FIGURE_SEED = 0  # z and eps of the figures' images


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else float("nan")


def follow_text(images: torch.Tensor, levels: torch.Tensor, extractor) -> dict[str, float]:
    """How well images follow their captions' words: the classifier's accuracy on the named digit
    (``levels[:, 0]``), and per attribute the Pearson correlation of the requested word index (0, 1, 2) with
    the measured value (:func:`gankit.data.captions.measure_attributes`)."""
    measured = measure_attributes(images)
    out = {"digit_accuracy": float((extractor.classify(images) == levels[:, 0].cpu()).double().mean())}
    for j, name in enumerate(ATTRIBUTE_NAMES):
        out[f"{name}_corr"] = _pearson(levels[:, j + 1].double().numpy(), measured[:, j])
    return out


def text_figures(model: StackGAN, dataset, split: str, G: torch.nn.Module | None = None,
                 seed: int = FIGURE_SEED) -> dict[str, Any]:
    """On every caption of ``split`` (mnist5k-captions): one image per caption from Stage-II and from Stage-I
    (z, eps seeded with ``seed``), measured by :func:`follow_text`, beside the real images of the split with
    their own captions. {} for data without attribute levels (a caption folder)."""
    from gankit.metrics.extractor import extractor_for

    data = dataset.split(split)
    extractor = extractor_for(dataset.info)
    if LEVELS_FIELD not in data.extra or extractor is None:
        return {}
    G = G if G is not None else model.nets["G"]
    device = next(G.parameters()).device
    tokens, levels = data.extra[CAPTION_FIELD].cpu(), data.extra[LEVELS_FIELD].cpu()
    z, eps = model.source.noise(len(tokens), torch.Generator().manual_seed(seed))
    inputs = (z.to(device), tokens.to(device), eps.to(device))
    rows = {"stage2": follow_text(generate(G, inputs), levels, extractor),
            "stage1": follow_text(generate(StageOne(G), inputs), levels, extractor),
            "real": follow_text(data.float_x().cpu(), levels, extractor)}
    values = {f"{k}_{m}": v for k, r in rows.items() for m, v in r.items()}

    def line(r: dict[str, float]) -> str:
        return (f"digit {100 * r['digit_accuracy']:.1f} %, corr thickness {r['thickness_corr']:.2f} "
                f"slant {r['slant_corr']:.2f} size {r['size_corr']:.2f}")

    name, n = dataset.info.name, len(tokens)
    lines = [f"stackgan follows the text: Stage-II {line(rows['stage2'])} | Stage-I {line(rows['stage1'])} | "
             f"real images {line(rows['real'])}  | {name} {split} captions, N={n}, seed {seed}; "
             f"extractor {extractor.name} sha256:{extractor.sha256[:12]}.."]
    fingerprint = {"dataset": name, "split": split, "n": n, "seed": seed, "generator": "G",
                   "digit_accuracy": "bundled classifier's label == the caption's digit",
                   "corr": "Pearson r of the caption's word index (0, 1, 2) and the measured attribute",
                   **extractor.fingerprint()}
    return {"lines": lines, "values": values, "fingerprint": fingerprint}


class StackGANParams(Strict):
    """``model.params`` of stackgan."""

    c_dim: int = Field(16, ge=1)
    """Width of each conditioning variable c (the paper: 128)."""
    kl_weight: float = Field(1.0, ge=0)
    """lambda of the CA's KL term (1 in the paper)."""
    ca: bool = True
    """Conditioning augmentation; false: c = mu(phi_t) and no KL term (the paper's ablation)."""
    matching_aware: bool = True
    """D also sees (real image, mismatched caption) as fake."""
    residual_blocks: int = Field(1, ge=0, le=4)
    """Residual blocks of Stage-II's G (the paper: 4)."""


def _check_data(info: DataInfo, dataset) -> None:
    if CAPTION_FIELD not in info.fields or not isinstance(dataset, CaptionDataset):
        raise ConfigError(f"data.name: model 'stackgan' needs captioned images with a {CAPTION_FIELD!r} field "
                          f"(mnist5k-captions, caption-folder); {info.name!r} has fields {', '.join(info.fields)}")
    if info.kind != "image" or info.shape[1] != info.shape[2] or info.shape[1] % 4:
        raise ConfigError(f"data.image_size: stackgan needs square images with a side divisible by 4; "
                          f"{info.name!r} has {info.shape}")


@MODELS.register("stackgan", "StackGAN: caption -> CA -> Stage-I image (side/2) -> Stage-II image, matching-aware D")
def build_stackgan(cfg, info: DataInfo, device) -> StackGAN:
    p = parse_params(StackGANParams, cfg.model.params, "model 'stackgan'")
    dataset = build_dataset(cfg.data)
    _check_data(info, dataset)
    vocab = dataset.vocab
    channels, side = info.shape[0], info.shape[1]
    G = StackGenerator(vocab.size, channels, side, cfg.net.z_dim, p.c_dim, cfg.net.width, p.ca, p.residual_blocks)
    D = StackDiscriminator(vocab.size, channels, side, cfg.net.width)
    ref = dataset.split(cfg.eval.split)
    which = cfg.eval.split
    if len(ref) == 0:
        ref, which = dataset.train, "train"
    source = CaptionSource(ref.extra[CAPTION_FIELD], cfg.net.z_dim, 2 * p.c_dim, vocab, dataset.digit_grammar,
                           f"{info.name} {which}")
    return StackGAN(G.to(device), D.to(device), build_objective(cfg.objective), source, p.kl_weight,
                    p.matching_aware)


__all__ = ["CaptionSource", "StackGAN", "StackGANParams", "StageOne", "follow_text", "text_figures"]
