"""Imports every plugin module so that the registries are full, and checks a config's names against them.

Adding a dataset, net, objective or model is one new file plus one import line here.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from gankit.config import Config, resolve_config
from gankit.errors import ConfigError
from gankit.registry import DATASETS, MODELS, NETS, OBJECTIVES

# Plugin modules (import order does not matter; each registers itself).
import gankit.data.registry  # noqa: F401,E402
import gankit.data.domains  # noqa: F401,E402
import gankit.nets.mlp  # noqa: F401,E402
import gankit.nets.dcgan  # noqa: F401,E402
import gankit.nets.mlp_image  # noqa: F401,E402
import gankit.nets.infogan_mnist  # noqa: F401,E402
import gankit.objectives.gan  # noqa: F401,E402
import gankit.objectives.lsgan  # noqa: F401,E402
import gankit.objectives.wgan  # noqa: F401,E402
import gankit.objectives.hinge  # noqa: F401,E402
import gankit.objectives.loss_sensitive  # noqa: F401,E402
import gankit.objectives.ebgan  # noqa: F401,E402
import gankit.objectives.fgan  # noqa: F401,E402
import gankit.models.gan  # noqa: F401,E402
import gankit.models.bigan  # noqa: F401,E402
import gankit.models.ssgan  # noqa: F401,E402
import gankit.models.vae  # noqa: F401,E402
import gankit.models.latent_gan  # noqa: F401,E402
import gankit.models.cgan  # noqa: F401,E402
import gankit.models.acgan  # noqa: F401,E402
import gankit.models.infogan  # noqa: F401,E402
import gankit.models.pix2pix  # noqa: F401,E402
import gankit.models.dann  # noqa: F401,E402
import gankit.models.lgan  # noqa: F401,E402
import gankit.models.lgan_ssl  # noqa: F401,E402
import gankit.data.captions  # noqa: F401,E402
import gankit.models.stackgan  # noqa: F401,E402
import gankit.models.gan3d  # noqa: F401,E402  (also registers the shapes3d / voxel-folder data and the voxel nets)
import gankit.data.unpaired  # noqa: F401,E402
import gankit.models.cogan  # noqa: F401,E402


def check_kwargs(factory: object, params: dict, key: str, what: str) -> None:
    """Raise a ConfigError naming ``key.NAME`` if ``params`` holds a keyword ``factory`` does not take."""
    sig = inspect.signature(factory)  # type: ignore[arg-type]
    allowed = [n for n, p in sig.parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for name in params:
        if name not in allowed:
            choices = ", ".join(allowed) if allowed else "none"
            raise ConfigError(f"{key}.{name}: unknown parameter of {what}; allowed: {choices}")


def load_config(
    preset: str | None = None,
    file: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    base: dict[str, Any] | None = None,
) -> Config:
    """Defaults <- ``base`` (e.g. a resumed run's config) <- preset <- file <- ``key=value`` overrides,
    validated against the schema (:func:`gankit.config.resolve_config`) and then against the registered
    plugins (:func:`check`). The entry point of every command; also ``gankit.load_config``.

    Example::

        cfg = load_config(preset="ring8", overrides=["train.steps=500", "seed=3"])
    """
    cfg = resolve_config(preset=preset, file=file, overrides=overrides, base=base)
    check(cfg)
    return cfg


def check(cfg: Config) -> None:
    """Check that every name in ``cfg`` is registered and the objective's and the net's params fit."""
    DATASETS.get(cfg.data.name)
    NETS.get(cfg.net.name)
    from gankit.nets import net_params

    net_params(cfg.net)  # net.params against the net's schema (mlp-image), or empty
    MODELS.get(cfg.model.name)
    objective = OBJECTIVES.get(cfg.objective.name)
    check_kwargs(objective, cfg.objective.params, "objective.params", f"objective {cfg.objective.name!r}")
    try:
        obj = objective(**cfg.objective.params)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"objective.params: {e}") from None
    # Objectives that need more than D's scores rely on hooks of the step (gankit.objectives.base).
    hooks = [name for name, on in (("needs_samples", obj.needs_samples),
                                   ("needs_embeddings", obj.needs_embeddings),
                                   ("discriminator", obj.discriminator is not None),
                                   ("clip_value", obj.clip_value is not None)) if on]
    if hooks and not getattr(MODELS.get(cfg.model.name), "objective_hooks", False):
        raise ConfigError(f"objective.name: {cfg.objective.name} needs {', '.join(hooks)} from the training step, "
                          f"which model {cfg.model.name!r} does not provide; use model=gan")
    if getattr(objective, "needs_gradient_penalty", False) and cfg.reg.gp.weight == 0:
        raise ConfigError(f"reg.gp.weight: objective {cfg.objective.name} needs reg.gp.weight > 0 (e.g. 10)")
    from gankit.regularizers import check_config as check_reg

    check_reg(cfg)  # every reg.* switch that is on: model applies it, objective allows it, sizes fit
