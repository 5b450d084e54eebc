"""Typed, validated configuration.

A config is built in layers: the defaults below (which are the main job: a non-saturating DCGAN on
mnist5k), then a named preset (``gankit/presets/NAME.yaml``), then a YAML file, then ``--set key=value``
overrides. Unknown keys, wrong types and impossible values raise a :class:`ConfigError` whose one-line
message names the key and what is allowed.

This module is pure schema: it imports no family. :func:`gankit.plugins.load_config` (also
``gankit.load_config``) resolves a config here and then checks its names against the registries.

Example::

    from gankit.config import resolve_config
    cfg = resolve_config(preset="ring8", overrides=["train.steps=500", "seed=3"])
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from gankit.errors import ConfigError
from gankit.validation import MAX_INT, MAX_SEED, error_key, error_message, excerpt

MAX_CONFIG_BYTES = 1 << 20  # a config file (or a preset) is at most 1 MiB of text
MAX_DEPTH = 32  # sections nested deeper than this are not a config (and would exhaust the recursion limit)


def check_values(value: Any, limit: float = MAX_INT, numbers: bool = True) -> None:
    """Raise ValueError unless every number in ``value`` (nested dicts / lists, walked without recursion)
    is one the machine can honour: floats finite, integers within +-``limit``, at most :data:`MAX_DEPTH` deep."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(v, bool) or v is None or not numbers and isinstance(v, (int, float)):
            continue
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"must be a finite number, got {v}")
        if isinstance(v, int) and not -limit <= v <= limit:
            raise ValueError(f"must be an integer within +-{limit:,} (2**31 - 1), got {excerpt(v)}")
        if isinstance(v, dict):
            stack.extend((x, depth + 1) for x in v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend((x, depth + 1) for x in v)


class Strict(BaseModel):
    # allow_inf_nan=False: an infinite learning rate or a NaN weight is refused where it enters, not mid-run.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False, allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _machine_sized(cls, v: Any, info: ValidationInfo) -> Any:
        # Every number of every section (params dicts included) fits the machine: see gankit.limits.
        check_values(v, MAX_SEED if info.field_name == "seed" else MAX_INT)
        return v


class DataConfig(Strict):
    name: str = "mnist5k"
    """Dataset name: ring8, grid25, spiral, gauss1d, mog1d, digits, mnist5k, mnist-idx, cifar10, folder, mnistm,
    digits28; paired (x_a input -> x target): mnist5k-edges, mnist5k-masked, mnist5k-lowres, mnist5k-lowres14,
    paired-folder; two-domain: mnist5k-to-mnistm, digits28-to-mnist5k, mnist5k-to-digits28; voxel grids: shapes3d,
    voxel-folder."""
    root: Path | None = None
    """Where a file dataset lives (a folder or a file); unused by the bundled datasets."""
    n_train: int = Field(50_000, ge=1)
    """Toy datasets only: how many training points to draw (the val and test splits hold 5,000)."""
    image_size: int | None = Field(None, ge=4)
    """File datasets (mnist-idx, cifar10, folder): center-crop, resize every image to N x N (default: keep);
    shapes3d: the voxel grid's side (default 16); voxel-folder: resample every grid to N^3 (nearest voxel)."""
    labels: int | None = Field(None, ge=0)
    """Keep the labels of only this many training samples (stratified, seeded; the rest get y = -1),
    for semi-supervised learning. None keeps every label."""
    memory_budget_mb: float | None = Field(4096.0, ge=0)
    """folder: largest in-memory size (MiB) of the decoded images (uint8, or float32 if resized); a larger
    folder is not loaded but read from disk per batch by data.workers processes, with the same batches and
    exact resume. 0 always streams; null never does."""
    workers: int = Field(2, ge=0)
    """Worker processes that read a streamed folder (data.memory_budget_mb); 0 reads in the training process."""

    @field_validator("root")
    @classmethod
    def _root_exists(cls, v: Path | None) -> Path | None:
        if v is None:
            return None
        try:
            exists = Path(v).expanduser().exists()
        except (OSError, ValueError, RuntimeError) as e:  # a name too long, a NUL byte, an unknown ~user
            raise ValueError(f"not a usable path: {excerpt(str(v))[1:-1]} ({type(e).__name__})") from None
        if not exists:
            raise ValueError(f"path does not exist: {excerpt(str(v))[1:-1]}")
        return Path(v).expanduser()


class NetConfig(Strict):
    name: str = "dcgan"
    """Network pair: dcgan (images 8..64 px), mlp (vectors), mlp-image (images, Salimans et al. 2016 MLP) or
    voxel (voxel grids 8..64 per side, 3D-GAN)."""
    z_dim: int = Field(100, ge=1)
    width: int = Field(32, ge=1)
    """dcgan: channels of the widest-resolution layer (doubling as resolution halves); mlp: hidden units."""
    depth: int = Field(3, ge=1)
    """mlp: number of hidden layers (dcgan: the depth follows the image size)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of nets that take them (mlp-image: layer sizes, noise, weight norm; it ignores
    width and depth); checked by the net."""


class ObjectiveConfig(Strict):
    name: str = "nonsaturating"
    """Objective by registered name: minimax, nonsaturating, lsgan, wgan, wgan-gp, hinge, loss-sensitive,
    gls-gan, ebgan, fgan (its divergence in params); `gankit presets` shows them in use."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of the objective (checked against its signature)."""


class ModelConfig(Strict):
    name: str = "gan"
    """Training-step family: gan (D on real vs fake, one objective); see `gankit presets` for others."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of the family (checked by the family)."""


class GradPenaltyConfig(Strict):
    weight: float = Field(0.0, ge=0)
    """lambda of the penalty lambda * E[(||grad D(x_hat)|| - center)^2]; 0 switches it off."""
    center: float = Field(1.0, ge=0)
    """Target gradient norm (1 for WGAN-GP)."""
    one_sided: bool = False
    """Penalise only norms above center: max(0, ||grad|| - center)^2 (Gulrajani et al., Appendix)."""
    at: Literal["interpolates", "real", "fake"] = "interpolates"
    """Where x_hat lies: random interpolates of real and fake (WGAN-GP), or the real or fake samples."""


class OrthoJacobianConfig(Strict):
    weight: float = Field(0.0, ge=0)
    """Weight of the orthonormal-Jacobian penalty ||J^T J - I||_F^2 on G (Localized GAN); 0 is off."""
    n_dirs: int = Field(4, ge=1)
    """How many random latent axes J is measured on (at most net.z_dim are used: all of them when smaller)."""
    method: Literal["autograd", "fd"] = "autograd"
    """Exact Jacobian-vector products (forward-mode autodiff), or central finite differences with step eps."""
    eps: float = Field(1e-2, gt=0)
    """Finite-difference step (method=fd only)."""


class RegConfig(Strict):
    """Regularisers and training tricks; each works with any objective where it makes sense."""

    gp: GradPenaltyConfig = Field(default_factory=GradPenaltyConfig)
    r1: float = Field(0.0, ge=0)
    """gamma of R1 = gamma/2 E_real[||grad D||^2] (Mescheder et al. 2018); 0 is off."""
    r2: float = Field(0.0, ge=0)
    """gamma of R2, the same on fake samples; 0 is off."""
    spectral_norm: bool = False
    """Spectral normalisation of every weight of D (Miyato et al. 2018)."""
    ortho_jacobian: OrthoJacobianConfig = Field(default_factory=OrthoJacobianConfig)
    pack: int = Field(1, ge=1)
    """PacGAN: D judges this many samples at once (1 is off); train.batch_size must be a multiple."""
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    """One-sided label smoothing: D's target for real samples is 1 - this (Salimans et al. 2016)."""
    feature_matching: float = Field(0.0, ge=0)
    """Weight of ||E f(real) - E f(fake)||^2 on D's features added to G's loss (Salimans et al. 2016)."""
    minibatch_discrimination: int = Field(0, ge=0)
    """Kernels B of a minibatch-discrimination layer before D's head (Salimans et al. 2016); 0 is off."""
    minibatch_kernel_dim: int = Field(5, ge=1)
    """Dimension C of each minibatch-discrimination kernel (the paper's T is A x B x C)."""
    diffaugment: list[Literal["color", "translation", "cutout"]] = Field(default_factory=list)
    """DiffAugment (Zhao et al. 2020): D sees T(x) for real and fake images in both players' steps, T drawn
    per sample from these transformations (images only); empty is off."""


SWITCHES = ("ema", "drs")  # sections with an `enabled` field that also take a bare bool (train.ema, eval.drs)


def switch_from_bool(v: Any) -> Any:
    """A bare bool given for a switch section means its ``enabled`` field."""
    return {"enabled": v} if isinstance(v, bool) else v


class EMAConfig(Strict):
    enabled: bool = True
    half_life_images: float = Field(10_000.0, gt=0)
    """Half-life of the exponential moving average of G, counted in training images (StyleGAN2-ADA)."""
    rampup: float | None = Field(0.05, gt=0)
    """Early in training, cap the half-life at rampup x images seen, so G_ema is not stuck at init."""


class TrainConfig(Strict):
    steps: int = Field(4500, ge=1)
    """Generator steps."""
    batch_size: int = Field(64, ge=1)
    d_steps: int = Field(1, ge=1)
    """Discriminator steps per generator step (the k of Goodfellow et al. 2014, Algorithm 1)."""
    lr_g: float = Field(2e-4, gt=0)
    lr_d: float = Field(2e-4, gt=0)
    optimizer: Literal["adam", "sgd"] = "adam"
    """The optimiser of both players: adam (with train.betas) or sgd (plain SGD with heavy-ball
    train.momentum, as Ganin et al. 2016 train DANN)."""
    betas: tuple[float, float] = (0.5, 0.999)
    """Adam's (beta1, beta2); unused by sgd."""
    momentum: float = Field(0.9, ge=0, lt=1)
    """SGD's momentum (train.optimizer=sgd; unused by adam)."""
    lr_decay: Literal["none", "linear", "cosine", "inverse"] = "none"
    """Learning-rate schedule of both optimisers over train.steps: none (constant lr_g, lr_d), linear
    (lr x (1 - t/steps)), cosine (lr x (1 + cos(pi t/steps)) / 2) or inverse (lr x (1 + 10 t/steps)^-0.75,
    the annealing of Ganin & Lempitsky 2015 for DANN: alpha = 10, beta = 0.75, ending at lr / 5.6),
    t = generator steps done before this one. Measured, it did not help the GANs it was tried on (seed 0, gankit 6faea15): ring8-best HQ
    93.5 % none / 83.0 % linear / 84.3 % cosine; grid25-best 25/25 modes 67.2 % HQ none, 21/25 with
    either decay; the concat CGAN 79.8 % class accuracy none vs 67.4 % linear. The lr is a function
    of the step, so a checkpoint restores it exactly (the decay's horizon is stored with it); train.steps cannot
    change on --resume while a decay is on (the schedule would change)."""
    ema: EMAConfig = Field(default_factory=EMAConfig)
    checkpoint_every: int = Field(1000, ge=0)
    """Generator steps between checkpoints (0: only at the end). One is always written at the end."""
    keep_checkpoints: int = Field(3, ge=1)
    sample_every: int = Field(500, ge=0)
    """Generator steps between sample grids from a fixed z (0: only at the end)."""
    log_every: int = Field(50, ge=1)
    grid_size: int = Field(64, ge=1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Under torchrun each process takes the GPU of its LOCAL_RANK (cuda / auto) or the CPU."""
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    """Autocast of the training steps (gankit/engine/precision.py): fp32 (off), bf16 (CPU or GPU, no loss
    scaling) or fp16 (a gradient scaler per optimiser, its state in the checkpoint)."""
    compile: bool = False
    """torch.compile every network for the training steps; where compilation fails the run says so once
    and goes on uncompiled. Sampling, evaluation and checkpoints use the plain networks."""
    tensorboard: bool = True
    """Write TensorBoard scalars to RUN/tensorboard (needs the tensorboard package)."""
    report: bool = True
    """Write RUN/report.html when the run ends (curves, sample grids, quality figure, diagnosis); any time
    later: ``gankit report RUN``."""

    @field_validator("betas")
    @classmethod
    def _betas_in_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not all(0.0 <= b < 1.0 for b in v):
            raise ValueError(f"each beta must be in [0, 1), got {list(v)}")
        return v

    @field_validator("ema", mode="before")
    @classmethod
    def _ema_from_bool(cls, v: Any) -> Any:
        return switch_from_bool(v)  # `--set train.ema=false` is the natural way to switch it off


class DRSConfig(Strict):
    """Discriminator rejection sampling at the end of training (:mod:`gankit.drs`, Azadi et al. 2019)."""

    enabled: bool = False
    """Also score G's samples kept by DRS (written to quality_drs.json); model=gan, no minibatch discrimination."""
    calibration_steps: int = Field(1000, ge=0)
    """Logistic-loss steps of a copy of D against the final (frozen) G before sampling."""
    lr: float = Field(1e-4, gt=0)
    """Adam learning rate of the calibration (betas 0.5, 0.999; batch = train.batch_size)."""
    gamma_quantile: float | None = Field(None, gt=0, lt=1)
    """null: exact rejection sampling; q: gamma = the q-quantile of F on the burn-in (large q: stricter, fewer kept)."""
    burn_in: int = Field(10_000, ge=1)
    """G samples whose largest calibrated logit starts the running maximum M."""


class EvalConfig(Strict):
    at_end: bool = True
    """Compute the quality figure when training ends (FID/KID for images, mode metrics for 2D mixtures)."""
    n: int | None = Field(None, ge=2)
    """Generated samples to score (default: the size of the reference split; 2,500 for toy mixtures)."""
    split: Literal["val", "test"] = "test"
    drs: DRSConfig = Field(default_factory=DRSConfig)

    @field_validator("drs", mode="before")
    @classmethod
    def _drs_from_bool(cls, v: Any) -> Any:
        return switch_from_bool(v)  # `--set eval.drs=true` switches it on with the defaults


class Config(Strict):
    description: str = "Non-saturating DCGAN on mnist5k (the default main job)."
    seed: int = Field(0, ge=0, le=MAX_SEED)
    """Seeds python, numpy and torch: 0 .. 2**32 - 1."""
    deterministic: bool = False
    """Ask PyTorch for deterministic kernels (slower on GPU; CPU runs are deterministic already)."""
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    net: NetConfig = Field(default_factory=NetConfig)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)
    reg: RegConfig = Field(default_factory=RegConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)

    @field_validator("model", mode="before")
    @classmethod
    def _model_from_name(cls, v: Any) -> Any:
        # `model: cgan` (or --set model=cgan) is the natural shorthand when the family needs no params.
        return {"name": v} if isinstance(v, str) else v

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.model_dump_json())


