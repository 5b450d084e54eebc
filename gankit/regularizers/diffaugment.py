"""Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
Training", Sec. 3).

With few training images D memorises them and stops giving G a useful gradient. DiffAugment applies the
same family of random transformations T to every image D sees, real and fake, in D's step and in G's:

    L_D = f(D(T(x))) + h(D(T(G(z)))),        L_G = g(D(T(G(z))))

T is differentiable, so G's gradient flows through it. Augmenting only the reals would teach G to
produce augmented images (the paper's Fig. 3); augmenting both in both steps leaves the distributions
to match unchanged as long as T does not hide what differs between them. The transformations, each
drawn per sample, as the paper's released code defines them (images in the data's scale, 0 = mid-range):

- ``color``: brightness x + (u - 0.5), saturation m_c + (x - m_c) 2u (m_c: the mean over channels),
  contrast m + (x - m)(u + 0.5) (m: the mean over the image), u ~ U[0, 1) each;
- ``translation``: an integer shift of up to ``ratio`` (1/8) of each side, vacated pixels set to 0;
- ``cutout``: a square of half each side, centred uniformly (it may cross the border), set to 0.

:class:`Augmented` wraps D at build time (``reg.diffaugment``), so every call of D while it is in training
mode (D's step, G's step, the penalties on real samples) sees T(x), and D in eval mode is the plain D.
Randomness comes from torch's global generator, which the trainer seeds and checkpoints.
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.regularizers.wrapped import WrappedD

POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def color(x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Brightness, saturation, contrast with the per-sample draws ``u`` (N, 3) in [0, 1)."""
    b, s, c = (u[:, i].view(-1, 1, 1, 1) for i in range(3))
    x = x + (b - 0.5)
    m = x.mean(dim=1, keepdim=True)
    x = m + (x - m) * (2 * s)
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    return m + (x - m) * (c + 0.5)


def _grid(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    h, w = x.shape[2:]
    return torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")


def translate(x: torch.Tensor, ty: torch.Tensor, tx: torch.Tensor) -> torch.Tensor:
    """out[n, :, i, j] = x[n, :, i - ty[n], j - tx[n]] where that pixel exists, else 0 (integer shifts)."""
    n, _, h, w = x.shape
    gy, gx = _grid(x)
    iy = gy.unsqueeze(0) - ty.view(-1, 1, 1)
    ix = gx.unsqueeze(0) - tx.view(-1, 1, 1)
    inside = ((iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)).unsqueeze(1)
    rows = torch.arange(n, device=x.device).view(-1, 1, 1)
    out = x.permute(0, 2, 3, 1)[rows, iy.clamp(0, h - 1), ix.clamp(0, w - 1)].permute(0, 3, 1, 2)
    return out * inside


def cutout(x: torch.Tensor, cy: torch.Tensor, cx: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Zero the ``size`` square whose top-left corner is (cy - size // 2, cx - size // 2) in each image."""
    gy, gx = _grid(x)
    top, left = (cy - size[0] // 2).view(-1, 1, 1), (cx - size[1] // 2).view(-1, 1, 1)
    hole = (gy >= top) & (gy < top + size[0]) & (gx >= left) & (gx < left + size[1])
    return x * (~hole).unsqueeze(1)


def diff_augment(x: torch.Tensor, policy: list[str] | tuple[str, ...]) -> torch.Tensor:
    """T(x): the transformations of ``policy`` in the order of :data:`POLICIES`, drawn per sample."""
    n, _, h, w = x.shape
    dev = x.device
    if "color" in policy:
        x = color(x, torch.rand(n, 3, device=dev, dtype=x.dtype))
    if "translation" in policy:
        sy, sx = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
        x = translate(x, torch.randint(-sy, sy + 1, (n,), device=dev), torch.randint(-sx, sx + 1, (n,), device=dev))
    if "cutout" in policy:
        size = (int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5))
        x = cutout(x, torch.randint(0, h + (1 - size[0] % 2), (n,), device=dev),
                   torch.randint(0, w + (1 - size[1] % 2), (n,), device=dev), size)
    return x


class Augmented(WrappedD):
    """D(T(x)) in training mode, D(x) in eval mode; ``features`` and ``head`` are the wrapped D's.

    Example::

        D = Augmented(D, ["translation", "cutout"])
        D(x)            # scores of augmented x (D.train()), of x itself after D.eval()
    """

    def __init__(self, inner: nn.Module, policy: list[str] | tuple[str, ...]) -> None:
        unknown = [p for p in policy if p not in POLICIES]
        if unknown or not policy:
            raise ValueError(f"diffaugment policy must be a non-empty subset of {POLICIES}, got {list(policy)}")
        super().__init__(inner)
        self.policy = tuple(policy)

    def input(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.policy) if self.training else x


def unwrap(D: nn.Module) -> nn.Module:
    """The D inside an :class:`Augmented` (D itself otherwise): the one that scores un-augmented images."""
    return D.inner if isinstance(D, Augmented) else D


__all__ = ["Augmented", "POLICIES", "color", "cutout", "diff_augment", "translate", "unwrap"]
