"""Spectral normalisation of the discriminator (Miyato et al. 2018, "Spectral Normalization for GANs").

Every weight W of D is replaced by ``W / sigma(W)`` (Eq. 8), where ``sigma(W)`` is W's largest singular
value, estimated by power iteration (Algorithm 1) with one step per forward pass and persistent vectors
u, v. Each layer then has Lipschitz constant at most 1, so D does too (LeakyReLU is 1-Lipschitz).
For a convolution the normalised matrix is the kernel reshaped to (out_channels, in_channels * k * k),
as in the paper and in ``torch.nn.utils.parametrizations.spectral_norm``.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

NORMALISED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def spectral_normalize(D: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Spectrally normalise, in place, the weight of every Linear / Conv layer of ``D``; returns ``D``.

    Layers already normalised are left alone, so calling it twice changes nothing.

    Example::

        D = spectral_normalize(D)
        torch.linalg.matrix_norm(D.head.weight, ord=2)   # ~1 after a few forward passes in train mode
    """
    for module in list(D.modules()):
        if isinstance(module, NORMALISED) and not parametrize.is_parametrized(module, "weight"):
            # ConvTranspose keeps in_channels in dim 0 of its weight; dim=1 normalises its output side
            dim = 1 if isinstance(module, nn.modules.conv._ConvTransposeNd) else 0
            spectral_norm(module, n_power_iterations=n_power_iterations, dim=dim)
    return D
