"""DCGAN generator and discriminator (Radford et al. 2016) whose depth follows the image size.

The image side is halved until it is odd or at most 7, which gives the starting resolution of G
and the final one of D: 28 -> 14 -> 7 (two up-sampling stages), 32 -> 16 -> 8 -> 4 (three),
64 -> ... -> 4 (four), 8 -> 4 (one). Channels double each time the resolution halves, starting from
``width`` at full resolution. G uses BatchNorm and ReLU with a tanh output (data is in [-1, 1]);
D uses LeakyReLU(0.2) and no normalisation, so that per-sample penalties (gradient penalty, R1)
stay per-sample; ``net.params.d_norm=layer`` adds a layer normalisation (over channels and pixels of each
sample, with a learned scale and shift per channel) after every convolution but the first, the critic
normalisation that Gulrajani et al. (2017, section 4) recommend in place of batch norm, which would couple
the samples of a batch and so break the per-sample gradient penalty. Batch norm is not offered for D.

The same stacks serve volumes (``dims=3``, gankit/nets/voxel.py): ``layout`` = (stages, base side) is then
given by the caller instead of derived from an image side.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from gankit.config import Strict
from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.registry import NETS

_LAYERS = {2: (nn.ConvTranspose2d, nn.Conv2d, nn.BatchNorm2d), 3: (nn.ConvTranspose3d, nn.Conv3d, nn.BatchNorm3d)}


def stages_for(image_size: int) -> tuple[int, int]:
    """(number of 2x stages, base side) for an image side, e.g. 28 -> (2, 7), 32 -> (3, 4)."""
    stages, side = 0, image_size
    while side % 2 == 0 and side > 7:
        side //= 2
        stages += 1
    if stages == 0:
        raise ConfigError(
            f"net.name: dcgan needs an image side that halves at least once to 7 or less, got {image_size}; "
            "set data.image_size to e.g. 28, 32 or 64"
        )
    return stages, side


class DCGANGenerator(nn.Module):
    """z (N, z_dim) -> images (N, C, S, S) in [-1, 1] (``dims=3``: volumes (N, C, S, S, S))."""

    def __init__(self, z_dim: int, channels: int, image_size: int, width: int, dims: int = 2,
                 layout: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.z_dim = z_dim
        stages, base = layout or stages_for(image_size)
        up, _, norm = _LAYERS[dims]
        ch = [width * 2 ** (stages - 1 - i) for i in range(stages)]  # e.g. [64, 32] for 28 px, width 32
        top = ch[0] * 2
        self.project = nn.Sequential(
            nn.Linear(z_dim, top * base**dims, bias=False),
            nn.Unflatten(1, (top,) + (base,) * dims),
            norm(top),
            nn.ReLU(inplace=True),
        )
        blocks: list[nn.Module] = []
        c_in = top
        for i, c_out in enumerate(ch):
            last = i == stages - 1
            blocks.append(up(c_in, channels if last else c_out, 4, 2, 1, bias=last))
            if not last:
                blocks += [norm(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        self.blocks = nn.Sequential(*blocks, nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.project(z))


class BodyHeadDiscriminator(nn.Module):
    """A D made of ``body`` (x -> features (N, F)) and ``head`` (features -> one score): ``features(x)``,
    and ``D(x, with_features=True)`` returns (score, features) from the same pass."""

    body: nn.Module
    head: nn.Module

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The input of ``head`` (N, features): for the DCGAN D, the flattened last convolution."""
        return self.body(x)

    def forward(self, x: torch.Tensor, with_features: bool = False):
        f = self.features(x)
        score = self.head(f).squeeze(1)
        return (score, f) if with_features else score


class DCGANParams(Strict):
    """``net.params`` of dcgan. Read where the pair is built by :func:`gankit.nets.build_nets` (model gan and
    the families that call it, acgan and the projection cgan included); the families that assemble their own
    D (the concat cgan, cogan) refuse a d_norm they would not apply, with one line."""

    d_norm: Literal["none", "layer"] = "none"
    """Normalisation of D after every convolution but the first: none, or layer (per sample, so gradient
    penalties stay per-sample; WGAN-GP's recommendation for critics)."""


class DCGANDiscriminator(BodyHeadDiscriminator):
    """images (N, C, S, S) -> one unnormalised score per image (N,); ``features`` + ``head``.

    ``D(x, with_features=True)`` returns (score, features): the input of the head, from the same pass.
    ``norm="layer"``: GroupNorm with one group (a layer norm over channels and pixels, one scale and shift
    per channel) after every convolution but the first."""

    def __init__(self, channels: int, image_size: int, width: int, dims: int = 2,
                 layout: tuple[int, int] | None = None, norm: str = "none") -> None:
        super().__init__()
        stages, base = layout or stages_for(image_size)
        conv = _LAYERS[dims][1]
        layers: list[nn.Module] = []
        c_in = channels
        for i in range(stages):
            c_out = width * 2**i
            layers.append(conv(c_in, c_out, 4, 2, 1))
            if norm == "layer" and i > 0:
                layers.append(nn.GroupNorm(1, c_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            c_in = c_out
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(c_in * base**dims, 1)



@NETS.register("dcgan", "DCGAN pair; depth follows the image size (8, 28, 32, 64, ...)")
def build_dcgan(cfg, info: DataInfo) -> tuple[nn.Module, nn.Module]:
    if info.kind != "image":
        raise ConfigError(f"net.name: dcgan is for images, but {info.name!r} holds vectors; use net.name=mlp")
    if info.shape[1] != info.shape[2]:
        raise ConfigError(f"data.image_size: dcgan needs square images, {info.name!r} has {info.shape[1:]}")
    p = DCGANParams(**cfg.params)  # already checked by build_nets
    G = DCGANGenerator(cfg.z_dim, info.channels, info.image_size, cfg.width)
    D = DCGANDiscriminator(info.channels, info.image_size, cfg.width, norm=p.d_norm)
    return G, D


build_dcgan.params_schema = DCGANParams  # net.params is checked against it (gankit.nets.net_params)
