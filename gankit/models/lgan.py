"""The Localized GAN (Qi, Zhang, Hu, Wang, Hua, "Global versus Localized Generative Adversarial Nets",
CVPR 2018): a generator G(x, z) around every data point x, orthonormal tangents, and their uses.

A global GAN has one chart of the data manifold, x = G(z). The Localized GAN has a local chart at every
data point x: G(x, z), with z in R^k the *local coordinates* (k = ``model.params.local_dim``, small:
2 to 8). The paper's equations:

- Locality: G(x, 0) = x, so the chart at x passes through x.
- Tangents: the columns of J_x = dG(x, z)/dz at z = 0, (D x k) with D the number of pixels, span the
  tangent space of the manifold at x, tau_i(x) = J_x e_i.
- Orthonormality: Omega_G(x) = || J_x^T J_x - I_k ||_F^2 keeps the k tangents independent and non-vanishing;
  a rank-deficient J_x is the *local* collapse the paper argues a global G(z) suffers (mode collapse
  seen as a tangent space of too low dimension).
- Training: min_G max_D  E_x[log D(x)] + E_{x, z}[log(1 - D(G(x, z)))] + lambda_G E_x Omega_G(x); here the
  adversarial part is any gankit objective (``objective.name``), exactly as in ``model=gan``.
- Semi-supervised use: a classifier f is made smooth along the manifold with
  Omega_f(x) = sum_i || J_f(x) tau_i(x) ||^2 (the variation of f along the tangents at x, a discrete
  Laplace-Beltrami term), added to the cross-entropy on the labelled images (:func:`tangent_smoothness`,
  :func:`train_tangent_classifier`).

**How G(x, 0) = x is enforced: by construction.** :class:`LocalGenerator` computes

    G(x, z) = x + sum_i z_i T_i(x, z),

where T(x, z) (N, k, C, H, W) is a network of x and z. At z = 0 every term is 0 * T_i = 0, so
G(x, 0) = x holds exactly (bit for bit, for any weights with finite T), not approximately, as a
penalty ||G(x, 0) - x||^2 would give. By the product rule dG/dz_j at z = 0 is T_j(x, 0), so the
tangents are a plain output of the network, and G stays non-linear in z (T depends on z). G's outputs
are not clamped to [-1, 1]: D sees out-of-range pixels and teaches G to avoid them.

**The scale of the orthonormality penalty.** J^T J = I asks a unit step in z to move the image by
exactly 1 in pixel space (L2 over all pixels of images in [-1, 1]); that unit means nothing for the
data. The penalty is therefore taken on J / s:

    Omega_G(x) = || (J_x / s)^T (J_x / s) - I_k ||_F^2,

so the tangents are orthogonal with length s. With ``tangent_scale: auto`` (the default) s is chosen
from the data so that a typical draw z ~ N(0, z_std^2 I_k), whose norm is about z_std sqrt(k), moves x by
about the distance to its nearest neighbour in the training set: s = d_NN / sqrt(k), d_NN the median,
over the first 1,000 training images, of the L2 distance to the nearest other one of them
(:func:`auto_tangent_scale`; digits: d_NN = 2.10, s = 1.05 for k = 4; mnist5k: d_NN = 9.19, s = 3.25 for k = 8). A number sets s directly.

J is read off the network: for a :class:`LocalGenerator` it is T(x, 0), one plain forward of the field
network (:func:`tangents`). Any other local generator G(x, z) is differentiated through its forward by
forward-mode automatic differentiation along the k axes of z at z = 0, with the helper of the global
orthonormal-Jacobian penalty (:func:`gankit.regularizers.ortho_jacobian.jacobian_along`); on a
LocalGenerator the two agree to float precision (tested), and the plain forward is 26x cheaper (0.031 vs
0.82 CPU s for the penalty's forward and backward on 16 mnist5k images, k = 8).

What the shared contracts lacked, and the work-arounds in this file (candidates for the core):

1. The plain GAN step (:class:`gankit.models.gan.GAN`) calls ``self.G(inputs)`` with what ``sample_z`` drew,
   one argument; a source of tuples (G's positional arguments) does not fit it. :class:`LocalCharts` (mixed
   into :class:`LocalizedGAN` and :class:`gankit.models.lgan_ssl.LocalSemiSupervisedGAN`) overrides the ``G`` property with a callable that unpacks a tuple (:class:`_Unpacked`), so the GAN step,
   its objective hooks and its ``reg.*`` switches are reused unchanged. A ``Model.call_G(inputs)`` in
   ``models/base.py`` (or ``generate``'s unpacking rule made public) would remove the override.
2. ``Model.sample_z`` slices the global draw as one tensor under data-parallel training; for a tuple it
   would slice the tuple. :meth:`LocalCharts.sample_z` slices each part.
3. ``Regularizers.g_terms(G, D, z, ...)`` assumes z is G's latent rows (``reg.ortho_jacobian``); lgan
   rejects that switch and applies its own penalty at z = 0.
4. A model factory gets ``(cfg, info, device)`` but not the dataset, so the source's training images are
   loaded a second time (``build_dataset(cfg.data)``), as ``ssgan`` does for its labelled pool.
5. (mended) :func:`train_tangent_classifier` is :func:`gankit.models.classifier.train_supervised` with
   the smoothness term as its ``extra_loss``; with ``weight=0`` it is the baseline itself.
6. (mended) ``gankit sample`` shows the source's grid for a non-latent source: for lgan, the
   row-per-image sweep that the training grids show too.
7. The end-of-run FID/KID scores G(x, z) with x a *training* image: a local G reproduces its base images
   (G(x, 0) = x), so its FID against the test split sits near the train-vs-test real-vs-real value by
   construction; it says how far the moves leave the data, not how well G generalises.

Example::

    model = build_model(load_config(preset="digits-lgan"), dataset.info, "cpu")
    x, z = model.source.sample(16, seed=0)          # training images and local coordinates
    model.nets["G"](x, 0 * z)                       # == x, exactly
    T = tangents(model.G, x, model.local_dim, model.tangent_scale)    # (16, 64, 4): J / s
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.autograd.forward_ad as fwAD
from pydantic import Field, field_validator
from torch import nn

from gankit.config import Strict
from gankit.data import build_dataset
from gankit.data.base import Dataset, Split
from gankit.data.batch import Batch
from gankit.errors import ConfigError
from gankit.metrics.jacobian import effective_rank
from gankit.models.base import StepResult
from gankit.models.classifier import train_supervised
from gankit.models.gan import GAN
from gankit.nets import build_nets
from gankit.nets.autoencoder import build_autoencoder_discriminator
from gankit.nets.dcgan import stages_for
from gankit.nets.encoder import Features, feature_body
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.regularizers import Regularizers, apply_to_nets
from gankit.regularizers.ortho_jacobian import eval_mode, jacobian_along, orthonormality_gap
from gankit.sampling import Source
from gankit.validation import parse_params

NN_IMAGES = 1000  # training images (the first ones) whose nearest-neighbour distance sets the auto scale


# ---------------------------------------------------------------------------------------------------
# The source: a real image and local coordinates.


def sweep(m: int, span: float, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> torch.Tensor:
    """``m`` evenly spaced values from -span to span; for odd ``m`` the middle one is exactly 0 (so that
    column of a grid is the base image itself, bit for bit)."""
    half = (m - 1) / 2
    return (torch.arange(m, dtype=dtype, device=device) - half) * (span / max(half, 1.0))


class LocalSource(Source):
    """G's input (x, z): a training image x and local coordinates z ~ N(0, z_std^2 I_k).

    ``sample(n, seed)`` draws n images uniformly (with replacement) from ``images`` and n rows of z;
    ``seed=None`` draws both from the global torch RNG (the image indices from the CPU one), whose state
    checkpoints keep. Not a latent source (``latent`` is False): MRE and the global Jacobian metrics,
    which optimise or differentiate through a latent row, do not apply.

    ``grid(n, seed)``: m x m images, m the largest odd number with m^2 <= n (7 x 7 for 64). Row r is one
    base image x_r moved along one random unit direction u_r of z: column j shows G(x_r, t_j u_r), t_j
    evenly spaced in [-span, span] * z_std, so the middle column is x_r itself.

    Example::

        source = LocalSource(dataset.train, dim=4)
        x, z = source.sample(8, seed=0)       # (8, 1, 8, 8), (8, 4)
    """

    latent = False

    def __init__(self, images: Split, dim: int, z_std: float = 1.0, span: float = 2.5) -> None:
        if len(images) == 0:
            raise ConfigError("data.name: lgan needs training images to draw its base images from")
        self.images, self.dim, self.z_std, self.span = images, dim, z_std, span

    def sample(self, n: int, seed: int | None = None, device: torch.device | str = "cpu",
               y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if y is not None:
            raise ValueError("LocalSource draws images, not classes; it takes no labels")
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        idx = torch.randint(len(self.images), (n,), generator=g)
        if g is not None:  # seeded inputs are drawn on the CPU so they are the same on every device
            z = torch.randn(n, self.dim, generator=g).to(device)
        else:
            z = torch.randn(n, self.dim, device=device)
        return self.images.float_x(idx).to(device), z * self.z_std

    def grid(self, n: int, seed: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        m = max(1, math.isqrt(n))
        m -= 1 - m % 2  # odd, so that t = 0 (the base image itself) is the middle column
        g = torch.Generator().manual_seed(seed)
        x = self.images.float_x(torch.randint(len(self.images), (m,), generator=g))
        u = torch.randn(m, self.dim, generator=g)
        u = u / u.norm(dim=1, keepdim=True)
        t = sweep(m, self.span) * self.z_std
        z = (u[:, None, :] * t[None, :, None]).reshape(m * m, self.dim)      # row r: t_0 u_r .. t_{m-1} u_r
        return x.repeat_interleave(m, dim=0).to(device), z.to(device)

    def __repr__(self) -> str:
        return f"LocalSource(dim={self.dim}, z_std={self.z_std}, images={len(self.images)})"


# ---------------------------------------------------------------------------------------------------
# The local generator.


class LocalGenerator(nn.Module):
    """G(x, z) = x + sum_i z_i T_i(x, z): (N, C, H, W), (N, k) -> (N, C, H, W); G(x, 0) = x exactly.

    T is a small encoder-decoder: the feature body of the dataset's discriminator reads x, its features
    and z go through two linear layers to a DCGAN-shaped stack of transposed convolutions (ReLU, no
    BatchNorm, so every sample's tangents are its own in train and eval mode alike), and a last 3x3
    convolution that also sees x outputs the k tangent fields.
    """

    def __init__(self, body: Features, channels: int, image_size: int, width: int, local_dim: int) -> None:
        super().__init__()
        self.local_dim = local_dim
        stages, base = stages_for(image_size)
        ch = [width * 2 ** (stages - 1 - i) for i in range(stages)]  # e.g. [64, 32] for 28 px, width 32
        top, hidden = ch[0] * 2, max(128, 8 * width)
        self.body = body
        self.mix = nn.Sequential(
            nn.Linear(body.dim + local_dim, hidden), nn.ReLU(),
            nn.Linear(hidden, top * base * base), nn.Unflatten(1, (top, base, base)), nn.ReLU(),
        )
        blocks: list[nn.Module] = []
        c_in = top
        for c_out in ch:
            blocks += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.ReLU()]
            c_in = c_out
        self.up = nn.Sequential(*blocks)
        self.fields = nn.Conv2d(c_in + channels, local_dim * channels, 3, padding=1)

    def forward(self, x: torch.Tensor, z: torch.Tensor, fields: bool = False) -> torch.Tensor:
        """G(x, z) (N, C, H, W); with ``fields=True`` the fields T(x, z) (N, k, C, H, W) instead. At z = 0
        these are G's tangents: dG/dz_i = T_i(x, 0) by the product rule (the z-derivative of T is multiplied
        by z = 0), so the Jacobian costs one plain forward (:func:`tangents`)."""
        h = self.up(self.mix(torch.cat([self.body(x), z], dim=1)))
        T = self.fields(torch.cat([h, x], dim=1)).view(len(x), self.local_dim, *x.shape[1:])
        return T if fields else x + (z.view(*z.shape, *([1] * (x.dim() - 1))) * T).sum(1)


class _Unpacked:
    """Calls a generator with G's positional arguments given as one tuple (what the source draws) or
    spread out: ``G((x, z))`` is ``G(x, z)``. Lets the plain GAN step, which calls ``self.G(inputs)``,
    drive a local generator."""

    def __init__(self, G) -> None:
        self.net = G

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and isinstance(args[0], tuple):
            args = args[0]
        return self.net(*args, **kwargs)


class _Chart(nn.Module):
    """z -> G(x, z) / scale, flattened (rows of z are the base images ``x`` repeated): the map whose
    Jacobian at z = 0 the helpers of :mod:`gankit.regularizers.ortho_jacobian` compute, through G's forward."""

    def __init__(self, G, x: torch.Tensor, scale: float) -> None:
        super().__init__()
        self.G, self.x, self.scale = G, x.detach(), scale

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.x.repeat(len(z) // len(self.x), *([1] * (self.x.dim() - 1)))
        return self.G(x, z).flatten(1) / self.scale


def tangents(G, x: torch.Tensor, local_dim: int, scale: float = 1.0) -> torch.Tensor:
    """J_x / s at z = 0 for each base image: (N, D, k), column i the i-th tangent tau_i(x) / s,
    differentiable w.r.t. G's weights.

    For a :class:`LocalGenerator` (also behind the trainer's wrappers) J_x is T(x, 0), one forward of its
    field network (``G(x, 0, fields=True)``); any other local generator ``G(x, z)`` is
    differentiated by forward-mode autodiff along the k axes of z (one batch of k * N rows through G's
    forward). The two agree to float precision on a LocalGenerator (tested)."""
    net = G.net if isinstance(G, _Unpacked) else G   # the steps' callable, or a net
    plain = getattr(net, "net", net)                 # the module behind train.compile's wrapper
    if isinstance(plain, LocalGenerator):
        with eval_mode(plain):
            T = net(x, x.new_zeros(len(x), local_dim), fields=True)  # through forward, as every net call
        return T.flatten(2).transpose(1, 2) / scale
    return tangents_by_autodiff(G, x, local_dim, scale)


def tangents_by_autodiff(G, x: torch.Tensor, local_dim: int, scale: float = 1.0) -> torch.Tensor:
    """J_x / s at z = 0 by forward-mode autodiff of z -> G(x, z) along the k axes of z, for any local
    generator (the reference the fast path of :func:`tangents` is tested against)."""
    eye = torch.eye(local_dim, dtype=x.dtype, device=x.device)
    return jacobian_along(_Chart(G, x, scale), x.new_zeros(len(x), local_dim), eye)


def tangent_penalty(G, x: torch.Tensor, local_dim: int, scale: float, weight: float = 1.0) -> torch.Tensor:
    """``weight * mean_x || (J_x / s)^T (J_x / s) - I_k ||_F^2`` at z = 0 (see the module docstring).

    0 exactly when G's tangents at each x are orthogonal with length ``scale``; e.g. for
    G(x, z) = x + scale * Q z (+ anything of second order in z) with Q^T Q = I."""
    return weight * orthonormality_gap(tangents(G, x, local_dim, scale))


def auto_tangent_scale(images: Split, local_dim: int, n: int = NN_IMAGES) -> float:
    """s = d_NN / sqrt(k): d_NN the median L2 distance from each of the first ``n`` training images to
    its nearest other one (images as the model sees them, in [-1, 1]). See the module docstring."""
    x = images.float_x(slice(0, min(n, len(images)))).flatten(1).double()
    if len(x) < 2:
        raise ConfigError("model.params.tangent_scale: 'auto' needs at least 2 training images; give a number")
    d = torch.cdist(x, x)
    d.fill_diagonal_(float("inf"))
    return float(d.min(1).values.quantile(0.5)) / math.sqrt(local_dim)  # the mean of the middle two if even


# ---------------------------------------------------------------------------------------------------
# The model.


class LocalCharts:
    """What a family whose G is a local generator G(x, z) shares (mixed in before its
    :class:`gankit.models.base.Model` class): G's callable taking the source's (x, z), this rank's share of
    the (x, z) draw, the orthonormal-tangent penalty added to a G step, and the local-dimension figure.
    Needs ``source`` (:class:`LocalSource`), ``local_dim``, ``tangent_weight``, ``tangent_scale`` and
    ``tangent_batch`` set by the family's constructor."""

    source: LocalSource
    local_dim: int
    tangent_weight: float
    tangent_scale: float
    tangent_batch: int | None

    @property
    def G(self) -> _Unpacked:
        """The generator's callable, also taking the source's (x, z) as one tuple (the GAN step's call)."""
        return _Unpacked(self.net("G"))  # type: ignore[attr-defined]

    def sample_z(self, n: int, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, z) of ``n`` fakes; under data-parallel training this rank's share of the global draw
        (the base class slices one tensor of rows; here both parts are sliced)."""
        rank, world = self.shard  # type: ignore[attr-defined]
        x, z = self.source.sample(n * world, device=device)
        return x[rank * n:(rank + 1) * n], z[rank * n:(rank + 1) * n]

    def with_tangent_penalty(self, g: StepResult, batch: Batch) -> StepResult:
        """``g`` plus the penalty at z = 0 on the first ``tangent_batch`` images of the real batch, logged
        as ``reg_tangent`` (``g`` itself when the weight is 0)."""
        if self.tangent_weight == 0:
            return g
        x = batch.x[:self.tangent_batch]  # the first images of the batch (all when tangent_batch is None)
        penalty = tangent_penalty(self.G, x, self.local_dim, self.tangent_scale, self.tangent_weight)
        return StepResult(g.loss + penalty, {**g.stats, "reg_tangent": penalty.detach()})

    def local_dimension_figures(self, dataset: Dataset, split: str) -> dict[str, Any]:
        """The local dimension of G at the first 500 images of ``split`` (:func:`local_dimension`)."""
        data = dataset.split(split)
        n = min(500, len(data))
        G = self.nets["G"]  # type: ignore[attr-defined]
        device = next(G.parameters()).device
        spec = local_dimension(G, data.float_x(torch.arange(n)).to(device), self.local_dim, self.tangent_scale)
        fingerprint = {"dataset": dataset.info.name, "split": split, "n": n, "generator": "G (not G_ema)",
                       **spec.describe()}
        line = (f"local dimension: effective rank {spec.mean_effective_rank:.2f} of {self.local_dim}, "
                f"rank {spec.mean_rank:.2f} (s_i > {spec.rank_tol} s_max), mean |cos| between tangents "
                f"{spec.mean_abs_cos:.3f}, singular values / s {_fmt(spec.mean_singular_values)}  | "
                f"{dataset.info.name} {split}, N={n}, s={self.tangent_scale:.3f}")
        return {"lines": [line], "values": spec.values(), "fingerprint": fingerprint}


class LocalizedGAN(LocalCharts, GAN):
    """The plain GAN step (any objective, the reg.* switches of model=gan) on fakes G(x, z), plus the
    orthonormal-tangent penalty at z = 0 on the first ``tangent_batch`` images of each real batch, logged
    as ``reg_tangent``.

    Example::

        model = LocalizedGAN(G, D, NonSaturating(), LocalSource(train, 4), tangent_weight=1.0, tangent_scale=3.0)
        d = model.d_step(Batch(x=real))
        g = model.g_step(Batch(x=real))    # g.stats["reg_tangent"]
    """

    def __init__(self, G: LocalGenerator, D: nn.Module, objective: Objective, source: LocalSource,
                 tangent_weight: float, tangent_scale: float, reg: Regularizers | None = None,
                 tangent_batch: int | None = None) -> None:
        super().__init__(G, D, objective, source.dim, reg)
        self.source = source  # GAN's constructor set a latent prior; G takes (x, z) instead
        self.local_dim = source.dim
        self.tangent_weight, self.tangent_scale, self.tangent_batch = tangent_weight, tangent_scale, tangent_batch

    def g_step(self, batch: Batch) -> StepResult:
        return self.with_tangent_penalty(super().g_step(batch), batch)

    def final_figures(self, dataset: Dataset, split: str) -> dict[str, Any]:
        return self.local_dimension_figures(dataset, split)


def _fmt(values: list[float]) -> str:
    return "[" + " ".join(f"{v:.2f}" for v in values) + "]"


@dataclass
class LocalSpectrum:
    """Singular values of J_x / s at z = 0 per base image (N, k), descending, and their summaries:
    effective rank (Roy & Vetterli 2007, :func:`gankit.metrics.jacobian.effective_rank`), numerical rank
    (singular values above ``rank_tol`` times the largest at that image), and the mean |cos| of the angle
    between two different tangents (0: orthogonal; 1: parallel)."""

    singular_values: torch.Tensor
    effective_ranks: torch.Tensor
    ranks: torch.Tensor
    abs_cos: torch.Tensor
    rank_tol: float
    scale: float

    @property
    def mean_singular_values(self) -> list[float]:
        return [float(v) for v in self.singular_values.mean(0)]

    @property
    def mean_effective_rank(self) -> float:
        return float(self.effective_ranks.mean())

    @property
    def mean_rank(self) -> float:
        return float(self.ranks.double().mean())

    @property
    def mean_abs_cos(self) -> float:
        return float(self.abs_cos.mean())

    def values(self) -> dict[str, Any]:
        return {"effective_rank": self.mean_effective_rank, "rank": self.mean_rank, "abs_cos": self.mean_abs_cos,
                "singular_values_over_s": self.mean_singular_values}

    def describe(self) -> dict[str, Any]:
        return {"rank_tol": self.rank_tol, "tangent_scale": self.scale, "at": "z = 0",
                "jacobian": "T(x, 0): the field network at z = 0 (= forward-mode autodiff of G), G in eval mode"}


@torch.no_grad()
def _svd_summaries(J: torch.Tensor, rank_tol: float, scale: float) -> LocalSpectrum:
    J = J.double()
    s = torch.linalg.svdvals(J)                                   # (N, k)
    ranks = (s > rank_tol * s[:, :1]).sum(1)
    unit = J / J.norm(dim=1, keepdim=True).clamp(min=1e-300)
    cos = (unit.transpose(1, 2) @ unit).abs()                     # (N, k, k)
    k = cos.shape[1]
    off = cos[:, ~torch.eye(k, dtype=torch.bool)].view(len(J), -1) if k > 1 else cos.new_zeros(len(J), 1)
    return LocalSpectrum(s.cpu(), effective_rank(s).cpu(), ranks.cpu(), off.mean(1).cpu(), rank_tol, scale)


def local_dimension(G: nn.Module, x: torch.Tensor, local_dim: int, scale: float, rank_tol: float = 0.1,
                    batch_size: int = 100) -> LocalSpectrum:
    """The singular values of J_x / s at z = 0 on base images ``x`` and their rank summaries
    (:class:`LocalSpectrum`). The Localized GAN's claim, measurable: with the orthonormal penalty all k
    singular values stay near 1; without it some may collapse towards 0."""
    parts = []
    for chunk in x.split(batch_size):
        with torch.no_grad():
            parts.append(tangents(G, chunk, local_dim, scale).detach())
    return _svd_summaries(torch.cat(parts), rank_tol, scale)


# ---------------------------------------------------------------------------------------------------
# Editing along the manifold.


@torch.no_grad()
def edit_grid(G: nn.Module, x: torch.Tensor, local_dim: int, steps: int = 9, span: float = 2.5,
              z_std: float = 1.0) -> torch.Tensor:
    """Image ``x`` (C, H, W) moved along each local coordinate: (k * steps, C, H, W); row i is
    G(x, t_j e_i) for t_j evenly spaced in [-span, span] * z_std (the middle one, t = 0, is x itself
    when ``steps`` is odd). No inversion of a global G is needed: the chart is centred on x."""
    t = sweep(steps, span, x.dtype, x.device) * z_std
    eye = torch.eye(local_dim, dtype=x.dtype, device=x.device)
    z = (eye[:, None, :] * t[None, :, None]).reshape(local_dim * steps, local_dim)   # row i: t_0 e_i .. t_m e_i
    was_training = G.training
    G.eval()
    try:
        return G(x[None].expand(len(z), *x.shape), z).cpu()
    finally:
        G.train(was_training)


# ---------------------------------------------------------------------------------------------------
# A classifier that is smooth along the manifold (the paper's semi-supervised use).


def tangent_smoothness(f: nn.Module, x: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Omega_f = mean_x sum_i || J_f(x) t_i(x) ||^2, f's output taken as log-probabilities (log_softmax of
    its logits, so a shift of every logit, which changes no prediction, costs nothing).

    ``T`` (N, D, k) holds the tangents t_i(x) as columns (e.g. :func:`tangents` of a trained G). Each
    J_f(x) t_i is a forward-mode Jacobian-vector product through f's forward (k * N rows in one batch);
    differentiable w.r.t. f's weights."""
    n, k = len(x), T.shape[2]
    x_rep = x.detach().repeat(k, *([1] * (x.dim() - 1)))                  # row i * N + j: image j
    dirs = T.detach().permute(2, 0, 1).reshape(k * n, *x.shape[1:]).to(x.dtype)
    with fwAD.dual_level():
        logits = f(fwAD.make_dual(x_rep, dirs))
        # log_softmax written out: the fused forward-mode rules of log_softmax and logsumexp modify a saved
        # tensor in place, so their JVPs cannot be back-propagated (torch 2.13)
        shifted = logits - logits.detach().amax(dim=1, keepdim=True)
        out = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        jv = fwAD.unpack_dual(out).tangent                                 # (k * N, K)
    return jv.pow(2).sum(1).view(k, n).sum(0).mean()


def training_tangents(G: nn.Module, split: Split, local_dim: int, scale: float, chunk: int = 250) -> torch.Tensor:
    """The tangents tau_i / s at z = 0 of every image of ``split``: (N, D, k), G frozen (no graph kept)."""
    with torch.no_grad():
        return torch.cat([tangents(G, x, local_dim, scale).detach() for x in split.float_x().split(chunk)])


@dataclass
class TangentClassifierResult:
    net: nn.Module
    test_error: float
    seconds: float
    fingerprint: dict


def train_tangent_classifier(cfg, G: nn.Module, local_dim: int, scale: float, steps: int, weight: float,
                             batch_size: int = 64, smooth_batch: int = 32, noise_std: float = 0.3, dropout: float = 0.0,
                             dataset: Dataset | None = None, split: str = "test",
                             train_tangents: torch.Tensor | None = None) -> TangentClassifierResult:
    """The classifier of ``cfg`` (the semi-supervised GAN's D architecture, :func:`build_classifier`)
    trained with cross-entropy on the labelled training images plus ``weight`` * Omega_f on a batch of
    ``smooth_batch`` of all training images (labelled or not), the tangents t_i = tau_i / s of the trained local generator
    ``G`` (computed once, G frozen). Adam(``cfg.train.lr_d``, ``cfg.train.betas``), seeded by ``cfg.seed``.
    ``weight=0`` is exactly :func:`gankit.models.classifier.train_supervised`'s baseline loss.
    ``train_tangents`` (N_train, D, k): the tangents of every training image, if already computed
    (:func:`training_tangents`), so that several seeds share them."""
    dataset = dataset or build_dataset(cfg.data)
    x_all = dataset.train.float_x()
    T_all = train_tangents
    if weight > 0 and T_all is None:
        T_all = training_tangents(G, dataset.train, local_dim, scale)

    def smoothness(net: nn.Module) -> torch.Tensor:  # on a batch of all training images, labelled or not
        u = torch.randint(len(x_all), (smooth_batch,))
        return weight * tangent_smoothness(net, x_all[u], T_all[u])

    base = train_supervised(cfg, steps, batch_size, noise_std, dropout, dataset, split,
                            extra_loss=smoothness if weight > 0 else None)
    fingerprint = {**base.fingerprint, "smooth_batch": smooth_batch, "smoothness_weight": weight,
                   "local_dim": local_dim, "tangent_scale": scale}
    return TangentClassifierResult(base.net, base.test_error, base.seconds, fingerprint)


# ---------------------------------------------------------------------------------------------------
# Config and factory.


class LGANParams(Strict):
    """``model.params`` of lgan."""

    local_dim: int = Field(4, ge=1, le=64)
    """k, the number of local coordinates z (tangent directions) at each image."""
    tangent_weight: float = Field(1.0, ge=0)
    """lambda_G of the orthonormal-tangent penalty || (J/s)^T (J/s) - I ||_F^2 at z = 0; 0 switches it off."""
    tangent_scale: float | Literal["auto"] = "auto"
    """s, the length (L2 over pixels in [-1, 1]) each tangent is asked to have; auto: nearest-neighbour
    distance of the training images / sqrt(local_dim) (module docstring)."""
    z_std: float = Field(1.0, gt=0)
    """Standard deviation of the local coordinates z drawn for the fakes."""
    tangent_batch: int = Field(16, ge=1)
    """The penalty's expectation over x is taken on the first this many images of each real batch (its
    forward-mode pass costs k rows of G per image: on mnist5k with k = 8, 64 images cost ~20x G's own step)."""

    @field_validator("tangent_scale")
    @classmethod
    def _positive(cls, v: float | str) -> float | str:
        if not isinstance(v, str) and not v > 0:
            raise ValueError(f"must be 'auto' or a positive number, got {v}")
        return v


def check_local_family(cfg, info, family: str) -> None:
    """The checks every local-generator family makes before it builds anything (one line each)."""
    if info.kind != "image":
        raise ConfigError(f"data.name: {family} moves images along their tangents, but {info.name!r} holds vectors; "
                          "use an image dataset (digits, mnist5k, ...)")
    if cfg.reg.ortho_jacobian.weight > 0:
        raise ConfigError(f"reg.ortho_jacobian.weight: {family} has its own orthonormal penalty at z = 0 "
                          "(model.params.tangent_weight); set reg.ortho_jacobian.weight=0")
    if info.shape[1] != info.shape[2]:
        raise ConfigError(f"data.image_size: {family} needs square images, {info.name!r} has {info.shape[1:]}")


def local_parts(cfg, info, p: LGANParams, images: Split) -> tuple[LocalGenerator, LocalSource, float]:
    """The local generator of ``cfg.net`` for data ``info``, its source over ``images`` and the tangent scale
    s (``p.tangent_scale`` or the auto scale)."""
    G = LocalGenerator(feature_body(cfg.net, info), info.channels, info.image_size, cfg.net.width, p.local_dim)
    scale = auto_tangent_scale(images, p.local_dim) if p.tangent_scale == "auto" else float(p.tangent_scale)
    return G, LocalSource(images, p.local_dim, p.z_std), scale


@MODELS.register("lgan", "Localized GAN: G(x, z) = x + sum z_i T_i(x, z) around every image, orthonormal tangents")
def build_lgan(cfg, info, device) -> LocalizedGAN:
    p = parse_params(LGANParams, cfg.model.params, "model 'lgan'")
    check_local_family(cfg, info, "lgan")
    images = build_dataset(cfg.data).train
    _, D = build_nets(cfg.net, info)  # D first: one seed initialises the nets as before local_parts existed
    objective = build_objective(cfg.objective)
    if objective.discriminator == "autoencoder":  # EBGAN: D is an energy auto-encoder, as in model=gan
        D = build_autoencoder_discriminator(cfg.net, info)
    G, source, scale = local_parts(cfg, info, p, images)
    G, D = apply_to_nets(cfg, info, G, D)  # packing, minibatch discrimination, spectral norm of D
    return LocalizedGAN(G.to(device), D.to(device), objective, source, p.tangent_weight, scale,
                        Regularizers(cfg.reg, None), p.tangent_batch).to(device)


build_lgan.objective_hooks = True  # type: ignore[attr-defined]  # the GAN step's hooks (samples, embeddings, ...)
build_lgan.applies_reg = True  # type: ignore[attr-defined]  # the reg.* switches of model=gan, but reg.ortho_jacobian


__all__ = ["LGANParams", "LocalCharts", "LocalGenerator", "LocalSource", "LocalSpectrum", "LocalizedGAN", "auto_tangent_scale",
           "edit_grid", "check_local_family", "local_dimension", "local_parts", "tangent_penalty", "tangent_smoothness", "tangents",
           "train_tangent_classifier", "training_tangents"]
