"""The auto-encoder discriminator of EBGAN (Zhao et al. 2017): D(x) = reconstruction energy of x.

    D(x) = || Dec(Enc(x)) - x ||^2 / dim(x)          (Sec. 2.3; here the mean, not the sum, of the
                                                      squared error, so a margin m does not depend
                                                      on the image size)

The dataset decides the shape, like the mlp and dcgan pairs: vectors get an MLP encoder
(``depth`` hidden layers of ``width`` units, LeakyReLU 0.2) and the mirrored decoder; images get the
DCGAN discriminator's convolution stack as encoder (stride-2 4x4 convolutions, channels doubling)
and the mirrored transposed convolutions as decoder, with a tanh output since images are in [-1, 1].

``forward(x)`` is the energy (N,); ``embed(x)`` the encoder's code S (N, F), on which EBGAN's
pull-away term acts; ``energy_and_embedding(x)`` gives both from one pass.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gankit.data.base import DataInfo
from gankit.nets.dcgan import stages_for
from gankit.nets.mlp import mlp


class EnergyAutoEncoder(nn.Module):
    """Encoder + decoder; the output is the per-sample reconstruction energy (mean squared error)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def energy_and_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(energy (N,), code (N, F)) from one encoder pass."""
        code = self.encoder(x)
        recon = self.decoder(code).view_as(x)
        return (recon - x).pow(2).flatten(1).mean(1), code.flatten(1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder's code S (N, F)."""
        return self.encoder(x).flatten(1)

    def forward(self, x: torch.Tensor, with_embedding: bool = False):
        """The energies (N,), or (energies, codes (N, F)) with ``with_embedding`` (EBGAN's pull-away term)."""
        energy, code = self.energy_and_embedding(x)
        return (energy, code) if with_embedding else energy


def vector_autoencoder(shape: tuple[int, ...], width: int, depth: int) -> EnergyAutoEncoder:
    """MLP auto-encoder for vectors of ``shape``: dim -> width x depth (code) -> ... -> dim."""
    dim = math.prod(shape)
    encoder = nn.Sequential(nn.Flatten(), mlp([dim] + [width] * depth, nn.LeakyReLU, negative_slope=0.2))
    decoder = nn.Sequential(nn.LeakyReLU(0.2), mlp([width] * depth + [dim], nn.LeakyReLU, negative_slope=0.2))
    return EnergyAutoEncoder(encoder, decoder)


def image_autoencoder(channels: int, image_size: int, width: int) -> EnergyAutoEncoder:
    """Convolutional auto-encoder: DCGAN-D-style encoder, mirrored transposed-conv decoder."""
    stages, _ = stages_for(image_size)
    enc: list[nn.Module] = []
    dec: list[nn.Module] = []
    c_in = channels
    for i in range(stages):
        c_out = width * 2**i
        enc += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        # The decoder mirrors this stage: c_out -> c_in, prepended so that it runs in reverse order.
        last = i == 0
        dec = [nn.ConvTranspose2d(c_out, c_in, 4, 2, 1)] + ([nn.Tanh()] if last else [nn.LeakyReLU(0.2)]) + dec
        c_in = c_out
    return EnergyAutoEncoder(nn.Sequential(*enc), nn.Sequential(*dec))


def build_autoencoder_discriminator(cfg, info: DataInfo) -> EnergyAutoEncoder:  # cfg: NetConfig
    """The energy auto-encoder D for the dataset described by ``info`` (width/depth from ``cfg``)."""
    if info.kind == "vector":
        return vector_autoencoder(info.shape, cfg.width, cfg.depth)
    return image_autoencoder(info.channels, info.image_size, cfg.width)
