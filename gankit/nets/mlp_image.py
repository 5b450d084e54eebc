"""The MLP pair of Salimans et al. (2016, "Improved Techniques for Training GANs", section 5, MNIST model)
for images of any shape (the dataset decides the input and output sizes).

D: flattened image -> hidden ReLU layers (1000, 500, 250, 250, 250 by default) -> one score; every linear
layer is weight-normed (Salimans & Kingma 2016; the hidden layers' scales are fixed by the data-dependent
initialisation, see ``train_hidden_scale``) and, while training, Gaussian noise of std ``d_noise``
(0.5 in the paper) is added to the output of each hidden layer. ``features(x)`` is the last hidden layer
(the features that feature matching compares); the noise after it is applied by ``head_input`` just
before the head, so that classifiers built on the body (:mod:`gankit.nets.encoder`) keep it. The paper's
input noise (std 0.3) belongs to the classifier (``model.params.noise_std`` of ssgan).

G: z -> hidden layers (500, 500) of linear (no bias) + BatchNorm + softplus -> a weight-normed linear map to
the image, then tanh (gankit images are in [-1, 1]; the paper's sigmoid on [0, 1] is tanh up to scale) or,
with ``g_output: linear``, nothing: tanh's saturated pixels stall G under feature matching (the
``mnist5k-ssgan-mlp`` preset leaves the output linear; docs/benchmarks.md, section representation).

The data-dependent initialisation of the weight-normed layers needs data, so the builders that have it
apply it (:func:`gankit.models.classifier.build_classifier` with ``init_x``, as ssgan does); a D built
here alone keeps PyTorch's default initialisation (g = ||v||).

Example::

    cfg.net = NetConfig(name="mlp-image", params={"d_hidden": [1000, 500, 250, 250, 250], "d_noise": 0.5})
    G, D = build_nets(cfg.net, info)     # G: (N, z_dim) -> (N, C, H, W); D: (N, C, H, W) -> (N,)
"""

from __future__ import annotations

from typing import Annotated, Literal

import math

import torch
from pydantic import Field
from torch import nn

from gankit.config import Strict
from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.nets.layers import GaussianNoise, linear
from gankit.registry import NETS

Units = Annotated[int, Field(ge=1)]


class MLPImageParams(Strict):
    """``net.params`` of mlp-image (defaults: the paper's MNIST model)."""

    d_hidden: list[Units] = Field(default_factory=lambda: [1000, 500, 250, 250, 250], min_length=1)
    """D's hidden layer sizes; the last one is the width of ``features(x)``."""
    g_hidden: list[Units] = Field(default_factory=lambda: [500, 500], min_length=1)
    """G's hidden layer sizes."""
    d_noise: float = Field(0.5, ge=0)
    """Std of the Gaussian noise added to each hidden layer's output of D while training (0: none)."""
    weight_norm: bool = True
    """Weight-normalise every linear layer of D and G's output layer."""
    g_output: Literal["tanh", "linear"] = "tanh"
    """G's last activation: tanh keeps images in [-1, 1]; linear leaves them unbounded (feature matching
    pulls them into range), which avoids tanh's saturated pixels, where G's gradient vanishes."""
    train_hidden_scale: bool = False
    """Train the weight-norm scales g of D's hidden layers. The paper does not: they keep the value the
    data-dependent initialisation gives them, so the hidden activations stay near unit scale and the
    noise of std ``d_noise`` keeps its weight (trained scales grow and drown it). D's head always trains g."""


class MLPImageGenerator(nn.Module):
    """z (N, z_dim) -> images (N, *shape), in [-1, 1] with ``output="tanh"``."""

    def __init__(self, z_dim: int, shape: tuple[int, ...], hidden: list[int], weight_normed: bool,
                 output: str = "tanh") -> None:
        super().__init__()
        self.z_dim, self.shape = z_dim, shape
        layers: list[nn.Module] = []
        for a, b in zip([z_dim] + hidden[:-1], hidden):
            # BatchNorm's shift replaces the bias; softplus after the normalisation as in the paper.
            layers += [nn.Linear(a, b, bias=False), nn.BatchNorm1d(b), nn.Softplus()]
        layers += [linear(hidden[-1], math.prod(shape), weight_normed=weight_normed),
                   nn.Tanh() if output == "tanh" else nn.Identity()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.shape)


class MLPImageDiscriminator(nn.Module):
    """images (N, *shape) -> one unnormalised score per image (N,).

    ``features(x)`` (N, d_hidden[-1]) is the last hidden layer; ``head(head_input(features(x)))`` the score."""

    def __init__(self, shape: tuple[int, ...], hidden: list[int], noise_std: float, weight_normed: bool,
                 train_hidden_scale: bool = False) -> None:
        super().__init__()
        self.weight_normed = weight_normed
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip([math.prod(shape)] + hidden[:-1], hidden)):
            if i > 0:
                layers.append(GaussianNoise(noise_std))
            layers += [linear(a, b, weight_normed=weight_normed, train_scale=train_hidden_scale), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.head_input = GaussianNoise(noise_std)
        self.head = linear(hidden[-1], 1, weight_normed=weight_normed)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.flatten(1))

    def forward(self, x: torch.Tensor, with_features: bool = False):
        """The scores (N,), or (scores, features) with ``with_features``."""
        f = self.features(x)
        score = self.head(self.head_input(f)).squeeze(1)
        return (score, f) if with_features else score


@NETS.register("mlp-image", "MLP pair for images (Salimans et al. 2016 MNIST): weight norm, noisy D layers")
def build_mlp_image(cfg, info: DataInfo) -> tuple[nn.Module, nn.Module]:
    if info.kind != "image":
        raise ConfigError(f"net.name: mlp-image is for images, but {info.name!r} holds vectors; use net.name=mlp")
    p = MLPImageParams(**cfg.params)  # already checked by build_nets
    G = MLPImageGenerator(cfg.z_dim, info.shape, p.g_hidden, p.weight_norm, p.g_output)
    D = MLPImageDiscriminator(info.shape, p.d_hidden, p.d_noise, p.weight_norm, p.train_hidden_scale)
    return G, D


build_mlp_image.params_schema = MLPImageParams  # net.params is checked against it (gankit.nets.net_params)
