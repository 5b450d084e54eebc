"""Objectives: two pure functions over the discriminator's outputs. See :class:`Objective`."""

from __future__ import annotations

from gankit.objectives.base import Objective


def build_objective(cfg) -> Objective:  # cfg: ObjectiveConfig
    """Build the objective named ``cfg.name`` with keyword arguments ``cfg.params``."""
    from gankit import plugins  # noqa: F401  (fills the registries)
    from gankit.registry import OBJECTIVES

    return OBJECTIVES.get(cfg.name)(**cfg.params)


__all__ = ["Objective", "build_objective"]