# ----------------------------------------------------------------------------------------------
# Loading: presets, files, overrides.


def presets_dir() -> Path:
    return Path(__file__).parent / "presets"


def load_yaml_text(text: str, where: str) -> Any:
    """YAML ``text`` read safely: no anchors or aliases (a few hundred bytes of aliases expand to millions of
    entries; a recursive anchor never ends), at most :data:`MAX_DEPTH` levels deep (checked on the parser's
    events, which PyYAML produces without recursion, before anything is composed), tags of plain data only.
    Any problem is a :class:`ConfigError` naming ``where``."""
    try:
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise ConfigError(f"{where}: YAML anchors and aliases (&name, *name) are not allowed in a config; "
                                  "write the values out")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ConfigError(f"{where}: nested more than {MAX_DEPTH} levels deep; a config has a few levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or type(e).__name__
        raise ConfigError(f"{where} is not valid YAML{line} ({excerpt(str(problem))[1:-1]})") from None
    except (RecursionError, MemoryError):  # pragma: no cover - the checks above keep these out
        raise ConfigError(f"{where}: too large or too deeply nested to read as a config") from None


def read_text_file(path: Path, what: str, limit: int = MAX_CONFIG_BYTES) -> str:
    """The UTF-8 text of ``path``, at most ``limit`` bytes; a :class:`ConfigError` naming ``what`` and the
    file otherwise (missing, a folder, too large, unreadable, not UTF-8)."""
    try:
        if not path.is_file():
            raise ConfigError(f"{what}: file not found: {path}")
        with open(path, "rb") as f:
            raw = f.read(limit + 1)
    except OSError as e:
        raise ConfigError(f"{what}: cannot read {path} ({e.strerror or type(e).__name__})") from None
    if len(raw) > limit:
        raise ConfigError(f"{what}: {path} is larger than {limit // 1024} KiB; a config is a few lines of YAML")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{what}: {path} is not UTF-8 text (byte {e.start}: {raw[e.start:e.start + 1]!r})") from None


def list_presets() -> dict[str, str]:
    """Preset name -> one-line description."""
    out = {}
    for path in sorted(presets_dir().glob("*.yaml")):
        data = load_yaml_text(read_text_file(path, "preset"), f"preset {path.stem}") or {}
        out[path.stem] = str(data.get("description", "")).strip() if isinstance(data, dict) else ""
    return out


def read_preset(name: str) -> dict[str, Any]:
    path = presets_dir() / f"{name}.yaml"
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise ConfigError(f"--preset: unknown preset {excerpt(name)}; choose one of: {', '.join(list_presets())}")
    data = load_yaml_text(read_text_file(path, "--preset"), f"preset {name}") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"--preset: preset {name} must hold a mapping of keys, not a {type(data).__name__}")
    return data


