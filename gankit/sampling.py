"""Drawing samples from a generator in batches, from a seeded generator that does not touch the global RNG."""

from __future__ import annotations

import torch
from torch import nn


def latent(n: int, z_dim: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` standard-normal latent vectors from their own generator seeded with ``seed`` (same on any device)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, z_dim, generator=g).to(device)


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
