"""Discriminators and heads for class- and code-conditioned GANs (CGAN, ACGAN, InfoGAN).

They reuse the unconditional bodies of :mod:`gankit.nets.dcgan` and :mod:`gankit.nets.mlp` (whose
``features(x)`` is the last hidden layer, (N, F), and ``head`` the Linear F -> 1):

- :class:`ConcatDiscriminator`: D(x, y) sees one-hot y as extra input channels (images: K constant
  planes) or extra input features (vectors), as in Mirza & Osindero (2014), Sec. 3.2; with
  ``every_layer`` the planes are also concatenated to the input of every later convolution, as in
  the conditional DCGAN of Radford et al.'s MNIST code (``conv_cond_concat`` before each layer); with
  ``hidden`` a fully connected LeakyReLU layer on [features, one_hot(y)] comes before the head (that
  code's ``dfc`` layer), where y can gate the high-level features instead of the first layer's.
- :class:`ConcatDCGANGenerator`: a DCGAN generator for rows ``[z, one_hot(y)]`` that also concatenates
  the one-hot planes to the input of every transposed convolution (the same code's generator).
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
from gankit.nets.dcgan import DCGANDiscriminator, stages_for
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

    def __init__(self, net: str, info: DataInfo, width: int, depth: int, every_layer: bool = False,
                 hidden: int = 0) -> None:
        super().__init__()
        self.num_classes = info.num_classes
        self.kind = info.kind
        if every_layer and not (net == "dcgan" and info.kind == "image"):
            raise ConfigError(f"model.params.d_every_layer: needs net.name=dcgan on images, "
                              f"got {net!r} on {info.kind} data")
        if every_layer:
            self.body: nn.Module = _EveryLayerDCGANDiscriminator(info.channels, info.num_classes, info.image_size,
                                                                 width)
        elif net == "dcgan" and info.kind == "image":
            self.body = DCGANDiscriminator(info.channels + info.num_classes, info.image_size, width)
        elif net == "mlp" and info.kind == "vector":
            self.body = MLPDiscriminator((info.dim + info.num_classes,), width, depth)
        else:
            raise ConfigError(f"net.name: concat conditioning supports dcgan (images) or mlp (vectors), "
                              f"got {net!r} on {info.kind} data; or set model.params.conditioning=projection")
        self.late: nn.Linear | None = None
        if hidden:  # [f, one_hot(y)] -> hidden LeakyReLU units -> the body's head, which now reads them
            self.late = nn.Linear(self.body.head.in_features + info.num_classes, hidden)
            self.body.head = nn.Linear(hidden, 1)

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
        if isinstance(self.body, _EveryLayerDCGANDiscriminator):
            f = self.body.features(x, F.one_hot(y, self.num_classes).to(x.dtype))
        else:
            f = self.body.features(self._join(x, y))
        if self.late is None:
            return f
        return F.leaky_relu(self.late(torch.cat([f, F.one_hot(y, self.num_classes).to(f.dtype)], 1)), 0.2)

    def forward(self, x: torch.Tensor, y: torch.Tensor, with_features: bool = False):
        f = self.features(x, y)
        score = self.head(f).squeeze(1)
        return (score, f) if with_features else score


def _planes(onehot: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``h`` (N, C, H, W) with the one-hot (N, K) appended as K constant planes: (N, C + K, H, W)."""
    return torch.cat([h, onehot[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])], dim=1)


class _EveryLayerDCGANDiscriminator(nn.Module):
    """The DCGAN discriminator's layers, each convolution fed its input plus K one-hot planes."""

    def __init__(self, channels: int, num_classes: int, image_size: int, width: int) -> None:
        super().__init__()
        stages, base = stages_for(image_size)
        convs, c_in = [], channels
        for i in range(stages):
            convs.append(nn.Conv2d(c_in + num_classes, width * 2**i, 4, 2, 1))
            c_in = width * 2**i
        self.convs = nn.ModuleList(convs)
        self.head = nn.Linear(c_in * base * base, 1)

    def features(self, x: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        h = x
        for conv in self.convs:
            h = F.leaky_relu(conv(_planes(onehot, h)), 0.2)
        return h.flatten(1)


class ConcatDCGANGenerator(nn.Module):
    """rows ``[z, one_hot(y)]`` (N, z_dim + K) -> images (N, C, S, S): y at the input of every layer.

    The layers of :class:`~gankit.nets.dcgan.DCGANGenerator` (Linear projection, BatchNorm, ReLU,
    transposed convolutions, tanh), except that every transposed convolution also sees K constant
    one-hot planes beside its input channels, so y need not survive the projection's BatchNorm
    among the z features (the conditional MNIST DCGAN of Radford et al. does the same).

    Example::

        G = ConcatDCGANGenerator(100, 10, channels=1, image_size=28, width=32)
        x = G(ConditionalPrior(100, 10).sample(8, seed=0))   # (8, 1, 28, 28)
    """

    def __init__(self, z_dim: int, num_classes: int, channels: int, image_size: int, width: int) -> None:
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        stages, base = stages_for(image_size)
        ch = [width * 2 ** (stages - 1 - i) for i in range(stages)]
        top = ch[0] * 2
        self.project = nn.Sequential(
            nn.Linear(z_dim + num_classes, top * base * base, bias=False),
            nn.Unflatten(1, (top, base, base)),
            nn.BatchNorm2d(top),
            nn.ReLU(inplace=True),
        )
        self.convs, self.norms = nn.ModuleList(), nn.ModuleList()
        c_in = top
        for i, c_out in enumerate(ch):
            last = i == stages - 1
            self.convs.append(nn.ConvTranspose2d(c_in + num_classes, channels if last else c_out, 4, 2, 1, bias=last))
            if not last:
                self.norms.append(nn.BatchNorm2d(c_out))
            c_in = c_out

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        onehot = rows[:, self.z_dim:]
        h = self.project(rows)
        for i, conv in enumerate(self.convs):
            h = conv(_planes(onehot, h))
            h = F.relu(self.norms[i](h)) if i < len(self.norms) else torch.tanh(h)
        return h


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

    ``hidden`` > 0 puts one hidden LeakyReLU layer of that width in the class head (default: linear).
    ``dropout`` > 0 drops D's features (and the hidden units) with that rate on their way into the class
    head, in training mode only (the adversarial head sees the features whole).
    ``forward(x)`` is the adversarial score alone (so anything that treats D as unconditional works);
    ``forward(x, with_classes=True)`` returns (score (N,), class logits (N, K)) from one pass through the body.
    """

    def __init__(self, D: nn.Module, num_classes: int, hidden: int = 0, dropout: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.body = D
        def drop() -> list[nn.Module]:
            return [nn.Dropout(dropout)] if dropout else []

        if hidden:  # one hidden LeakyReLU layer between D's features and the class logits
            self.classifier: nn.Module = nn.Sequential(*drop(), nn.Linear(feature_dim(D), hidden), nn.LeakyReLU(0.2),
                                                       *drop(), nn.Linear(hidden, num_classes))
        else:
            self.classifier = nn.Sequential(*drop(), nn.Linear(feature_dim(D), num_classes)) if dropout \
                else nn.Linear(feature_dim(D), num_classes)

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
