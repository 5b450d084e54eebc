"""The augmenters of the augmentation study: each makes labelled synthetic images from what it may see.

An augmenter gets an :class:`AugmentInput`: the n labelled training images per class (``x``, ``y``), and in
situation B also the remaining training images (``pool_x``; their labels ``pool_y`` only for the augmenters
that declare ``pool_labels``: the class-conditional GANs and the real upper bound). It never gets the
validation or test split: the study builds its input from the training split alone
(:func:`study_input`), and a test poisons the other splits to check it.

| name     | what it makes (labels)                                           | situation B also uses          |
|----------|------------------------------------------------------------------|--------------------------------|
| affine   | each labelled image under a small random rotation/scale/shift     | -                              |
| mixup    | l x_i + (1-l) x_j, l ~ Beta(0.4, 0.4) folded to [0.5, 1] (x_i's)  | -                              |
| smote    | x + u (x_nn - x) toward one of its 5 nearest same-class images    | -                              |
| pca      | per-class Gaussian (diagonal) in a PCA basis (20 components)     | the basis from X + Y, unlabelled |
| vae      | G(z), z ~ q(z|x) of a labelled image x (gankit's VAE)            | trains on X + Y, unlabelled    |
| cgan     | projection CGAN (matching-aware D; gankit's ``cgan``) of class y | trains on X + Y with labels    |
| acgan    | ACGAN (gankit's ``acgan``, fake_class_weight 0) of class y       | trains on X + Y with labels    |
| real     | (B only) the real images Y with their labels: the upper bound    | is Y                           |

mixup keeps hard labels (the label of the larger weight) because most baselines take hard labels.
Every augmenter is deterministic given its ``seed`` (torch on one thread on the CPU).

Example::

    inp = AugmentInput(x, y, num_classes=10)
    x_syn, y_syn = augment("smote", inp, n_out=500, seed=0)
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import threading
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from gankit.studies.runner import StudyError


@dataclass
class AugmentInput:
    """What an augmenter may see: labelled ``x`` (N, C, H, W) in [-1, 1] with ``y`` (N,), and in situation B
    the rest of the training images ``pool_x`` (with ``pool_y`` only where the augmenter needs labels)."""

    x: torch.Tensor
    y: torch.Tensor
    num_classes: int
    pool_x: torch.Tensor | None = None
    pool_y: torch.Tensor | None = None


@dataclass(frozen=True)
class Augmenter:
    name: str
    fn: Callable[..., tuple[torch.Tensor, torch.Tensor]]
    description: str
    generative: bool  # learns a model of the data (its samples are "D_G" in the seed article's sense)
    situations: tuple[str, ...] = ("A",)
    pool_labels: bool = False  # in situation B, also sees the labels of the remaining training images
    trains_gan: bool = False  # trained through gankit's trainer (train steps apply)


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """``n`` labels cycling through the classes (the labelled set is class-balanced, so are its synthetics)."""
    return torch.arange(n) % num_classes


def _sources(y: torch.Tensor, y_out: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """For each wanted label, the index of a random labelled image of that class."""
    idx = torch.empty(len(y_out), dtype=torch.long)
    for c in y_out.unique():
        members = torch.nonzero(y == c)[:, 0]
        if len(members) == 0:
            raise StudyError(f"class {int(c)} has no labelled image to augment")
        where = y_out == c
        idx[where] = members[torch.randint(len(members), (int(where.sum()),), generator=g)]
    return idx


def affine(inp: AugmentInput, n_out: int, seed: int, **_) -> tuple[torch.Tensor, torch.Tensor]:
    """Classic augmentation: rotation U(-10, 10) degrees, scale U(0.9, 1.1), shift U(-1/8, 1/8) of the side."""
    g = torch.Generator().manual_seed(seed)
    y_out = balanced_labels(n_out, inp.num_classes)
    src = inp.x[_sources(inp.y, y_out, g)]
    angle = (torch.rand(n_out, generator=g) * 2 - 1) * math.radians(10)
    scale = 0.9 + 0.2 * torch.rand(n_out, generator=g)
    shift = (torch.rand(n_out, 2, generator=g) * 2 - 1) * 0.25  # affine_grid units: the side is 2
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(src.shape), align_corners=False)
    # grid_sample pads with 0; shift so that the padding is the background (-1), then shift back
    out = F.grid_sample(src + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1
    return out.clamp(-1, 1), y_out


def mixup(inp: AugmentInput, n_out: int, seed: int, alpha: float = 0.4, **_) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup (Zhang et al. 2018) with hard labels: l x_i + (1 - l) x_j, l >= 1/2, label y_i."""
    g = torch.Generator().manual_seed(seed)
    y_out = balanced_labels(n_out, inp.num_classes)
    i = _sources(inp.y, y_out, g)
    j = torch.randint(len(inp.x), (n_out,), generator=g)
    lam = _beta(n_out, g, alpha)
    lam = torch.maximum(lam, 1 - lam).view(-1, 1, 1, 1)
    return lam * inp.x[i] + (1 - lam) * inp.x[j], y_out


