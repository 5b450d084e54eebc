"""Encoders x -> z and the joint (x, z) discriminator of BiGAN / ALI.

Nothing here re-implements a convolution stack: the x side of every network is the feature body of
the dataset's own discriminator (``build_nets(cfg.net, info)[1].features``: the DCGAN discriminator's
strided convolutions for images, the hidden layers of the MLP discriminator for vectors or of the
``mlp-image`` one for images), so the dataset
decides the shapes exactly as it does for D. An encoder is that body plus a linear map to ``out_dim``
(the mirror image of the DCGAN generator); the joint discriminator
concatenates the body's features of x with an MLP embedding of z (as in Dumoulin et al. 2017).

Example::

    E = build_encoder(cfg.net, info, out_dim=cfg.net.z_dim)   # (N, C, H, W) -> (N, z_dim)
    D = build_joint_discriminator(cfg.net, info)              # D(x, z) -> (N,)
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.data.base import DataInfo
from gankit.nets import build_nets
from gankit.nets.layers import is_weight_normed, linear
from gankit.nets.mlp import mlp


class Features(nn.Module):
    """The feature body of a discriminator (its ``features(x)``, (N, F)) with its score head removed.

    ``dim`` is F. The head is deleted so that no unused parameter is optimised or checkpointed; what D did
    between its features and its head (``D.head_input``, e.g. the training-time noise of ``mlp-image``;
    identity for the other nets) stays as ``head_input``, and :meth:`new_head` builds a head of the same
    kind as the deleted one (weight-normed if it was), so a classifier on the body is D with K outputs.
    """

    def __init__(self, D: nn.Module) -> None:
        super().__init__()
        self.dim: int = D.head.in_features
        self.head_weight_normed = is_weight_normed(D.head)
        del D.head
        self.D = D
        head_input = getattr(D, "head_input", None)
        self.head_input: nn.Module = head_input if head_input is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.D.features(x)

    def new_head(self, out_dim: int) -> nn.Linear:
        """A linear map F -> ``out_dim`` of the kind D's own head was."""
        return linear(self.dim, out_dim, weight_normed=self.head_weight_normed)


def feature_body(net_cfg, info: DataInfo) -> Features:  # net_cfg: gankit.config.NetConfig
    """The feature body of the discriminator that ``net_cfg`` builds for data described by ``info``."""
    return Features(build_nets(net_cfg, info)[1])


class Encoder(nn.Module):
    """x (N, *shape) -> (N, out_dim): a discriminator body followed by one linear layer."""

    def __init__(self, body: Features, out_dim: int) -> None:
        super().__init__()
        self.body = body
        self.out = nn.Linear(body.dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


def build_encoder(net_cfg, info: DataInfo, out_dim: int) -> Encoder:
    """An encoder for the dataset's samples (images or vectors) to ``out_dim`` numbers."""
    return Encoder(feature_body(net_cfg, info), out_dim)


class JointDiscriminator(nn.Module):
    """D(x, z) -> one unnormalised score per pair (N,) (BiGAN / ALI).

    x goes through a discriminator body (N, F_x), z through a LeakyReLU MLP (N, width); the two are
    concatenated and mixed by one more hidden layer (``features(x, z)``), then ``head`` scores the pair.
    """

    def __init__(self, body: Features, z_dim: int, width: int) -> None:
        super().__init__()
        self.body = body
        self.z_net = nn.Sequential(mlp([z_dim, width, width], nn.LeakyReLU, negative_slope=0.2), nn.LeakyReLU(0.2))
        self.joint = nn.Sequential(nn.Linear(body.dim + width, 2 * width), nn.LeakyReLU(0.2))
        self.head = nn.Linear(2 * width, 1)

    def features(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.joint(torch.cat([self.body(x), self.z_net(z)], dim=1))

    def forward(self, x: torch.Tensor, z: torch.Tensor, with_features: bool = False):
        f = self.features(x, z)
        score = self.head(f).squeeze(1)
        return (score, f) if with_features else score


def build_joint_discriminator(net_cfg, info: DataInfo, z_dim: int | None = None) -> JointDiscriminator:
    """The BiGAN discriminator for the dataset's samples and ``z_dim``-wide codes (default ``net_cfg.z_dim``).

    The z branch is ``4 * net.width`` wide (at least 64), the width of a DCGAN feature map stack's
    middle layers, so neither input dominates the joint layer by sheer size."""
    width = max(4 * net_cfg.width, 64)
    return JointDiscriminator(feature_body(net_cfg, info), z_dim or net_cfg.z_dim, width)
