"""Imports every plugin module so that the registries are full, and checks a config's names against them.

Adding a dataset, net, objective or model is one new file plus one import line here.
"""

from __future__ import annotations

import inspect

from gankit.errors import ConfigError
from gankit.registry import DATASETS, MODELS, NETS, OBJECTIVES

# Plugin modules (import order does not matter; each registers itself).
import gankit.data.registry  # noqa: F401,E402
import gankit.nets.mlp  # noqa: F401,E402
import gankit.nets.dcgan  # noqa: F401,E402
import gankit.objectives.gan  # noqa: F401,E402
import gankit.models.gan  # noqa: F401,E402


def check_kwargs(factory: object, params: dict, key: str, what: str) -> None:
    """Raise a ConfigError naming ``key.NAME`` if ``params`` holds a keyword ``factory`` does not take."""
    sig = inspect.signature(factory)  # type: ignore[arg-type]
    allowed = [n for n, p in sig.parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for name in params:
        if name not in allowed:
            choices = ", ".join(allowed) if allowed else "none"
            raise ConfigError(f"{key}.{name}: unknown parameter of {what}; allowed: {choices}")


def check(cfg) -> None:  # cfg: gankit.config.Config
    """Check that every name in ``cfg`` is registered and the objective's params fit its signature."""
    DATASETS.get(cfg.data.name)
    NETS.get(cfg.net.name)
    MODELS.get(cfg.model.name)
    objective = OBJECTIVES.get(cfg.objective.name)
    check_kwargs(objective, cfg.objective.params, "objective.params", f"objective {cfg.objective.name!r}")
    try:
        objective(**cfg.objective.params)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"objective.params: {e}") from None
