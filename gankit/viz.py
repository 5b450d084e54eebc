"""Pictures of samples: image grids as PNG, scatter plots for 2D data, histograms for 1D data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def image_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> (rows*(H+pad)+pad, cols*(W+pad)+pad, C) uint8 grid on a grey border."""
    n, c, h, w = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    grid = np.full((ncol * (h + pad) + pad, nrow * (w + pad) + pad, c), 128, dtype=np.uint8)
    pix = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    pix = pix.permute(0, 2, 3, 1).numpy()
    for i in range(n):
        r, col = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y : y + h, x : x + w] = pix[i]
    return grid


def save_image_grid(images: torch.Tensor, path: Path | str, nrow: int | None = None, min_side: int = 256) -> Path:
    """Save a grid PNG, enlarged (nearest neighbour) so that small images are visible."""
    grid = image_grid(images, nrow)
    img = Image.fromarray(grid[..., 0] if grid.shape[2] == 1 else grid)
    scale = max(1, math.ceil(min_side / max(img.size)))
    if scale > 1:
        img = img.resize((img.size[0] * scale, img.size[1] * scale), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def save_vector_plot(samples: torch.Tensor, path: Path | str, real: torch.Tensor | None = None,
                     centres: torch.Tensor | None = None, title: str = "") -> Path:
    """2D: scatter of samples over real points and mode centres; 1D: histograms of samples and real data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    s = samples.detach().float().cpu().numpy()
    if s.shape[1] == 1:
        bins = 100
        if real is not None:
            ax.hist(real.numpy()[:, 0], bins=bins, density=True, alpha=0.4, color="grey", label="real")
        ax.hist(s[:, 0], bins=bins, density=True, alpha=0.6, color="C0", label="generated")
        ax.legend()
    else:
        if real is not None:
            r = real.numpy()
            ax.scatter(r[:, 0], r[:, 1], s=2, c="lightgrey", label="real")
        ax.scatter(s[:, 0], s[:, 1], s=2, c="C0", alpha=0.6, label="generated")
        if centres is not None:
            c = centres.numpy()
            ax.scatter(c[:, 0], c[:, 1], s=30, marker="x", c="C3", label="mode centres")
        ax.set_aspect("equal")
        ax.legend(loc="upper right", fontsize=7)
    ax.set_title(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def save_samples(samples: torch.Tensor, path: Path | str, dataset=None, title: str = "") -> Path:
    """Save whatever picture suits the data: a grid for images, a plot for vectors."""
    if samples.dim() == 4:
        return save_image_grid(samples, path)
    real = dataset.train.float_x(slice(0, 2000)) if dataset is not None else None
    centres = getattr(dataset, "centres", None)
    return save_vector_plot(samples, path, real=real, centres=centres, title=title)
