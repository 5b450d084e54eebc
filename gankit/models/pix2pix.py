"""pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks").

Paired data (:mod:`gankit.data.paired`): each batch holds the input ``x_a`` and its target ``x``. G maps
an input to an output, a U-Net whose only noise is dropout (:mod:`gankit.nets.unet`); D is a PatchGAN
(:mod:`gankit.nets.patchgan`) that scores every patch of an (input, image) pair stacked on channels, so
it judges whether the image is a plausible translation of *that* input. The objective (Eq. 4):

    G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G),    L_L1 = E || x - G(x_a, noise) ||_1

with ``lambda = model.params.l1_weight`` (100 in the paper). ``L_cGAN`` is any gankit objective applied to
D's patch scores, each patch one sample (the mean over patches of the paper). ``model.params.gan_weight``
scales the adversarial term (0: the "L1 only" row of the paper's Table 1, trained without D);
``l1_weight=0`` is "cGAN only"; ``generator=encoder-decoder`` drops the U-Net's skips (Fig. 5);
``condition_d=false`` lets D see only the image (the unconditional "GAN" row of Table 1).

The model's :class:`Source` is the reference split's inputs (``eval.split``, the test split by default):
``Model.sample(n, seed)`` translates n of them (a seeded permutation, every input once when n is the
split's size), so the end-of-run FID / KID (and ``gankit eval``) score translations of the test inputs
against the real test targets, beside real-vs-real. ``Model.sample_grid`` (``gankit sample``) shows
input | output | target triplets. :meth:`Pix2Pix.final_figures` adds the paired figures on the test pairs:
L1 and PSNR to the target, and the bundled digit classifier's accuracy on the outputs vs on the true
targets (the paper's FCN-score protocol, Sec. 4.2, with our classifier as the judge).

Translation of a user's images: ``gankit translate RUN --input FILE_OR_FOLDER --out DIR``
(:func:`gankit.api.translate`).

Example::

    cfg = gankit.load_config(preset="mnist5k-edges-pix2pix", overrides=["train.steps=200"])
    result = gankit.train(cfg)
    outputs = result.model.translate(edges, seed=0)     # (N, 1, 28, 28) in [-1, 1]
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from pydantic import Field, model_validator

from gankit.config import Strict
from gankit.data import build_dataset
from gankit.data.base import DataInfo
from gankit.data.batch import Batch
from gankit.data.paired import INPUT_FIELD
from gankit.errors import ConfigError
from gankit.models.base import Model, StepResult, d_stats
from gankit.nets.patchgan import PatchDiscriminator
from gankit.nets.unet import UNetGenerator
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import Source, cycled_rows, generate
from gankit.validation import parse_params

FIGURE_NOISE_SEED = 0  # the dropout masks of the final figures' translations


class TranslationSource(Source):
    """G's inputs: images of a reference split (``inputs``, (N, C, S, S) in [-1, 1]) and dropout masks.

    ``sample(n, seed)`` returns ``(x_a, masks)``: n inputs in the order of a permutation seeded with
    ``seed`` (wrapping around when n > N, so n = N translates every input once) and n rows of dropout
    masks from the same generator; ``grid(n, seed)`` n evenly spaced inputs in split order. ``targets`` are the
    inputs' true images (for grids); a grid shows evenly spaced rows (:meth:`grid_rows`). Without dropout (``noise_dim`` 0) it returns ``x_a`` alone.
    """

    latent = False

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor, noise_dim: int, dropout: float,
                 name: str) -> None:
        if len(inputs) == 0:
            raise ConfigError(f"eval.split: {name} holds no pairs to translate; choose a split that has some")
        self.inputs, self.targets = inputs.cpu(), targets.cpu()
        self.noise_dim, self.p, self.name = noise_dim, dropout, name

    def masks(self, n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"):
        """(n, noise_dim) dropout masks, 0 or 1 / (1 - p); the global RNG when ``generator`` is None."""
        keep = torch.rand(n, self.noise_dim, generator=generator, device=device if generator is None else "cpu")
        return ((keep >= self.p).float() / (1.0 - self.p)).to(device)

    def _with_noise(self, x_a: torch.Tensor, generator: torch.Generator | None, device):
        x_a = x_a.to(device)
        return (x_a, self.masks(len(x_a), generator, device)) if self.noise_dim else x_a

    def sample(self, n: int, seed: int | None = None, device: torch.device | str = "cpu",
               y: torch.Tensor | None = None):
        if y is not None:
            raise ValueError("a translation source takes no class labels; its inputs are images")
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        idx = cycled_rows(len(self.inputs), n, g)
        return self._with_noise(self.inputs[idx], g, device)

    def grid_rows(self, n: int) -> torch.Tensor:
        """The reference rows a grid of n shows: n evenly spaced rows (every class of a split sorted by class)."""
        return torch.arange(n) * len(self.inputs) // n if n <= len(self.inputs) else torch.arange(n) % len(self.inputs)

    def grid(self, n: int, seed: int, device: torch.device | str = "cpu"):
        return self._with_noise(self.inputs[self.grid_rows(n)], torch.Generator().manual_seed(seed), device)

    def __repr__(self) -> str:
        return (f"TranslationSource({self.name}, {len(self.inputs)} inputs {tuple(self.inputs.shape[1:])}, "
                f"dropout {self.p} on {self.noise_dim} units)")


class Pix2Pix(Model):
    """U-Net G (input -> output), PatchGAN D on (input, image) pairs, loss cGAN + lambda L1.

    Example::

        model = Pix2Pix(G, D, NonSaturating(), source, l1_weight=100.0)
        d = model.d_step(Batch(x=targets, x_a=inputs))
        g = model.g_step(Batch(x=targets, x_a=inputs))    # g.stats: g_loss, l1
    """

    def __init__(self, G: UNetGenerator, D: PatchDiscriminator, objective: Objective, source: TranslationSource,
                 l1_weight: float = 100.0, gan_weight: float = 1.0, condition_d: bool = True) -> None:
        super().__init__({"G": G, "D": D}, source)
        self.objective, self.l1_weight, self.gan_weight, self.condition_d = objective, l1_weight, gan_weight, condition_d
        self.adversarial = gan_weight > 0  # "L1 only": the trainer runs no D step

    def noise(self, n: int, device: torch.device | str) -> tuple[torch.Tensor, ...]:
        """G's dropout masks for n rows of a training step, from the global RNG (checkpointed); drawn for the
        global batch and sharded, as :meth:`Model.sample_z` does, so W processes match one."""
        if not self.source.noise_dim:
            return ()
        rank, world = self.shard
        masks = self.source.masks(n * world, device=device)
        return (masks[rank * n:(rank + 1) * n],)

    def pair(self, x_a: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """D's input: the image, stacked on channels after its input when D is conditional."""
        return torch.cat([x_a, image], dim=1) if self.condition_d else image

    def d_step(self, batch: Batch) -> StepResult:
        x_a, real = batch[INPUT_FIELD], batch.x
        with torch.no_grad():
            fake = self.G(x_a, *self.noise(len(real), real.device))
        real_out, fake_out = self.D(self.pair(x_a, real)).flatten(), self.D(self.pair(x_a, fake)).flatten()
        loss = self.objective.d_loss(real_out, fake_out)
        return StepResult(loss, d_stats(self.objective, loss, real_out, fake_out))

    def g_step(self, batch: Batch) -> StepResult:
        x_a, real = batch[INPUT_FIELD], batch.x
        fake = self.G(x_a, *self.noise(len(real), real.device))
        l1 = (fake - real).abs().mean()
        loss, stats = self.l1_weight * l1, {"l1": l1.detach()}
        if self.adversarial:
            adv = self.objective.g_loss(self.D(self.pair(x_a, fake)).flatten())
            loss = loss + self.gan_weight * adv
            stats["g_loss"] = adv.detach()
        return StepResult(loss, stats)

    # -- translations ----------------------------------------------------------------------------------
    def translate(self, x_a: torch.Tensor, seed: int | torch.Generator | None = FIGURE_NOISE_SEED,
                  G: torch.nn.Module | None = None, batch_size: int = 500) -> torch.Tensor:
        """G's outputs (CPU float32) for inputs ``x_a`` in eval mode, with dropout masks seeded by ``seed``
        (the paper's noise at test time; ``seed=None``: no dropout, the mean translation). A generator
        instead of a seed continues its stream: translating a set in chunks with one generator gives every
        image the mask it gets when the set is translated at once (row i of the draw)."""
        G = G if G is not None else self.nets["G"]
        device = next(G.parameters()).device
        x_a = x_a.to(device)
        if seed is None or not self.source.noise_dim:
            return generate(G, x_a, batch_size)
        gen = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(seed)
        return generate(G, (x_a, self.source.masks(len(x_a), gen, device)), batch_size)

    def sample_grid(self, n: int, seed: int, device: torch.device | str = "cpu",
                    G: torch.nn.Module | None = None) -> torch.Tensor:
        """Input | output | target triplets of 3 m^2 reference pairs (the source's grid), m = max(1, isqrt(n // 3)):
        9 m^2 images, so a square grid (3 m per row) keeps every triplet on one row."""
        k = 3 * max(1, math.isqrt(n // 3)) ** 2
        inputs = self.source.grid(k, seed, device)
        out = generate(G if G is not None else self.nets["G"], inputs)
        x_a = (inputs[0] if isinstance(inputs, tuple) else inputs).cpu()
        target = self.source.targets[self.source.grid_rows(k)]
        c = max(x_a.shape[1], out.shape[1])
        tiles = [t.expand(-1, c, -1, -1) for t in (x_a, out, target)]
        return torch.stack(tiles, dim=1).reshape(3 * k, c, *out.shape[2:])

    def final_figures(self, dataset, split: str) -> dict[str, Any]:
        """On every pair of ``split``: L1 and PSNR of the outputs to the targets (beside the input's own),
        and, for 28 x 28 grey digits with labels, the bundled classifier's accuracy on outputs, targets
        and inputs. The outputs are G's (the trainer keeps no EMA in the pix2pix presets), dropout masks
        seeded with ``FIGURE_NOISE_SEED``."""
        return translation_figures(self, dataset, split)


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of images in [-1, 1], on the [0, 1] pixel scale (peak 1): 10 log10(1 / MSE);
    an exact match (MSE 0) counts as 100 dB."""
    mse = ((a.double() - b.double()) / 2).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


def translation_figures(model: Pix2Pix, dataset, split: str, G: torch.nn.Module | None = None,
                        seed: int = FIGURE_NOISE_SEED) -> dict[str, Any]:
    """The paired figures of :meth:`Pix2Pix.final_figures` for G (default ``model.nets["G"]``); also what
    ``benchmarks/translation.py`` reports. L1 is the mean absolute difference on the [0, 1] pixel scale."""
    from gankit.metrics.extractor import extractor_for

    data = dataset.split(split)
    x_a, target = data.extra[INPUT_FIELD].cpu(), data.float_x().cpu()
    out = model.translate(x_a, seed=seed, G=G)
    values: dict[str, Any] = {
        "l1": float(((out - target).abs() / 2).mean()),
        "psnr_db": float(psnr(out, target).mean()),
    }
    same_shape = x_a.shape == target.shape
    if same_shape:
        values |= {"l1_input": float(((x_a - target).abs() / 2).mean()), "psnr_db_input": float(psnr(x_a, target).mean())}
    name, n = dataset.info.name, len(data)
    lines = [f"pix2pix: L1 {values['l1']:.4f}  PSNR {values['psnr_db']:.2f} dB"
             + (f"  (input itself: L1 {values['l1_input']:.4f}, PSNR {values['psnr_db_input']:.2f} dB)" if same_shape else "")
             + f"  | {name} {split}, N={n}; G, dropout masks seeded {seed}"]
    fingerprint: dict[str, Any] = {"dataset": name, "split": split, "n": n, "generator": "G", "noise_seed": seed,
                                   "l1": "mean |output - target| on [0, 1] pixels",
                                   "psnr": "mean over images of 10 log10(1 / MSE), [0, 1] pixels, MSE >= 1e-10"}
    extractor = extractor_for(dataset.info) if data.y is not None else None
    if extractor is not None:
        y = data.y.cpu()
        acc = {k: float((extractor.classify(v) == y).double().mean())
               for k, v in (("output", out), ("target", target)) + ((("input", x_a),) if same_shape else ())}
        values |= {f"classifier_acc_{k}": v for k, v in acc.items()}
        lines.append(f"  digit classifier accuracy: outputs {100 * acc['output']:.2f} %, true targets "
                     f"{100 * acc['target']:.2f} %" + (f", inputs {100 * acc['input']:.2f} %" if same_shape else "")
                     + f"  | extractor {extractor.name} sha256:{extractor.sha256[:12]}..")
        fingerprint |= extractor.fingerprint()
    return {"lines": lines, "values": values, "fingerprint": fingerprint}


class Pix2PixParams(Strict):
    """``model.params`` of pix2pix."""

    l1_weight: float = Field(100.0, ge=0)
    """lambda of the L1 term (100 in the paper); 0 is the "cGAN only" ablation."""
    gan_weight: float = Field(1.0, ge=0)
    """Weight of the adversarial term; 0 is the "L1 only" ablation (no D is trained)."""
    generator: Literal["unet", "encoder-decoder"] = "unet"
    """U-Net (skip connections) or the plain encoder-decoder of the paper's ablation."""
    dropout: float = Field(0.5, ge=0, lt=1)
    """Dropout rate of G's noise layers (the bottleneck and every decoder layer but the last); 0: no noise."""
    d_layers: int = Field(1, ge=1, le=6)
    """Stride-2 convolutions of the PatchGAN: patches of 16 (1), 34 (2), 70 (3, the paper's) pixels."""
    condition_d: bool = True
    """D sees (input, image) pairs; false: the image only (an unconditional D)."""

    @model_validator(mode="after")
    def _some_loss(self) -> "Pix2PixParams":
        if self.l1_weight == 0 and self.gan_weight == 0:
            raise ValueError("l1_weight and gan_weight are both 0: G would have no loss; set one above 0")
        return self


def _patch_side(image_size: int, d_layers: int) -> int:
    side = image_size
    for _ in range(d_layers):
        side = (side + 2 - 4) // 2 + 1
    return side - 2  # the two stride-1 4x4 convolutions (padding 1) take one pixel each


def _check_data(info: DataInfo) -> tuple[tuple[int, ...], tuple[int, ...]]:
    fields = info.fields
    if INPUT_FIELD not in fields:
        raise ConfigError(f"data.name: model 'pix2pix' needs paired data with an input field {INPUT_FIELD!r} "
                          f"(mnist5k-edges, mnist5k-masked, mnist5k-lowres, mnist5k-lowres14, paired-folder); "
                          f"{info.name!r} has fields {', '.join(fields)}")
    a, b = fields[INPUT_FIELD], fields["x"]
    if info.kind != "image" or len(a) != 3 or a[1:] != b[1:] or b[1] != b[2]:
        raise ConfigError(f"data.name: pix2pix needs square input and target images of one size; {info.name!r} "
                          f"has inputs {a} and targets {b}")
    return a, b


@MODELS.register("pix2pix", "pix2pix: U-Net G on paired images, PatchGAN D on (input, output), cGAN + lambda L1")
def build_pix2pix(cfg, info: DataInfo, device) -> Pix2Pix:
    p = parse_params(Pix2PixParams, cfg.model.params, "model 'pix2pix'")
    a, b = _check_data(info)
    if _patch_side(b[1], p.d_layers) < 1:
        raise ConfigError(f"model.params.d_layers: {p.d_layers} stride-2 layers leave no patch of a "
                          f"{b[1]}x{b[1]} image; choose fewer")
    try:
        G = UNetGenerator(a[0], b[0], b[1], cfg.net.width, skips=p.generator == "unet", dropout=p.dropout)
    except ConfigError as e:  # the image side (stages_for)
        raise ConfigError(str(e).replace("net.name: dcgan", "data.image_size: pix2pix's U-Net")) from None
    D = PatchDiscriminator(a[0] + b[0] if p.condition_d else b[0], cfg.net.width, p.d_layers)
    dataset = build_dataset(cfg.data)
    ref = dataset.split(cfg.eval.split)
    if len(ref) == 0:
        ref = dataset.train
    source = TranslationSource(ref.extra[INPUT_FIELD], ref.float_x(), G.noise_dim, p.dropout,
                               f"{info.name} {cfg.eval.split if ref is not dataset.train else 'train'}")
    return Pix2Pix(G.to(device), D.to(device), build_objective(cfg.objective), source,
                   p.l1_weight, p.gan_weight, p.condition_d)


__all__ = ["Pix2Pix", "Pix2PixParams", "TranslationSource", "psnr", "translation_figures"]
