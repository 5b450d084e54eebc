"""Latent priors and drawing samples from a generator in batches.

Every generator in gankit takes ONE tensor: a row per sample, drawn from its model's
:class:`LatentPrior`. Conditional and code-structured models (CGAN, InfoGAN, ...) put the class
one-hot or the codes into that row, so sampling, EMA, evaluation and checkpoints never need to know
which family produced G.

- ``prior.sample(n, device=...)`` draws from the global torch RNG (training: its state is checkpointed);
- ``prior.sample(n, seed=s)`` draws from its own generator seeded with ``s`` (grids, evaluation: the
  same rows on any device and in any run);
- ``prior.grid(n, seed)`` is what sample grids show (a conditional prior lays classes out by row).
"""

from __future__ import annotations

import torch
from torch import nn


def latent(n: int, z_dim: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` standard-normal latent vectors from their own generator seeded with ``seed`` (same on any device)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, z_dim, generator=g).to(device)


class LatentPrior:
    """The distribution of G's input rows. The base class is N(0, I) in ``dim`` dimensions.

    Subclasses override :meth:`draw` (and :meth:`grid` if a grid should be laid out). ``y``, when a
    subclass supports it, fixes the class of each row.

    Example::

        prior = LatentPrior(100)
        z = prior.sample(64, seed=0)          # (64, 100), reproducible
        z = prior.sample(64, device="cuda")   # from the global RNG
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def sample(self, n: int, seed: int | None = None, device: torch.device | str = "cpu",
               y: torch.Tensor | None = None) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        if g is not None:  # seeded rows are drawn on the CPU so they are identical on every device
            return self.draw(n, g, "cpu", y).to(device)
        return self.draw(n, None, device, y)

    def draw(self, n: int, generator: torch.Generator | None, device: torch.device | str,
             y: torch.Tensor | None) -> torch.Tensor:
        if y is not None:
            raise ValueError(f"{type(self).__name__} is unconditional; it takes no class labels")
        return torch.randn(n, self.dim, generator=generator, device=device)

    def grid(self, n: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """The rows a sample grid shows (default: ``n`` seeded draws)."""
        return self.sample(n, seed=seed, device=device)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


@torch.no_grad()
def generate(G: nn.Module, z: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """G(z) in eval mode, batched, returned on the CPU as float32. G's train/eval mode is restored."""
    was_training = G.training
    G.eval()
    try:
        out = [G(chunk).float().cpu() for chunk in z.split(batch_size)]
    finally:
        G.train(was_training)
    return torch.cat(out)
