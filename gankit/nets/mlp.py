"""MLP generator and discriminator for vector data (1D/2D toy distributions)."""

from __future__ import annotations

import math

import torch
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.registry import NETS


def mlp(sizes: list[int], act: type[nn.Module], **act_kwargs: float) -> nn.Sequential:
    """Linear layers of the given sizes with ``act`` between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act(**act_kwargs))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (N, z_dim) -> x (N, *shape); ReLU hidden layers, linear output (toy data is unbounded)."""

    def __init__(self, z_dim: int, shape: tuple[int, ...], width: int, depth: int) -> None:
        super().__init__()
        self.z_dim, self.shape = z_dim, shape
        self.net = mlp([z_dim] + [width] * depth + [math.prod(shape)], nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.shape)


class MLPDiscriminator(nn.Module):
    """x (N, *shape) -> one unnormalised score per sample (N,); LeakyReLU(0.2) hidden layers.

    ``features(x)`` is the last hidden layer (N, width), ``head`` the linear map to the score."""

    def __init__(self, shape: tuple[int, ...], width: int, depth: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            mlp([math.prod(shape)] + [width] * depth, nn.LeakyReLU, negative_slope=0.2),
            nn.LeakyReLU(0.2),
        )
        self.head = nn.Linear(width, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.flatten(1))

    def forward(self, x: torch.Tensor, with_features: bool = False):
        """The scores (N,), or (scores, features) with ``with_features``."""
        f = self.features(x)
        score = self.head(f).squeeze(1)
        return (score, f) if with_features else score


@NETS.register("mlp", "MLP pair for vector data (width hidden units, depth hidden layers)")
def build_mlp(cfg, info: DataInfo) -> tuple[nn.Module, nn.Module]:
    if info.kind != "vector":
        raise ConfigError(f"net.name: mlp is for vector data, but {info.name!r} holds images; use net.name=dcgan")
    return (
        MLPGenerator(cfg.z_dim, info.shape, cfg.width, cfg.depth),
        MLPDiscriminator(info.shape, cfg.width, cfg.depth),
    )
