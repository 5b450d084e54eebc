"""Discriminators and heads for class- and code-conditioned GANs (CGAN, ACGAN, InfoGAN).

They reuse the unconditional bodies of :mod:`gankit.nets.dcgan` and :mod:`gankit.nets.mlp` (whose
``features(x)`` is the last hidden layer, (N, F), and ``head`` the Linear F -> 1):

- :class:`ConcatDiscriminator`: D(x, y) sees one-hot y as extra input channels (images: K constant
  planes) or extra input features (vectors), as in Mirza & Osindero (2014), Sec. 3.2.
- :class:`ProjectionDiscriminator`: D(x, y) = head(f(x)) + <embed(y), f(x)> (Miyato & Koyama 2018, Eq. 3).
- :class:`AuxClassifierDiscriminator`: D(x) plus a K-way class head on the same features (ACGAN,
  Odena et al. 2017, Sec. 3).
- :class:`InfoQHead`: InfoGAN's Q(c | x) on D's features (Chen et al. 2016, Sec. 5): logits of the
  categorical code and means of the continuous codes.

The dataset decides every shape; none is hard-coded.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.nets.dcgan import DCGANDiscriminator
from gankit.nets.mlp import MLPDiscriminator


def feature_dim(D: nn.Module) -> int:
    """Width F of ``D.features(x)``: the input width of D's linear ``head``."""
    head = getattr(D, "head", None)
    if not isinstance(head, nn.Linear) or not hasattr(D, "features"):
        raise ConfigError(f"net.name: {type(D).__name__} has no features()/head to condition on; use dcgan or mlp")
    return head.in_features


class ConcatDiscriminator(nn.Module):
    """D(x, y) on [x, one_hot(y)]: one-hot planes beside the image channels, or one-hot features beside a vector.

    ``net`` is ``"dcgan"`` (images) or ``"mlp"`` (vectors); the body is that family's discriminator with
    K more input channels / features. ``features(x, y)`` and ``head`` as in the unconditional nets.

    Example::

        D = ConcatDiscriminator("dcgan", info, width=32)
        score = D(x, y)          # (N,)
    """

    def __init__(self, net: str, info: DataInfo, width: int, depth: int) -> None:
        super().__init__()
        self.num_classes = info.num_classes
        self.kind = info.kind
        if net == "dcgan" and info.kind == "image":
            self.body: nn.Module = DCGANDiscriminator(info.channels + info.num_classes, info.image_size, width)
        elif net == "mlp" and info.kind == "vector":
            self.body = MLPDiscriminator((info.dim + info.num_classes,), width, depth)
        else:
            raise ConfigError(f"net.name: concat conditioning supports dcgan (images) or mlp (vectors), "
                              f"got {net!r} on {info.kind} data; or set model.params.conditioning=projection")

    @property
    def head(self) -> nn.Linear:  # a property, not a second registration: checkpoints hold each tensor once
        return self.body.head

    def _join(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(y, self.num_classes).to(x.dtype)  # (N, K)
        if self.kind == "image":  # K constant planes of the image's size
            planes = onehot[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
            return torch.cat([x, planes], dim=1)
        return torch.cat([x.flatten(1), onehot], dim=1)

    def features(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.body.features(self._join(x, y))

    def forward(self, x: torch.Tensor, y: torch.Tensor, with_features: bool = False):
        f = self.features(x, y)
        score = self.head(f).squeeze(1)
        return (score, f) if with_features else score


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = head(f(x)) + <embed(y), f(x)> on an unconditional D's features f (Miyato & Koyama 2018).

    The projection term is the log-ratio of the class-conditional densities that a softmax classifier
    on f would model, so y enters as an inner product instead of an input (their Eq. 3 with psi = head).

    Example::

        D = ProjectionDiscriminator(DCGANDiscriminator(1, 28, 32), num_classes=10)
        score = D(x, y)          # (N,)
    """

    def __init__(self, D: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.body = D
        self.embed = nn.Embedding(num_classes, feature_dim(D))
        # Small start: at initialisation D is the unconditional one, and y's influence is learned.
        nn.init.normal_(self.embed.weight, std=0.02)

    @property
    def head(self) -> nn.Linear:
        return self.body.head

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) (N, F): the unconditional features that both terms of D(x, y) use."""
        return self.body.features(x)

    def forward(self, x: torch.Tensor, y: torch.Tensor, with_features: bool = False):
        f = self.body.features(x)  # (N, F)
        score = self.head(f).squeeze(1) + (self.embed(y) * f).sum(dim=1)
        return (score, f) if with_features else score


class AuxClassifierDiscriminator(nn.Module):
    """An unconditional D with a second, K-way head on its features (ACGAN's D: P(S | x) and P(C | x)).

    ``forward(x)`` is the adversarial score alone (so anything that treats D as unconditional works);
    ``forward(x, with_classes=True)`` returns (score (N,), class logits (N, K)) from one pass through the body.
    """

    def __init__(self, D: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.body = D
        self.classifier = nn.Linear(feature_dim(D), num_classes)

    @property
    def head(self) -> nn.Linear:
        return self.body.head

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body.features(x)

    def forward(self, x: torch.Tensor, with_classes: bool = False):
        f = self.body.features(x)
        score = self.head(f).squeeze(1)
        return (score, self.classifier(f)) if with_classes else score


class InfoQHead(nn.Module):
    """Q(c | x) on D's features (N, F): categorical logits (N, K) and continuous means (N, C).

    One hidden layer of 128 LeakyReLU units, as the paper's MNIST Q network (Chen et al. 2016, App. C.1).
    The continuous codes are modelled as factored Gaussians with unit variance (as in the authors' code),
    so only their means are predicted.
    """

    def __init__(self, in_features: int, categorical: int, continuous: int, hidden: int = 128) -> None:
        super().__init__()
        self.categorical, self.continuous = categorical, continuous
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, categorical + continuous))

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(features)
        return out[:, : self.categorical], out[:, self.categorical :]
