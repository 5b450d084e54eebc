"""Python API functions that mirror CLI commands not covered by the trainer (``gankit sample``, ``gankit translate``)."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from gankit.config import Config
from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.devices import resolve_device
from gankit.engine.checkpoint import Checkpoint, load_latest
from gankit.engine.rundir import RunDir
from gankit.errors import CheckpointError, ConfigError, GankitError
from gankit.limits import check_memory, human_bytes
from gankit.models import Model, build_model
from gankit.outputs import check_output_dir, check_output_file, user_path, writing
from gankit.viz import save_samples


def load_run(run_dir: str | Path, device: str | torch.device = "cpu") -> tuple[Config, Model, Checkpoint]:
    """The config, the model with its trained weights, and the newest readable checkpoint of a run."""
    device = resolve_device(device)
    run = RunDir.open(run_dir)
    ckpt = load_latest(run.checkpoints)
    try:
        cfg = load_config(base=ckpt.meta["config"])
    except ConfigError as e:
        raise CheckpointError(f"{ckpt.path}: its config does not load in this gankit ({e})") from None
    model = build_model(cfg, build_dataset(cfg.data).info, device)
    for name, net in model.nets.items():
        try:
            net.load_state_dict(ckpt.prefixed(name))
        except RuntimeError as e:
            raise CheckpointError(f"{ckpt.path}: weights of {name} do not fit ({str(e).splitlines()[0][:120]})") from None
        net.eval()
    return cfg, model, ckpt


def load_generator(run_dir: str | Path, ema: bool = False, device: str | torch.device = "cpu") -> tuple[Config, nn.Module, int]:
    """(config, G or G_ema in eval mode, step) from a run's newest checkpoint.

    G's inputs come from the run's model prior: ``load_run(run_dir)[1].prior``."""
    cfg, model, ckpt = load_run(run_dir, device)
    return cfg, pick_generator(model, ckpt, ema), int(ckpt.meta["step"])


def pick_generator(model: Model, ckpt: Checkpoint, ema: bool) -> nn.Module:
    """The generator to sample or score, in eval mode: ``model.G`` as loaded, or with the checkpoint's
    G_ema weights (``ema=True``; a :class:`CheckpointError` when the run kept none)."""
    G = model.nets["G"]
    if ema:
        weights = ckpt.prefixed("G_ema")
        if not weights:
            raise CheckpointError(f"{ckpt.path}: this run kept no G_ema (train.ema.enabled was false); drop --ema")
        G.load_state_dict(weights)
    return G.eval()


def sample(run_dir: str | Path, n: int = 64, out: str | Path = "grid.png", ema: bool = False, seed: int = 0,
           device: str | torch.device = "cpu", label: int | None = None, drs: bool = False,
           text: str | None = None) -> Path:
    """Draw ``n`` samples from a trained run and save them as a grid (images) or a plot (vectors).

    Conditional runs (cgan, acgan; infogan's categorical code): ``label=k`` draws ``n`` samples of class
    (code) k; without it the picture is the prior's class-by-row grid (K rows of the same K latents, so
    ``n`` is not used). ``label`` on an unconditional run is a :class:`GankitError`. ``drs=True`` keeps
    only the samples that discriminator rejection sampling accepts (:mod:`gankit.drs`; model=gan runs
    with a per-sample D; calibrated with the run's ``eval.drs`` settings).
    Text-to-image runs (stackgan): ``text="a thick slanted three"`` draws ``n`` samples of that caption
    (an unknown word is a :class:`GankitError` listing the vocabulary); without it the picture is one
    held-out caption per row.

    Example::

        gankit.sample("runs/00000-mnist5k-dcgan-nonsaturating", n=64, out="grid.png", ema=True)
        gankit.sample("runs/00001-mnist5k-dcgan-nonsaturating", out="sevens.png", label=7)  # a cgan run
        gankit.sample("runs/00002-mnist5k-captions-stackgan", out="threes.png", text="a thick slanted three")
    """
    device = resolve_device(device)
    out = check_output_file(out)  # before anything is drawn
    cfg, model, ckpt = load_run(run_dir, device)
    G, step = pick_generator(model, ckpt, ema), int(ckpt.meta["step"])
    check_memory(n * bytes_per_sample(model, G, device, label), "--n", f"{n:,} samples through G "
                 f"({human_bytes(bytes_per_sample(model, G, device, label))} each)")
    which = "G_ema" if ema else "G"
    if text is not None:
        x, which = _text_samples(model, G, cfg, text, n, seed, device, label, drs), which + f", text {text!r}"
    elif drs:
        if label is not None:
            raise GankitError("--drs: rejection sampling is for unconditional runs; drop --class")
        sampler = drs_sampler(cfg, model, G, device)
        x = sampler.draw(n, seed=seed, device=device)
        which += f" + DRS (acceptance {100 * sampler.stats.acceptance:.1f} %)"
    else:
        x = _samples(model, G, cfg, n, seed, device, label)
    dataset = build_dataset(cfg.data) if x.dim() == 2 else None
    what = f", class {label}" if label is not None else ""
    with writing(out):
        return save_samples(x, out, dataset, title=f"{which}, step {step}, seed {seed}{what}")


def bytes_per_sample(model: Model, G: nn.Module, device, label: int | None = None) -> int:
    """Bytes one sample takes on its way through ``G`` (every module's output summed: an upper bound on
    what sampling holds at once), measured by drawing one sample."""
    total = [0]

    def hook(module, inputs, output):
        for t in output if isinstance(output, (tuple, list)) else (output,):
            if isinstance(t, torch.Tensor):
                total[0] += t.numel() * t.element_size()

    handles = [m.register_forward_hook(hook) for m in G.modules()]
    try:
        with torch.no_grad():
            if label is not None and getattr(model.source, "num_classes", None):
                model.sample(1, 0, device, G=G, y=torch.zeros(1, dtype=torch.long))
            else:
                model.sample(1, 0, device, G=G)
    except Exception:  # noqa: BLE001 - a model that cannot draw one sample fails later with its own message
        return 0
    finally:
        for h in handles:
            h.remove()
    return total[0]


def _text_samples(model: Model, G: nn.Module, cfg: Config, text: str, n: int, seed: int, device, label, drs
                  ) -> torch.Tensor:
    """n samples of a typed caption (a text-to-image run's ``model.text_inputs``)."""
    from gankit.sampling import generate

    if label is not None or drs:
        raise GankitError("--text: draws from a caption; drop --class / --drs")
    if not hasattr(model, "text_inputs"):
        raise GankitError(f"--text: this run's model ({cfg.model.name}) does not draw from captions; drop --text")
    return generate(G, model.text_inputs(text, n, seed, device))


def drs_sampler(cfg: Config, model: Model, G: nn.Module, device: str | torch.device = "cpu"):
    """The :class:`gankit.drs.RejectionSampler` of a loaded run (its D calibrated on its training split)."""
    from gankit.drs import sampler_for
    from gankit.errors import ConfigError

    try:
        return sampler_for(cfg, model, G, build_dataset(cfg.data).train.to(device))
    except ConfigError as e:
        raise GankitError(f"--drs: {str(e).removeprefix('eval.drs: ')}") from None


def _samples(model: Model, G: nn.Module, cfg: Config, n: int, seed: int, device, label: int | None) -> torch.Tensor:
    """What ``sample`` draws through the model: n samples of class ``label``, the source's grid (one class
    per row for conditional sources), or n plain samples."""
    classes = getattr(model.source, "num_classes", None)  # set by class- and code-conditioned sources
    if label is None:  # a source with its own layout: classes by row, or a translation's input | output | target
        laid_out = classes or not model.source.latent
        return model.sample_grid(n, seed, device, G=G) if laid_out else model.sample(n, seed, device, G=G)
    if not classes:
        raise GankitError(f"--class: this run's model ({cfg.model.name}) is unconditional; drop --class")
    if not 0 <= label < classes:
        raise GankitError(f"--class: {label} is not a class of this run; choose 0..{classes - 1}")
    return model.sample(n, seed, device, G=G, y=torch.full((n,), label, dtype=torch.long))


TRANSLATE_CHUNK = 256  # images read and translated at a time by translate()


def translate(run_dir: str | Path, input: str | Path, out: str | Path, seed: int | None = 0, ema: bool = False,
              device: str | torch.device = "cpu") -> list[Path]:
    """Apply a trained pix2pix run's G to an image file or a folder of images; the twin of ``gankit translate``.

    Each image is read as the run's inputs were (grey images are repeated to RGB for a 3-channel G; a
    colour image for a 1-channel G is an error), center-cropped and resized to G's input side, translated
    with dropout masks seeded by ``seed`` (None: no dropout) and written to ``out/NAME.png``. Returns the
    paths written. Bad input (no such file, no images, an unreadable image, a run that is not pix2pix, two
    inputs that would write the same NAME.png) is a :class:`GankitError` naming it, raised before anything
    is written. A folder is read and translated ``TRANSLATE_CHUNK`` images at a time (memory does not grow
    with the folder), with the masks the whole folder would get at once.

    Example::

        gankit.translate("runs/00003-mnist5k-edges-pix2pix-dcgan-nonsaturating", "my-edges/", "translated/")
    """
    from PIL import Image

    from gankit.data.folder import IMAGE_EXTENSIONS, FolderImages

    device = resolve_device(device)
    folder = check_output_dir(out)
    source = user_path(input, "--input")
    if not source.exists():
        raise GankitError(f"--input: {source} does not exist; give an image file or a folder of images")
    if source.is_dir():
        paths = sorted(p for p in source.iterdir()
                       if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not paths:
            raise GankitError(f"--input: {source} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    else:
        paths = [source]
    stems: dict[str, Path] = {}
    for p in paths:
        if p.stem in stems:
            raise GankitError(f"--input: {stems[p.stem].name} and {p.name} would both be written as {p.stem}.png; "
                              "rename one")
        stems[p.stem] = p
    cfg, model, ckpt = load_run(run_dir, device)
    if not hasattr(model, "translate"):
        raise GankitError(f"{run_dir}: this run's model is {cfg.model.name!r}; translate applies the G of a "
                          "pix2pix run (model=pix2pix)")
    G = pick_generator(model, ckpt, ema)
    channels, side = model.source.inputs.shape[1], model.source.inputs.shape[-1]
    reader = FolderImages(paths, rgb=channels == 3, image_size=side, shape=())
    for i, path in enumerate(paths):  # every input is checked before anything is written
        got = reader.read(i).shape[0]
        if got != channels:
            raise GankitError(f"{path}: a {got}-channel image, but this run's G takes {channels}-channel (grey) "
                              "images; convert it to greyscale first")
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    written = []
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        for start in range(0, len(paths), TRANSLATE_CHUNK):  # memory bounded by the chunk, not the folder
            chunk = range(start, min(start + TRANSLATE_CHUNK, len(paths)))
            outputs = model.translate(torch.stack([reader.read(i) for i in chunk]), seed=gen, G=G)
            pixels = ((outputs.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
            for i, pix in zip(chunk, pixels):
                target = folder / f"{paths[i].stem}.png"
                Image.fromarray(pix[..., 0] if pix.shape[-1] == 1 else pix).save(target)
                written.append(target)
    return written


def edit(run_dir: str | Path, image: str | Path | None = None, index: int | None = None, split: str = "test",
         out: str | Path = "edit.png", ema: bool = False, steps: int = 9, span: float = 2.5,
         device: str | torch.device = "cpu") -> Path:
    """Move one image along each tangent direction of a Localized GAN run (``model=lgan``) and save the grid.

    The image is a PNG/JPEG file of the run's image size (``image``) or image ``index`` of the dataset's
    ``split``. Row i of the grid is G(x, t e_i) for ``steps`` values of t in [-span, span] * z_std: x moved
    along its i-th local coordinate (the middle column, t = 0, is x itself). Unlike editing with a global
    G(z), nothing is inverted: the Localized GAN's chart is centred on x (G(x, 0) = x).

    Example::

        gankit.edit("runs/00000-digits-lgan-dcgan-nonsaturating", index=0, out="edit.png")
        gankit.edit("runs/00001-mnist5k-lgan-dcgan-nonsaturating", image="my_seven.png", ema=True)
    """
    from gankit.models.lgan import LocalCharts, edit_grid
    from gankit.viz import save_image_grid

    if (image is None) == (index is None):
        raise GankitError("gankit edit: give exactly one of --image FILE or --index K")
    if steps < 1:
        raise GankitError(f"--steps: must be at least 1, got {steps}")
    if not (isinstance(span, (int, float)) and math.isfinite(span) and span > 0):
        raise GankitError(f"--span: must be a finite number > 0, got {span}")
    out = check_output_file(out)
    cfg, model, ckpt = load_run(run_dir, device)
    if not isinstance(model, LocalCharts):
        raise GankitError(f"{run_dir}: this run's model is {cfg.model.name}, not lgan or lgan-ssl; gankit edit moves an image "
                          "along a Localized GAN's tangents (train one with --preset digits-lgan)")
    G = pick_generator(model, ckpt, ema)
    dataset = build_dataset(cfg.data)
    if image is not None:
        x = _read_image(user_path(image, "--image"), tuple(dataset.info.shape), dataset.info.name)
    else:
        data = dataset.split(split)
        if not 0 <= index < len(data):
            raise GankitError(f"--index: {index} is not an image of the {split} split; choose 0..{len(data) - 1}")
        x = data.float_x(torch.tensor([index]))[0]
    # the grid holds local_dim x steps images, each the size of x, drawn through G at once
    check_memory(model.local_dim * steps * x.numel() * 4 * 64, "--steps",
                 f"{model.local_dim} x {steps:,} edited images of shape {tuple(x.shape)}")
    grid = edit_grid(G, x.to(device), model.local_dim, steps, span, model.source.z_std)
    with writing(out):
        return save_image_grid(grid, out, nrow=steps)


def _read_image(path: Path, shape: tuple[int, ...], data_name: str) -> torch.Tensor:
    """An image file as the model sees it: (C, H, W) float32 in [-1, 1]; it must have the run's size."""
    import numpy as np
    from PIL import Image

    if not path.is_file():
        raise GankitError(f"--image: file not found: {path}")
    try:
        with Image.open(path) as img:
            img = img.convert("L" if shape[0] == 1 else "RGB")
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - Pillow raises many types for a bad file (DecompressionBombError, ...)
        raise GankitError(f"--image: {path} is not a readable image ({type(e).__name__})") from None
    if (img.height, img.width) != shape[1:]:
        raise GankitError(f"--image: {path} is {img.width}x{img.height} pixels; this run's images ({data_name}) are "
                          f"{shape[2]}x{shape[1]}: resize it first")
    pixels = np.asarray(img, dtype=np.float32).reshape(img.height, img.width, -1).transpose(2, 0, 1)
    return torch.from_numpy(pixels * (2.0 / 255.0) - 1.0)