def _beta(n: int, g: torch.Generator, alpha: float) -> torch.Tensor:
    """``n`` Beta(alpha, alpha) draws seeded from ``g`` (torch's Beta takes no generator; numpy's does)."""
    import numpy as np

    rng = np.random.default_rng(int(torch.randint(2**62, (1,), generator=g)))
    return torch.from_numpy(rng.beta(alpha, alpha, size=n)).float()


def smote(inp: AugmentInput, n_out: int, seed: int, k: int = 5, **_) -> tuple[torch.Tensor, torch.Tensor]:
    """SMOTE (Chawla et al. 2002) on pixels: x + u (x_nn - x), u ~ U(0, 1), x_nn one of x's k nearest
    labelled images of the same class (all of them when the class has k or fewer)."""
    g = torch.Generator().manual_seed(seed)
    y_out = balanced_labels(n_out, inp.num_classes)
    i = _sources(inp.y, y_out, g)
    flat = inp.x.flatten(1)
    dist = torch.cdist(flat, flat)
    dist[inp.y[:, None] != inp.y[None, :]] = math.inf
    dist.fill_diagonal_(math.inf)
    same = (inp.y[:, None] == inp.y[None, :]).sum(1) - 1  # same-class neighbours of each image
    kk = torch.clamp(torch.minimum(same, torch.tensor(k)), min=1)
    order = dist.argsort(dim=1)
    pick = (torch.rand(n_out, generator=g) * kk[i]).long()
    nn_idx = order[i, pick]
    u = torch.rand(n_out, 1, 1, 1, generator=g)
    alone = (same[i] == 0).view(-1, 1, 1, 1)  # a class of one image: copy it
    out = inp.x[i] + torch.where(alone, 0.0, u) * (inp.x[nn_idx] - inp.x[i])
    return out, y_out