def read_config_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    data = load_yaml_text(read_text_file(path, "--config"), f"--config: {path}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"--config: {path} must hold a mapping of keys, not a {type(data).__name__}")
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.lr_g=1e-4"`` -> (["train", "lr_g"], 0.0001). Values are read as YAML."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {excerpt(text)}: expected KEY=VALUE, e.g. train.steps=100")
    parts = key.strip().split(".")
    if any(not p.strip() for p in parts) or len(parts) > MAX_DEPTH:
        raise ConfigError(f"--set {excerpt(key)}: not a dotted key such as train.steps")
    try:
        value = load_yaml_text(raw, f"--set {excerpt(key)[1:-1]}") if raw.strip() else None
    except ConfigError as e:
        if "anchors" in str(e) or "nested" in str(e):
            raise
        value = raw  # not YAML: the text itself (a string key gets it; a number key says what it wants)
    if isinstance(value, str):  # YAML 1.1 reads "1e-4" as a string; a number is meant
        try:
            value = float(value)
        except ValueError:
            pass
    return [p.strip() for p in parts], value


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def apply_override(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node = tree
    for i, part in enumerate(path[:-1]):
        child = node.get(part)
        if part in SWITCHES:  # train.ema=false, then train.ema.half_life_images=...
            child = switch_from_bool(child)
        if isinstance(child, str) and part == "model" and i == 0:  # model=cgan, then model.params.x=...
            child = {"name": child}
        if child is None:
            child = {}
        if not isinstance(child, dict):
            raise ConfigError(f"--set {excerpt('.'.join(path))[1:-1]}: {excerpt('.'.join(path[: i + 1]))[1:-1]} is a "
                              "value, not a section")
        node[part] = child
        node = child
    node[path[-1]] = value


def _describe(err: dict[str, Any], model: type[BaseModel]) -> str:
    key = error_key(err)
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(model, [str(p) for p in err["loc"][:-1]])
        return f"{key}: unknown key; allowed here: {', '.join(allowed)}"
    msg = excerpt(error_message(err), 300)[1:-1] if len(error_message(err)) > 300 else error_message(err)
    got = err.get("input")
    if err["type"] != "value_error" and not isinstance(got, dict):
        msg += f" (got {excerpt(got)})"
    return f"{key}: {msg}"


def _allowed_keys(model: type[BaseModel], path: list[str]) -> list[str]:
    for part in path:
        field = model.model_fields.get(part)
        ann = getattr(field, "annotation", None)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return list(model.model_fields)


def build_config(tree: dict[str, Any]) -> Config:
    """Validate a nested dict into a Config (the schema only), turning validation errors into one
    ConfigError line. Whether its names (data, net, objective, model) exist is checked by
    :func:`gankit.plugins.load_config`, the entry point, since this module knows no plugin."""
    if not isinstance(tree, dict):
        raise ConfigError(f"config error: a config is a mapping of keys, not a {type(tree).__name__}")
    try:
        check_values(tree, numbers=False)  # depth only here: the schema names the key of a bad number
    except ValueError as e:
        raise ConfigError(f"config error: {e}") from None
    try:
        return Config.model_validate(tree)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        raise ConfigError("config error: " + "; ".join(_describe(err, Config) for err in errors[:3])) from None


def resolve_config(
    preset: str | None = None,
    file: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    base: dict[str, Any] | None = None,
) -> Config:
    """Defaults <- ``base`` (e.g. a resumed run's config) <- preset <- file <- ``key=value`` overrides,
    validated against the schema. :func:`gankit.plugins.load_config` also checks the plugin names."""
    tree: dict[str, Any] = dict(base or {})
    if preset:
        tree = deep_merge(tree, read_preset(preset))
    if file:
        tree = deep_merge(tree, read_config_file(file))
    for text in overrides:
        path, value = parse_override(text)
        apply_override(tree, path, value)
    return build_config(tree)
