"""What the seed-claim studies (theory, generalize, collapse, balance) share.

- :func:`recipe`: the training recipe of one objective of the zoo, taken from its ring8 preset
  (``objective``, ``reg``, learning rates, betas, ``d_steps``), so every study trains each objective the
  way gankit's own presets do; the study then sets the data, the net and the length.
- :func:`train_quietly`: ``gankit.train`` in a temporary folder, its console lines swallowed, checkpoints
  kept every ``checkpoint_every`` steps; returns the history and the G of every checkpoint.
- :func:`mean_ci`, :func:`curve_band`: the mean and 95 % percentile-bootstrap interval over seeds (the
  shared :func:`gankit.studies.stats.bootstrap_ci`), per point of a curve.
- :func:`band_figure`: a matplotlib figure of several curves with their bands.

Example::

    cfg = recipe("wgan-gp", data="ring8", steps=600, seed=0)
    run = train_quietly(cfg, checkpoint_every=200)
    run.history[-1]["d_acc_real"], [step for step, G in run.generators]
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gankit.studies.stats import bootstrap_ci

# The objective zoo, each with the preset that holds its recipe (data and net are replaced by the study).
ZOO_PRESETS: dict[str, str] = {
    "nonsaturating": "ring8",
    "minimax": "ring8-minimax",
    "fgan": "ring8-fgan",
    "lsgan": "ring8-lsgan",
    "hinge": "ring8-hinge",
    "ebgan": "ring8-ebgan",
    "wgan": "ring8-wgan",
    "wgan-gp": "ring8-wgan-gp",
    "loss-sensitive": "ring8-loss-sensitive",
    "gls-gan": "ring8-gls-gan",
}


def recipe(objective: str, data: str, steps: int, seed: int, net: dict[str, Any] | None = None,
           extra: Sequence[str] = (), family: str = "ring8") -> dict[str, Any]:
    """A config dict: the recipe of ``objective`` (from its preset), on ``data``, for ``steps`` G steps.

    ``family``: whose presets give the recipe, ``"ring8"`` (the toy recipes) or ``"mnist5k"`` (the image
    recipes: mnist5k-OBJECTIVE.yaml, mnist5k.yaml for the non-saturating GAN)."""
    from gankit.plugins import load_config

    if objective not in ZOO_PRESETS:
        raise ValueError(f"objective {objective!r} is not in the zoo: {', '.join(ZOO_PRESETS)}")
    preset = ZOO_PRESETS[objective].replace("ring8", family, 1)
    base = load_config(preset=preset).to_dict()
    cfg: dict[str, Any] = {
        "description": f"study run: {objective} on {data}",
        "seed": seed,
        "data": {"name": data},
        "net": net or base["net"],
        "objective": base["objective"],
        "reg": base["reg"],
        "train": {**base["train"], "steps": steps, "tensorboard": False, "sample_every": 0,
                  "ema": {"enabled": False}},
        "eval": {"at_end": True},
    }
    return load_config(base=cfg, overrides=list(extra)).to_dict()


@dataclass
class TrainedRun:
    history: list[dict[str, Any]]
    generators: list[tuple[int, Any]]  # (step, G in eval mode) per checkpoint, in step order
    quality: dict[str, Any] | None
    prior: Any
    dataset: Any
    model: Any


def train_quietly(cfg: dict[str, Any], checkpoint_every: int | None = None, log_every: int | None = None) -> TrainedRun:
    """Train ``cfg`` with gankit's trainer in a temporary folder; keep the G of every checkpoint."""
    import torch

    from gankit.engine.checkpoint import list_checkpoints, load_checkpoint
    from gankit.engine.trainer import train
    from gankit.plugins import load_config

    steps = cfg["train"]["steps"]
    every = checkpoint_every or steps
    over = [f"train.checkpoint_every={every}", f"train.keep_checkpoints={steps // every + 2}"]
    if log_every:
        over.append(f"train.log_every={log_every}")
    config = load_config(base=cfg, overrides=over)
    with tempfile.TemporaryDirectory(prefix="gankit-study-") as tmp:
        with contextlib.redirect_stdout(io.StringIO()):
            result = train(config, run_dir=Path(tmp) / "run", progress=False)
        gens = []
        for path in list_checkpoints(result.run_dir / "checkpoints"):
            ckpt = load_checkpoint(path)
            G = _copy_module(result.model.nets["G"])
            G.load_state_dict(ckpt.prefixed("G"))
            gens.append((int(ckpt.meta["step"]), G.eval()))
    gens.sort(key=lambda sg: sg[0])
    quality = result.quality.to_dict() if result.quality is not None else None
    torch.set_grad_enabled(True)
    from gankit.data import build_dataset

    return TrainedRun(result.history, gens, quality, result.model.prior, build_dataset(config.data), result.model)


def _copy_module(net):
    import copy

    return copy.deepcopy(net)


def mean_ci(values: Sequence[float], seed: int = 0) -> tuple[float, float, float]:
    """(mean, lo, hi): the mean of ``values`` and its 95 % percentile bootstrap interval (nan-free values)."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=np.float64)
    if len(v) == 0:
        return (math.nan, math.nan, math.nan)
    if len(v) == 1:
        return (float(v[0]), float(v[0]), float(v[0]))
    lo, hi = bootstrap_ci(v, seed=seed)
    return (float(v.mean()), lo, hi)


def curve_band(curves: Sequence[Sequence[float]]) -> tuple[list[float], list[float], list[float]]:
    """Pointwise (mean, lo, hi) over seeds of equally long curves."""
    cols = list(zip(*curves))
    stats = [mean_ci(col, seed=i) for i, col in enumerate(cols)]
    return [s[0] for s in stats], [s[1] for s in stats], [s[2] for s in stats]


def band_figure(series: dict[str, tuple[Sequence[float], Sequence[Sequence[float]]]], xlabel: str, ylabel: str,
                title: str = "", logy: bool = False, hline: float | None = None, size=(5.0, 3.2)):
    """One line per name: ``series[name] = (x, curves over seeds)``, mean with its 95 % bootstrap band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size)
    for name, (x, curves) in series.items():
        mean, lo, hi = curve_band(curves)
        line, = ax.plot(x, mean, label=name, marker="." if len(x) < 12 else None)
        if len(curves) > 1:
            ax.fill_between(x, lo, hi, alpha=0.2, color=line.get_color())
    if hline is not None:
        ax.axhline(hline, color="grey", lw=0.8, ls="--")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    if len(series) > 1:
        ax.legend(fontsize=7)
    return fig


def jsonable(value: Any) -> Any:
    """``value`` with every nan / inf float replaced by None (study.json is strict JSON), tuples as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    return value


def fmt_ci(m: float, lo: float, hi: float, digits: int = 3) -> str:
    if not math.isfinite(m):
        return "n/a"
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


__all__ = ["TrainedRun", "ZOO_PRESETS", "band_figure", "curve_band", "fmt_ci", "jsonable", "mean_ci", "recipe", "train_quietly"]
