"""The game on 2D data, as GAN Lab shows it: G's samples over the true density, D's output over the plane.

The trainer saves one small ``samples/step-NNNNNNN.npz`` per sample-grid step of a 2D run
(:func:`save_toy_frame`, about 40 kB): G's samples from the fixed z, D's output on a GRID x GRID lattice
over the data's bounding box (+ 3 std), and the true density on the same lattice. It is saved while
training rather than recomputed from checkpoints by the report because only the last
``train.keep_checkpoints`` checkpoints survive, so the early steps of the game would be lost.

:func:`toy_frame_figure` draws a frame: left, G's samples over the true density; right, D's output as
a heat map (D(x) = sigmoid(logit), the probability of "real", for the GAN objectives; the raw critic
value for the others) with the real and generated samples on top.

Example::

    frame = load_toy_frame("runs/00002-ring8-mlp-nonsaturating/samples/step-0001000.npz")
    fig = toy_frame_figure(frame)
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

GRID = 80  # lattice points per axis of D's heat map and the density
PROB_OBJECTIVES = ("nonsaturating", "minimax")  # D's output is a logit of P(real): shown through a sigmoid


def plane_bounds(dataset: Any) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1): the training split's bounding box, widened by a quarter of its largest side (at
    least 3 std of the mixture), so that a G that strays a little stays in the picture."""
    x = dataset.train.float_x(slice(0, 5000)).double()
    std = float(getattr(dataset, "std", 0.0) or 0.0)
    lo, hi = x.min(0).values, x.max(0).values
    margin = max(3 * std, 0.25 * float((hi - lo).max()))
    return float(lo[0]) - margin, float(hi[0]) + margin, float(lo[1]) - margin, float(hi[1]) + margin


def save_toy_frame(path: str | Path, fake: torch.Tensor, D: nn.Module | None, dataset: Any, objective: str,
                   step: int) -> Path:
    """Write the frame of ``step``: ``fake`` (N, 2), D's output and the true density on the lattice."""
    x0, x1, y0, y1 = plane_bounds(dataset)
    xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
    mesh = np.stack(np.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)  # row i = ys[i]: image order
    d_out = np.zeros((0, 0), np.float32)
    if D is not None:
        was_training = D.training
        D.eval()
        try:
            with torch.no_grad():
                out = D(torch.as_tensor(mesh, dtype=torch.float32, device=fake.device))
            out = out.detach().float().reshape(-1).cpu().numpy()
            if out.size == GRID * GRID:
                d_out = out.reshape(GRID, GRID)
        except (TypeError, RuntimeError, ValueError):  # a D that needs more than x (e.g. a label): no heat map
            pass
        finally:
            D.train(was_training)
    density = np.zeros((0, 0), np.float32)
    if hasattr(dataset, "log_prob"):
        density = dataset.log_prob(torch.as_tensor(mesh, dtype=torch.float64)).exp().numpy().reshape(GRID, GRID)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        np.savez_compressed(f, fake=fake.detach().float().cpu().numpy(), xs=xs, ys=ys, d_out=d_out,
                            density=density.astype(np.float32), objective=np.array(objective), step=np.array(step),
                            real=dataset.train.float_x(slice(0, 1000)).numpy())
    os.replace(tmp, path)
    return path


def load_toy_frame(path: str | Path) -> dict[str, Any]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def d_display(frame: dict[str, Any]) -> tuple[np.ndarray, str, tuple[float, float] | None]:
    """(values, label, colour limits) of D's heat map: P(real) for the GAN objectives, else the raw output."""
    out = frame["d_out"].astype(np.float64)
    if str(frame["objective"]) in PROB_OBJECTIVES:
        return 1.0 / (1.0 + np.exp(-out)), "D(x) = P(real)", (0.0, 1.0)
    return out, f"D(x), raw output ({frame['objective']})", None


def toy_frame_figure(frame: dict[str, Any], title: str = "") -> Any:
    """Two panels: G's samples over the true density; D's output over the plane with real and fake points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs, ys, fake = frame["xs"], frame["ys"], frame["fake"]
    extent = (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]))
    has_d = frame["d_out"].size > 0
    fig, axes = plt.subplots(1, 2 if has_d else 1, figsize=(9.5 if has_d else 4.8, 4.3), squeeze=False)
    ax = axes[0, 0]
    if frame["density"].size:  # a power norm: the narrow modes of the toy mixtures stay visible
        from matplotlib.colors import PowerNorm

        ax.imshow(frame["density"], origin="lower", extent=extent, cmap="Greys", aspect="equal",
                  norm=PowerNorm(0.3, vmin=0.0))
    real = frame.get("real")
    if real is not None and len(real):
        ax.scatter(real[:, 0], real[:, 1], s=1, c="0.35", alpha=0.5, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="C1", alpha=0.6, label="G(z)")
    ax.set_title("G's samples over the true density", fontsize=10)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.legend(loc="upper right", fontsize=7, markerscale=4)
    if has_d:
        values, label, limits = d_display(frame)
        ax = axes[0, 1]
        vmin, vmax = limits if limits else (float(np.percentile(values, 1)), float(np.percentile(values, 99)))
        if not (math.isfinite(vmin) and math.isfinite(vmax)) or vmin == vmax:
            vmin, vmax = None, None
        im = ax.imshow(values, origin="lower", extent=extent, cmap="PiYG", vmin=vmin, vmax=vmax, aspect="equal")
        if real is not None and len(real):
            ax.scatter(real[:, 0], real[:, 1], s=2, c="#1b7837", alpha=0.5, label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=2, c="#762a83", alpha=0.5, label="G(z)")
        ax.set_xlim(extent[:2])
        ax.set_ylim(extent[2:])
        ax.set_title(label, fontsize=10)
        ax.legend(loc="upper right", fontsize=7, markerscale=4)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


__all__ = ["GRID", "PROB_OBJECTIVES", "d_display", "load_toy_frame", "plane_bounds", "save_toy_frame",
           "toy_frame_figure"]
