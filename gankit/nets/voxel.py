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

from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator
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


class VoxelGenerator(DCGANGenerator):
    """z (N, z_dim) -> voxel grids (N, C, S, S, S) in [-1, 1]: the DCGAN stack in 3D from a 4^3 volume."""

    def __init__(self, z_dim: int, channels: int, side: int, width: int) -> None:
        super().__init__(z_dim, channels, side, width, dims=3, layout=(voxel_stages(side), BASE_SIDE))


class VoxelDiscriminator(DCGANDiscriminator):
    """voxel grids (N, C, S, S, S) -> one unnormalised score per grid (N,); ``features`` + ``head``."""

    def __init__(self, channels: int, side: int, width: int) -> None:
        super().__init__(channels, side, width, dims=3, layout=(voxel_stages(side), BASE_SIDE))


@NETS.register("voxel", "3D-GAN pair for voxel grids (Wu et al. 2016); depth follows the side (8, 16, 32, 64)")
def build_voxel(cfg, info: DataInfo) -> tuple[nn.Module, nn.Module]:
    if info.kind != "voxel" or len(info.shape) != 4:
        raise ConfigError(f"net.name: voxel is for voxel grids (1, S, S, S), but {info.name!r} holds {info.kind} "
                          f"data of shape {info.shape}; use net.name=dcgan or mlp")
    c, side = info.shape[0], info.shape[-1]
    if not info.shape[1] == info.shape[2] == side:
        raise ConfigError(f"data.name: the voxel nets need cubic grids, {info.name!r} has {info.shape[1:]}")
    return VoxelGenerator(cfg.z_dim, c, side, cfg.width), VoxelDiscriminator(c, side, cfg.width)
