"""PacGAN packing (Lin et al. 2018, "PacGAN: The power of two samples in GANs", Sec. 3).

The discriminator judges ``pack`` samples at once: ``pack`` consecutive samples of a batch are
concatenated along the channel axis (images: (m, C, H, W) -> (m / pack, pack * C, H, W)) or the feature
axis (vectors: (m, D) -> (m / pack, pack * D)), so D sees a sample of the product distribution
P^pack vs Q^pack. A mode-collapsed G shows up as packs of near-identical samples, which the packed D
detects easily; the total variation between P^pack and Q^pack grows with pack (their Theorem 3).
Real packs hold only real samples and fake packs only fakes. D is built for ``pack x`` the channels.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from gankit.data.base import DataInfo
from gankit.regularizers.wrapped import WrappedD


def pack(x: torch.Tensor, k: int) -> torch.Tensor:
    """Concatenate each run of ``k`` consecutive samples along axis 1: sample ``i * k + j`` becomes
    channels (or features) ``j * C .. (j + 1) * C - 1`` of packed sample ``i``."""
    if len(x) % k:
        raise ValueError(f"a batch of {len(x)} cannot be packed in groups of {k}; set train.batch_size "
                         f"to a multiple of reg.pack")
    return x.reshape(len(x) // k, k * x.shape[1], *x.shape[2:])


def packed_info(info: DataInfo, k: int) -> DataInfo:
    """The shape a packed D sees: ``k`` times the channels (images) or features (vectors)."""
    return dataclasses.replace(info, shape=(k * info.shape[0], *info.shape[1:]))


class Packed(WrappedD):
    """Wraps a D built for ``packed_info(info, k)`` so that it takes unpacked batches (N, *shape).

    ``forward``, ``features`` and ``head`` behave like the wrapped D's, on N / k packs.

    Example::

        D = Packed(build_nets(net_cfg, packed_info(info, 2))[1], 2)
        D(x).shape     # (len(x) // 2,)
    """

    def __init__(self, inner: nn.Module, k: int) -> None:
        if k < 1:
            raise ValueError(f"pack must be at least 1, got {k}")
        super().__init__(inner)
        self.k = k

    def input(self, x: torch.Tensor) -> torch.Tensor:
        return pack(x, self.k)
