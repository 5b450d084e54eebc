"""Learning-rate schedules (``train.lr_decay``): the multiplier of the base learning rate at a step; and the
optimiser itself (``train.optimizer``).

Used by the trainer for G's and D's optimisers and by the supervised baseline
(:func:`gankit.models.classifier.train_supervised`), so both follow the same schedule.
"""

from __future__ import annotations

import math

import torch


INVERSE_ALPHA, INVERSE_BETA = 10.0, 0.75  # Ganin & Lempitsky 2015: mu_p = mu_0 / (1 + alpha p)^beta


def lr_factor(kind: str, done: int, total: int) -> float:
    """Multiplier of the base learning rate for the step after ``done`` of ``total``: 1 (none),
    1 - done/total (linear), (1 + cos(pi done/total)) / 2 (cosine) or (1 + 10 done/total)^-0.75 (inverse)."""
    if kind == "linear":
        return 1.0 - done / total
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * done / total))
    if kind == "inverse":
        return (1.0 + INVERSE_ALPHA * done / total) ** -INVERSE_BETA
    return 1.0


def make_optimizer(train, params: list[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """The optimiser ``train.optimizer`` of ``params`` (``train`` a TrainConfig): Adam with ``train.betas``
    or SGD with ``train.momentum``, at learning rate ``lr``."""
    if train.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=train.momentum)
    return torch.optim.Adam(params, lr=lr, betas=train.betas)


def set_lr(opt: torch.optim.Optimizer | None, base: float, factor: float) -> None:
    """Set every parameter group of ``opt`` (if any) to ``base * factor``."""
    for group in opt.param_groups if opt is not None else ():
        group["lr"] = base * factor
