"""3D-GAN generator and discriminator (Wu et al. 2016) for voxel grids; depth follows the grid's side.

The paper's networks for 64^3: G maps a 200-d z through four 3D transposed convolutions (kernel 4, stride
2; 512, 256, 128, 64 channels, BatchNorm + ReLU, sigmoid output) from a 4^3 volume; D mirrors it with 3D
convolutions and LeakyReLU. Here the grid's side (the dataset's ``DataInfo.shape``, (1, S, S, S)) decides
the depth: the side is halved until it is 4, so 16^3 has two stages (4 -> 8 -> 16) and 32^3 three.
Channels double each time the resolution halves, starting from ``net.width`` at full resolution. G ends
in tanh, since gankit's voxels are -1 (empty) / +1 (occupied) like its images in [-1, 1]. D has no
BatchNorm (the paper's has), as every gankit D, so that per-sample penalties stay per-sample;
``D(x, with_features=True)`` returns the flattened last convolution (the features the representation
test reads) with the score.
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.registry import NETS

BASE_SIDE = 4  # G starts from, and D ends at, a 4^3 volume (the paper's)


def voxel_stages(side: int) -> int:
    """Number of 2x stages from 4^3 to side^3, e.g. 16 -> 2, 32 -> 3, 64 -> 4 (the paper's)."""
    stages, s = 0, side
    while s > BASE_SIDE and s % 2 == 0:
        s //= 2
        stages += 1
    if s != BASE_SIDE or stages == 0:
        raise ConfigError(f"data.image_size: the voxel nets need a grid side of 4 * 2^k (8, 16, 32, 64), got {side}")
    return stages


class VoxelGenerator(nn.Module):
    """z (N, z_dim) -> voxel grids (N, C, S, S, S) in [-1, 1]."""

    def __init__(self, z_dim: int, channels: int, side: int, width: int) -> None:
        super().__init__()
        self.z_dim = z_dim
        stages = voxel_stages(side)
        ch = [width * 2 ** (stages - 1 - i) for i in range(stages)]  # e.g. [32, 16] for 16^3, width 16
        top = ch[0] * 2
        self.project = nn.Sequential(
            nn.Linear(z_dim, top * BASE_SIDE**3, bias=False),
            nn.Unflatten(1, (top, BASE_SIDE, BASE_SIDE, BASE_SIDE)),
            nn.BatchNorm3d(top),
            nn.ReLU(inplace=True),
        )
        blocks: list[nn.Module] = []
        c_in = top
        for i, c_out in enumerate(ch):
            last = i == stages - 1
            blocks.append(nn.ConvTranspose3d(c_in, channels if last else c_out, 4, 2, 1, bias=last))
            if not last:
                blocks += [nn.BatchNorm3d(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        self.blocks = nn.Sequential(*blocks, nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.project(z))


class VoxelDiscriminator(nn.Module):
    """voxel grids (N, C, S, S, S) -> one unnormalised score per grid (N,); ``features`` + ``head``."""

    def __init__(self, channels: int, side: int, width: int) -> None:
        super().__init__()
        stages = voxel_stages(side)
        layers: list[nn.Module] = []
        c_in = channels
        for i in range(stages):
            c_out = width * 2**i
            layers += [nn.Conv3d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            c_in = c_out
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(c_in * BASE_SIDE**3, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened output of the last convolution (N, features), the input of ``head``."""
        return self.body(x)

    def forward(self, x: torch.Tensor, with_features: bool = False):
        f = self.features(x)
        score = self.head(f).squeeze(1)
        return (score, f) if with_features else score


@NETS.register("voxel", "3D-GAN pair for voxel grids (Wu et al. 2016); depth follows the side (8, 16, 32, 64)")
def build_voxel(cfg, info: DataInfo) -> tuple[nn.Module, nn.Module]:
    if info.kind != "voxel" or len(info.shape) != 4:
        raise ConfigError(f"net.name: voxel is for voxel grids (1, S, S, S), but {info.name!r} holds {info.kind} "
                          f"data of shape {info.shape}; use net.name=dcgan or mlp")
    c, side = info.shape[0], info.shape[-1]
    if not info.shape[1] == info.shape[2] == side:
        raise ConfigError(f"data.name: the voxel nets need cubic grids, {info.name!r} has {info.shape[1:]}")
    return VoxelGenerator(cfg.z_dim, c, side, cfg.width), VoxelDiscriminator(c, side, cfg.width)
