"""Training-step families. A model owns the networks and says what one D step and one G step compute;
the trainer owns the loop, the optimisers, EMA and checkpoints."""

from __future__ import annotations

from gankit.models.base import Model, StepResult


def build_model(cfg, info, device) -> Model:  # cfg: Config, info: DataInfo
    """Build the model family named ``cfg.model.name`` for data described by ``info``."""
    from gankit import plugins  # noqa: F401  (fills the registries)
    from gankit.registry import MODELS

    return MODELS.get(cfg.model.name)(cfg, info, device)


__all__ = ["Model", "StepResult", "build_model"]