def pca_gaussian(inp: AugmentInput, n_out: int, seed: int, components: int = 20, **_) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-class Gaussian with diagonal covariance in a PCA basis; situation B fits the basis on X + Y."""
    g = torch.Generator().manual_seed(seed)
    y_out = balanced_labels(n_out, inp.num_classes)
    shape = inp.x.shape[1:]
    flat = inp.x.flatten(1).double()
    basis_data = flat if inp.pool_x is None else torch.cat([flat, inp.pool_x.flatten(1).double()])
    mean = basis_data.mean(0)
    k = max(1, min(components, len(basis_data) - 1, flat.shape[1]))
    _, _, v = torch.linalg.svd(basis_data - mean, full_matrices=False)
    basis = v[:k]  # (k, d)
    coef = (flat - mean) @ basis.T
    out = torch.empty(n_out, flat.shape[1], dtype=torch.float64)
    pooled_var = coef.var(0, unbiased=True) if len(coef) > 1 else torch.ones(k, dtype=torch.float64)
    for c in y_out.unique():
        cc = coef[inp.y == c]
        # few images per class: shrink the class variance toward the pooled one (half and half)
        var = 0.5 * (cc.var(0, unbiased=True) if len(cc) > 1 else pooled_var) + 0.5 * pooled_var
        where = y_out == c
        z = torch.randn(int(where.sum()), k, generator=g, dtype=torch.float64)
        out[where] = (cc.mean(0) + z * var.sqrt()) @ basis + mean
    return out.float().view(n_out, *shape).clamp(-1, 1), y_out


# ---- the generative models trained through gankit's trainer ------------------------------------------
_current = threading.local()  # the dataset the registered "study-subset" name stands for, per thread
_REGISTER_LOCK = threading.Lock()
SUBSET_NAME = "augment-study-subset"


def _register_subset() -> None:
    from gankit import plugins  # noqa: F401  (fills the registries first)
    from gankit.registry import DATASETS

    with _REGISTER_LOCK:
        if SUBSET_NAME not in DATASETS:
            DATASETS.register(SUBSET_NAME, "the augmentation study's training images of one job (in-process only)")(
                lambda cfg: _current.dataset)


def train_generator(model: str, x: torch.Tensor, y: torch.Tensor, num_classes: int, seed: int, steps: int,
                    overrides: list[str]):
    """Train gankit model ``model`` on (x, y) alone with the trainer; returns the TrainResult."""
    from gankit.data.base import DataInfo, Dataset, Split
    from gankit.engine.trainer import train
    from gankit.plugins import load_config

    _register_subset()
    info = DataInfo(name=SUBSET_NAME, kind="image", shape=tuple(x.shape[1:]), num_classes=num_classes)
    _current.dataset = Dataset(info, {"train": Split(x.float().contiguous(), y.long().contiguous())})
    side = x.shape[-1]
    cfg = load_config(overrides=[
        f"data.name={SUBSET_NAME}", f"model.name={model}", f"seed={seed}", f"train.steps={steps}",
        f"net.width={16 if side <= 8 else 32}", f"net.z_dim={32 if side <= 8 else 64}", f"train.batch_size={min(32, len(x))}",
        "train.checkpoint_every=0", "train.sample_every=0", f"train.log_every={steps}", "train.tensorboard=false",
        "eval.at_end=false", "train.report=false", *overrides])
    try:
        with tempfile.TemporaryDirectory(prefix="gankit-augment-") as tmp, contextlib.redirect_stdout(io.StringIO()):
            return train(cfg, run_dir=f"{tmp}/run", progress=False)
    finally:
        _current.dataset = None


def _train_set(inp: AugmentInput, labels: bool) -> tuple[torch.Tensor, torch.Tensor]:
    if inp.pool_x is None:
        return inp.x, inp.y
    if labels:
        if inp.pool_y is None:
            raise StudyError("situation B of a conditional GAN needs the labels of the remaining images")
        return torch.cat([inp.x, inp.pool_x]), torch.cat([inp.y, inp.pool_y])
    return torch.cat([inp.x, inp.pool_x]), torch.full((len(inp.x) + len(inp.pool_x),), -1, dtype=torch.long)


def _conditional_gan(model: str, overrides: list[str]):
    def fn(inp: AugmentInput, n_out: int, seed: int, steps: int = 400, **_) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = _train_set(inp, labels=True)
        result = train_generator(model, x, y, inp.num_classes, seed, steps, overrides)
        y_out = balanced_labels(n_out, inp.num_classes)
        G = result.G_ema if result.G_ema is not None else result.model.nets["G"]
        with torch.no_grad():
            return result.model.sample(n_out, seed=seed, G=G.eval(), y=y_out).clamp(-1, 1), y_out
    return fn


def vae(inp: AugmentInput, n_out: int, seed: int, steps: int = 400, **_) -> tuple[torch.Tensor, torch.Tensor]:
    """gankit's VAE trained on the images (X; X + Y in situation B, unlabelled); a sample of class c is
    G(z) with z ~ q(z | x) for a random labelled image x of class c (sampling around the labelled images)."""
    x, y = _train_set(inp, labels=False)
    result = train_generator("vae", x, y, inp.num_classes, seed, steps, ["model.params.sigma=0.1"])
    model = result.model
    g = torch.Generator().manual_seed(seed)
    y_out = balanced_labels(n_out, inp.num_classes)
    src = inp.x[_sources(inp.y, y_out, g)]
    G = result.G_ema if result.G_ema is not None else model.nets["G"]
    with torch.no_grad():
        model.nets.eval()
        mu, logvar = model.posterior(src)
        z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=g)
        return G.eval()(z).clamp(-1, 1), y_out


def real_pool(inp: AugmentInput, n_out: int, seed: int, **_) -> tuple[torch.Tensor, torch.Tensor]:
    """The upper bound of situation B: the remaining real training images with their labels (all of them;
    ``n_out`` is ignored)."""
    if inp.pool_x is None or inp.pool_y is None:
        raise StudyError("augmenter 'real' needs situation B (the remaining labelled training images)")
    return inp.pool_x, inp.pool_y


AUGMENTERS: dict[str, Augmenter] = {a.name: a for a in [
    Augmenter("none", lambda inp, n_out, seed, **_: (inp.x[:0], inp.y[:0]), "the labelled images alone", False),
    Augmenter("affine", affine, "small random affine jitter of labelled images", False),
    Augmenter("mixup", mixup, "mixup of two labelled images, hard label of the larger weight", False),
    Augmenter("smote", smote, "SMOTE: interpolation toward a same-class nearest neighbour", False),
    Augmenter("pca", pca_gaussian, "per-class Gaussian in a PCA basis", True, ("A", "B")),
    Augmenter("vae", vae, "gankit VAE, samples around labelled images", True, ("A", "B"), trains_gan=True),
    Augmenter("cgan", _conditional_gan("cgan", ["model.params.conditioning=projection", "model.params.mismatch=true"]),
              "gankit projection CGAN (matching-aware D)", True, ("A", "B"), pool_labels=True, trains_gan=True),
    Augmenter("acgan", _conditional_gan("acgan", ["model.params.fake_class_weight=0.0"]),
              "gankit ACGAN (D's class head learns from real labels)", True, ("A", "B"), pool_labels=True,
              trains_gan=True),
    Augmenter("real", real_pool, "the remaining real labelled images (upper bound of situation B)", False, ("B",),
              pool_labels=True),
]}


def variant_name(augmenter: str, situation: str) -> str:
    """The name a report uses: the augmenter, with -A / -B for those that exist in both situations."""
    return augmenter if augmenter in ("none", "real", "affine", "mixup", "smote") else f"{augmenter}-{situation}"


def study_input(train_x: torch.Tensor, train_y: torch.Tensor, labelled: torch.Tensor, num_classes: int,
                situation: str, augmenter: str) -> AugmentInput:
    """The input of ``augmenter``: the labelled rows of the TRAINING split, and in situation B the others
    (with labels only where the augmenter declares ``pool_labels``). Nothing of val or test goes in."""
    spec = AUGMENTERS[augmenter]
    if situation not in spec.situations and augmenter != "none":
        raise StudyError(f"augmenter {augmenter!r} has no situation {situation}")
    inp = AugmentInput(train_x[labelled], train_y[labelled], num_classes)
    if situation == "B":
        rest = torch.ones(len(train_x), dtype=torch.bool)
        rest[labelled] = False
        inp.pool_x = train_x[rest]
        inp.pool_y = train_y[rest] if spec.pool_labels else None
    return inp


def augment(name: str, inp: AugmentInput, n_out: int, seed: int, steps: int = 400) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_out`` synthetic images and their labels from augmenter ``name`` (see :data:`AUGMENTERS`)."""
    if name not in AUGMENTERS:
        raise StudyError(f"unknown augmenter {name!r}; choose from: {', '.join(AUGMENTERS)}")
    x, y = AUGMENTERS[name].fn(inp, n_out, seed, steps=steps)
    return x.detach().float(), y.long()


__all__ = ["AUGMENTERS", "AugmentInput", "Augmenter", "augment", "balanced_labels", "study_input", "train_generator",
           "variant_name"]
