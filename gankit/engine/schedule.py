"""Learning-rate schedules (``train.lr_decay``): the multiplier of the base learning rate at a step.

Used by the trainer for G's and D's optimisers and by the supervised baseline
(:func:`gankit.models.classifier.train_supervised`), so both follow the same schedule.
"""

from __future__ import annotations

import math

import torch


def lr_factor(kind: str, done: int, total: int) -> float:
    """Multiplier of the base learning rate for the step after ``done`` of ``total``: 1 (none),
    1 - done/total (linear) or (1 + cos(pi done/total)) / 2 (cosine)."""
    if kind == "linear":
        return 1.0 - done / total
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * done / total))
    return 1.0


def set_lr(opt: torch.optim.Optimizer | None, base: float, factor: float) -> None:
    """Set every parameter group of ``opt`` (if any) to ``base * factor``."""
    for group in opt.param_groups if opt is not None else ():
        group["lr"] = base * factor
