"""The InfoGAN paper's MNIST networks (Chen et al. 2016, Appendix C.1; openai/InfoGAN ``regularized_gan.py``).

G: [z, c] -> FC 1024 BN ReLU -> FC (S/4)^2 x 128 BN ReLU -> up-conv 64 (4x4, stride 2) BN ReLU -> up-conv C
(4x4, stride 2) -> tanh (gankit's images are in [-1, 1]; the paper's Bernoulli-mean output is a sigmoid).

D: conv 64 (4x4, stride 2) lReLU(0.1) -> conv 128 (4x4, stride 2) BN lReLU -> FC 1024 BN lReLU -> FC 1.
``D.features(x)`` is the FC-1024 layer, the trunk that D and Q share in the paper (Q = FC 128 BN lReLU -> codes
on top of it); gankit's DCGAN D instead hands Q its flattened last convolution (no FC 1024, no BN).

BatchNorm in D is in train mode in every step, on the real and the fake batch separately, as in the authors' code
(they call ``discriminate`` once on the real and once on the fake batch). Because of BN, per-sample penalties
(gradient penalty, R1) are not meaningful with this D.
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.nets.dcgan import BodyHeadDiscriminator
from gankit.registry import NETS


class InfoGANGenerator(nn.Module):
    """rows (N, z_dim) -> images (N, C, S, S) in [-1, 1], S divisible by 4."""

    def __init__(self, z_dim: int, channels: int, image_size: int) -> None:
        super().__init__()
        self.z_dim, s = z_dim, image_size // 4
        self.net = nn.Sequential(
            nn.Linear(z_dim, 1024, bias=False), nn.BatchNorm1d(1024), nn.ReLU(inplace=True),
            nn.Linear(1024, 128 * s * s, bias=False), nn.BatchNorm1d(128 * s * s), nn.ReLU(inplace=True),
            nn.Unflatten(1, (128, s, s)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(64, channels, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class InfoGANDiscriminator(BodyHeadDiscriminator):
    """images (N, C, S, S) -> one score per image (N,); ``features`` (N, 1024) is the trunk Q shares."""

    def __init__(self, channels: int, image_size: int) -> None:
        super().__init__()
        s = image_size // 4
        self.body = nn.Sequential(
            nn.Conv2d(channels, 64, 4, 2, 1), nn.LeakyReLU(0.1, inplace=True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.1, inplace=True),
            nn.Flatten(),
            nn.Linear(128 * s * s, 1024, bias=False), nn.BatchNorm1d(1024), nn.LeakyReLU(0.1, inplace=True),
        )
        self.head = nn.Linear(1024, 1)



@NETS.register("infogan-mnist", "InfoGAN paper's MNIST pair: G with FC 1024, D with BN and a shared FC-1024 trunk")
def build_infogan_mnist(cfg, info: DataInfo) -> tuple[nn.Module, nn.Module]:
    if info.kind != "image" or info.shape[1] != info.shape[2] or info.image_size % 4:
        raise ConfigError(f"net.name: infogan-mnist needs square images with a side divisible by 4, "
                          f"got {info.name!r} of shape {tuple(info.shape)}")
    return (InfoGANGenerator(cfg.z_dim, info.channels, info.image_size),
            InfoGANDiscriminator(info.channels, info.image_size))
