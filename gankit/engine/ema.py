"""Exponential moving average of the generator's weights, with a half-life counted in images.

Following StyleGAN2-ADA: after each G step of ``batch_size`` images,
``G_ema <- beta G_ema + (1 - beta) G`` with ``beta = 0.5 ** (batch_size / half_life_images)``, so the
average forgets half of its past every ``half_life_images`` images whatever the batch size. Early on the
half-life is capped at ``rampup * images_seen`` so G_ema does not stay near the random init.
Buffers (BatchNorm running statistics) are copied, not averaged.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, G: nn.Module, half_life_images: float, rampup: float | None = None) -> None:
        self.G_ema = copy.deepcopy(G).eval().requires_grad_(False)
        self.half_life_images = half_life_images
        self.rampup = rampup

    def beta(self, batch_size: int, images_seen: int) -> float:
        half_life = self.half_life_images
        if self.rampup is not None:
            half_life = min(half_life, images_seen * self.rampup)
        return 0.5 ** (batch_size / max(half_life, 1e-8))

    @torch.no_grad()
    def update(self, G: nn.Module, batch_size: int, images_seen: int) -> None:
        beta = self.beta(batch_size, images_seen)
        ema_params = list(self.G_ema.parameters())
        torch._foreach_lerp_(ema_params, [p.detach() for p in G.parameters()], 1.0 - beta)
        for b_ema, b in zip(self.G_ema.buffers(), G.buffers()):
            b_ema.copy_(b)
