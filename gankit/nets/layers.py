"""Small layers shared by the network families: training-time Gaussian noise and weight-normed linear maps."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


class GaussianNoise(nn.Module):
    """x + std * N(0, I) while training, x unchanged in eval mode (Salimans et al. 2016, MNIST model).

    The one noise mechanism of gankit's classifiers: the input noise of
    :class:`gankit.models.classifier.Classifier` and the per-layer noise of the ``mlp-image``
    discriminator are both this layer. ``std == 0`` draws nothing, so it leaves the RNG stream alone.
    """

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = float(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.std > 0:
            return x + self.std * torch.randn_like(x)
        return x

    def extra_repr(self) -> str:
        return f"std={self.std}"


def linear(in_features: int, out_features: int, bias: bool = True, weight_normed: bool = False,
           train_scale: bool = True) -> nn.Linear:
    """``nn.Linear``, optionally with weight normalisation w = g v / ||v|| per output unit
    (Salimans & Kingma 2016), as a parametrisation: the module stays an ``nn.Linear``, its state dict
    holds ``parametrizations.weight.original0`` (g) and ``original1`` (v).

    ``train_scale=False`` freezes g (``requires_grad=False``; :func:`data_dependent_init` still sets it):
    the output scale of the layer then stays what the initialisation made it, as in the hidden layers
    of Salimans et al.'s (2016) MNIST discriminator, where it keeps the per-layer noise meaningful."""
    layer = nn.Linear(in_features, out_features, bias=bias)
    if not weight_normed:
        return layer
    layer = weight_norm(layer)
    layer.parametrizations.weight.original0.requires_grad_(train_scale)
    return layer


def is_weight_normed(layer: nn.Module) -> bool:
    """Whether ``layer``'s weight is the weight-norm parametrisation of :func:`linear`."""
    return hasattr(layer, "parametrizations") and "weight" in layer.parametrizations


@torch.no_grad()
def data_dependent_init(net: nn.Module, x: torch.Tensor, eps: float = 1e-6) -> int:
    """Salimans & Kingma (2016, section 2.2) initialisation of every weight-normed linear layer of ``net``:
    one forward pass of ``x`` in eval mode (no noise), in which each such layer's scale g and bias b are
    set so that its outputs on ``x`` have zero mean and unit variance per unit, before the next layer sees
    them. Draws no random numbers. Returns how many layers were initialised.

    Example::

        D = build_classifier(cfg.net, info)
        data_dependent_init(D, real[:500])
    """
    done: list[nn.Module] = []

    def hook(layer: nn.Module, _inputs: tuple, out: torch.Tensor) -> torch.Tensor:
        mean, std = out.mean(0), out.std(0) + eps
        g = layer.parametrizations.weight.original0  # (out_features, 1)
        g.div_(std.view_as(g))
        if layer.bias is not None:
            layer.bias.sub_(mean).div_(std)
        done.append(layer)
        return (out - mean) / std  # what the re-initialised layer now outputs

    layers = [m for m in net.modules() if isinstance(m, nn.Linear) and is_weight_normed(m)]
    if not layers:  # nothing to initialise: spare the forward pass
        return 0
    handles = [m.register_forward_hook(hook) for m in layers]
    was_training = net.training
    net.eval()
    try:
        net(x)
    finally:
        net.train(was_training)
        for h in handles:
            h.remove()
    return len(done)
