"""Feature matching (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 3.1).

G is asked to match the expected value of D's intermediate features f(x) on real data:

    L_FM = || E_{x ~ p_data} f(x) - E_{z ~ p_z} f(G(z)) ||_2^2

gankit adds ``weight * L_FM`` to G's adversarial loss (the paper replaces it; a large weight comes
close). ``f`` is D's features, the input of its head (``D(x, with_features=True)[1]``); the real
features are constants for G.
"""

from __future__ import annotations

import torch
from torch import nn


def feature_matching_loss(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, weight: float = 1.0) -> torch.Tensor:
    """``weight * ||mean f(real) - mean f(fake)||^2`` with f D's features; gradients reach G only.

    Example::

        loss = objective.g_loss(D(fake)) + feature_matching_loss(D, real, fake, 1.0)
    """
    with torch.no_grad():
        real_mean = D(real, with_features=True)[1].mean(dim=0)
    return weight * (real_mean - D(fake, with_features=True)[1].mean(dim=0)).pow(2).sum()
