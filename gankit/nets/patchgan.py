"""The PatchGAN discriminator of pix2pix (Isola et al. 2017, Sec. 3.2.2 and Appendix 6.1.2).

D scores every patch of its input, not the whole image: a fully convolutional net whose output map holds
one unnormalised score per position, each seeing one ``receptive_field`` x ``receptive_field`` patch of the
input. Layers (the paper's C64-C128-C256-C512 pattern, shortened for small images): ``n_down`` convolutions
4x4 / stride 2 (channels ``width``, ``2 width``, ...), then one 4x4 / stride 1 convolution to twice the
channels and a 4x4 / stride 1 convolution to one channel, all with padding 1 and LeakyReLU(0.2) between
them. No normalisation (the paper uses BatchNorm), so per-sample penalties stay per-sample, as in
:mod:`gankit.nets.dcgan`. The receptive field follows from the layers: r = 1, then r = (r - 1) s + k
from the last layer to the first: 16 px for n_down=1, 34 for 2, 70 for 3 (the paper's 70 x 70 PatchGAN).

pix2pix feeds it (input, output) pairs concatenated on channels, so ``in_channels`` is the sum of both.

Example::

    D = PatchDiscriminator(in_channels=2, width=32, n_down=1)
    D.receptive_field                    # 16
    D(torch.randn(4, 2, 28, 28)).shape   # (4, 1, 12, 12): one score per 16x16 patch
"""

from __future__ import annotations

import torch
from torch import nn


def receptive_field(layers: list[tuple[int, int]]) -> int:
    """Receptive field of a stack of convolutions given as (kernel, stride), first layer first."""
    r = 1
    for k, s in reversed(layers):
        r = (r - 1) * s + k
    return r


class PatchDiscriminator(nn.Module):
    """images (N, in_channels, S, S) -> patch scores (N, 1, S', S'); see the module docstring."""

    def __init__(self, in_channels: int, width: int = 32, n_down: int = 1) -> None:
        super().__init__()
        if n_down < 1:
            raise ValueError(f"n_down must be at least 1, got {n_down}")
        layers: list[nn.Module] = []
        self.kernels: list[tuple[int, int]] = []
        c_in = in_channels
        for i in range(n_down):
            c_out = width * 2**i
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2)]
            self.kernels.append((4, 2))
            c_in = c_out
        layers += [nn.Conv2d(c_in, 2 * c_in, 4, 1, 1), nn.LeakyReLU(0.2), nn.Conv2d(2 * c_in, 1, 4, 1, 1)]
        self.kernels += [(4, 1), (4, 1)]
        self.body = nn.Sequential(*layers)

    @property
    def receptive_field(self) -> int:
        """Side in input pixels of the patch each output score sees (from the layers, not a constant)."""
        return receptive_field(self.kernels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


__all__ = ["PatchDiscriminator", "receptive_field"]
