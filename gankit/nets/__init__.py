"""Generator / discriminator pairs, built from the dataset's :class:`~gankit.data.DataInfo`."""

from __future__ import annotations

from torch import nn


def build_nets(cfg, info) -> tuple[nn.Module, nn.Module]:  # cfg: NetConfig, info: DataInfo
    """Build (G, D) for the net named ``cfg.name``; shapes come from ``info``."""
    from gankit import plugins  # noqa: F401  (fills the registries)
    from gankit.registry import NETS

    return NETS.get(cfg.name)(cfg, info)
