"""Generator / discriminator pairs, built from the dataset's :class:`~gankit.data.DataInfo`."""

from __future__ import annotations

from torch import nn


def net_params(cfg):  # cfg: NetConfig
    """``net.params`` validated by the schema of the net named ``cfg.name`` (its factory's ``params_schema``,
    a pydantic model), or None for a net without one; the first problem becomes a ConfigError naming its key."""
    from gankit import plugins  # noqa: F401  (fills the registries)
    from gankit.errors import ConfigError
    from gankit.registry import NETS
    from gankit.validation import parse_params

    schema = getattr(NETS.get(cfg.name), "params_schema", None)
    if schema is None:
        if cfg.params:
            raise ConfigError(f"net.params: net {cfg.name!r} takes no parameters, got "
                              f"{', '.join(sorted(cfg.params))}; remove them or use net.name=mlp-image")
        return None
    return parse_params(schema, cfg.params, f"net {cfg.name!r}", key="net.params")


def build_nets(cfg, info) -> tuple[nn.Module, nn.Module]:  # cfg: NetConfig, info: DataInfo
    """Build (G, D) for the net named ``cfg.name``; shapes come from ``info``. ``net.params`` is checked
    first (:func:`net_params`)."""
    from gankit import plugins  # noqa: F401  (fills the registries)
    from gankit.registry import NETS

    net_params(cfg)
    return NETS.get(cfg.name)(cfg, info)
