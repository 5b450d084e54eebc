"""Pictures of samples: image grids as PNG, scatter plots for 2D data, histograms for 1D data, and
isometric renderings of voxel grids (:func:`render_voxels`), laid out as an image grid."""

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


def _cube_sprite(s: int) -> tuple[np.ndarray, np.ndarray]:
    """A unit cube's three visible faces (+z top, +x, +y) seen isometrically, as a (2s, 2s) shade image
    and its mask: pixel (row, col) of point (x, y, z) is ((x + y) s / 2 - z s + s, (x - y) s + s).
    Each face is drawn by projecting a dense lattice of its points; a darker rim outlines the faces."""
    shade = np.zeros((2 * s, 2 * s), dtype=np.float32)
    mask = np.zeros((2 * s, 2 * s), dtype=bool)
    a, b = np.meshgrid(np.linspace(0, 1, 8 * s), np.linspace(0, 1, 8 * s), indexing="ij")
    rim = (np.minimum(np.minimum(a, 1 - a), np.minimum(b, 1 - b)) < 0.6 / s)
    one = np.ones_like(a)
    for (x, y, z), tone in (((one, a, b), 0.62), ((a, one, b), 0.45), ((a, b, one), 0.95)):  # +x, +y, top last
        row = np.clip(((x + y) * s / 2 - z * s + s).astype(int), 0, 2 * s - 1)
        col = np.clip(((x - y) * s + s).astype(int), 0, 2 * s - 1)
        shade[row, col] = np.where(rim, tone * 0.8, tone)
        mask[row, col] = True
    return shade, mask


VOXEL_COLOUR = np.array([0.35, 0.55, 0.85], dtype=np.float32)  # light blue, shaded per face


def render_voxels(voxels: torch.Tensor, pixels: int = 64) -> torch.Tensor:
    """Voxel grids (N, 1, S, S, S) [z, y, x] (occupied where > 0) -> isometric renderings (N, 3, H, W) in
    [-1, 1], white background, H = W = 2 * S * s with a cube of s = max(2, pixels // S) (even) pixels.

    Painter's algorithm: the surface voxels (those with an empty +x, +y or +z neighbour; the others are
    hidden) are drawn from the farthest (smallest x + y + z) to the nearest, each as the sprite of its
    three visible faces. Runs in numpy: 64 grids of 16^3 take well under a second.

    Example::

        images = render_voxels(dataset.train.float_x(slice(0, 16)))   # (16, 3, 128, 128)
        save_image_grid(images, "shapes.png")
    """
    occ = (voxels.detach().float().cpu()[:, 0] > 0).numpy()
    n, side = occ.shape[0], occ.shape[-1]
    s = max(2, (pixels // side) // 2 * 2)
    sprite, sprite_mask = _cube_sprite(s)
    size = 2 * side * s
    out = np.ones((n, 3, size, size), dtype=np.float32)
    padded = np.pad(occ, ((0, 0), (0, 1), (0, 1), (0, 1)))
    hidden = padded[:, 1:, :-1, :-1] & padded[:, :-1, 1:, :-1] & padded[:, :-1, :-1, 1:]  # +z, +y, +x occupied
    for i in range(n):
        canvas = np.full((size, size), -1.0, dtype=np.float32)  # -1: background
        z, y, x = np.nonzero(occ[i] & ~hidden[i])
        order = np.argsort(x + y + z, kind="stable")
        rows = (x + y) * s // 2 - z * s + side * s - s
        cols = (x - y) * s + side * s - s
        for j in order:
            view = canvas[rows[j]:rows[j] + 2 * s, cols[j]:cols[j] + 2 * s]
            view[sprite_mask] = sprite[sprite_mask]
        body = canvas >= 0
        out[i][:, body] = np.clip(canvas[body][None, :] * (0.3 + VOXEL_COLOUR[:, None]), 0, 1)
    return torch.from_numpy(out * 2 - 1)


def save_samples(samples: torch.Tensor, path: Path | str, dataset=None, title: str = "") -> Path:
    """Save whatever picture suits the data: a grid for images, a plot for vectors, a grid of isometric
    renderings for voxel grids (N, 1, S, S, S)."""
    if samples.dim() == 5:
        return save_image_grid(render_voxels(samples), path)
    if samples.dim() == 4:
        return save_image_grid(samples, path)
    real = dataset.train.float_x(slice(0, 2000)) if dataset is not None else None
    centres = getattr(dataset, "centres", None)
    return save_vector_plot(samples, path, real=real, centres=centres, title=title)
