"""Stopping a run that diverged, before it writes anything made of NaNs.

A non-finite loss (nan or inf) in any step means the weights after that step are garbage. The trainer
records, on the device and without synchronising, the first step at which each loss went non-finite
(:meth:`NonFiniteWatch.add`), and looks at the record only where it synchronises anyway: before a log
line and before a checkpoint (:meth:`NonFiniteWatch.check`, which also checks the weights themselves
before a checkpoint is written). A divergence then stops the run with one line naming the step and
the loss, and the newest checkpoint on disk is still the last good one: nothing after the divergence
was saved, and no quality figure of NaN samples is computed.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.engine.checkpoint import list_checkpoints
from gankit.engine.distributed import Dist
from gankit.errors import GankitError

NEVER = 2**62  # "no non-finite value yet": larger than any step, so a minimum over processes finds the first


class TrainingDiverged(GankitError):
    """A loss or a weight became nan or inf; the message names the step and what went wrong."""


class NonFiniteWatch:
    """First step at which each named loss was non-finite, kept on the device (no host sync per step).

    Example::

        watch = NonFiniteWatch(device)
        watch.add("g_loss", g.loss, step)     # every step
        watch.check(dist, run)                # at log / checkpoint steps: raises TrainingDiverged
    """

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.first: dict[str, torch.Tensor] = {}

    def add(self, name: str, loss: torch.Tensor, step: int) -> None:
        first = self.first.get(name)
        if first is None:
            first = self.first[name] = torch.full((), NEVER, dtype=torch.int64, device=self.device)
        bad = ~torch.isfinite(loss.detach()).all()
        # where(bad, min(first, step), first): the earliest step stays, without a host sync
        torch.where(bad, torch.clamp(first, max=step), first, out=first)

    def check(self, dist: Dist, run=None, model: torch.nn.Module | None = None) -> None:
        """Raise :class:`TrainingDiverged` if any process saw a non-finite loss (or, with ``model``, holds a
        non-finite weight). Every process calls it at the same step and all of them raise together."""
        names = sorted(self.first)
        firsts = torch.stack([self.first[n] for n in names]) if names else torch.zeros(0, dtype=torch.int64)
        weights_bad = torch.zeros((), dtype=torch.int64, device=self.device)
        if model is not None:
            finite = [torch.isfinite(p.detach()).all() for p in model.parameters()]
            weights_bad = (~torch.stack(finite).all()).long() if finite else weights_bad
        record = torch.cat([firsts.to(self.device), weights_bad.view(1)])
        if dist.enabled:  # the earliest step over the processes; any process's bad weights
            steps, flag = record[:-1].clone(), record[-1:].clone()
            torch.distributed.all_reduce(steps, op=torch.distributed.ReduceOp.MIN)
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
            record = torch.cat([steps, flag])
        values = record.tolist()
        bad = [(step, name) for name, step in zip(names, values[:-1]) if step < NEVER]
        if not bad and not values[-1]:
            return
        where = _last_good(run)
        if bad:
            step, name = min(bad)
            what = f"step {step}: {name} is not finite (nan or inf)"
        else:
            what = "a weight is not finite (nan or inf)"
        raise TrainingDiverged(f"{what}; the run stopped without saving it. {where} Lower train.lr_g / "
                               "train.lr_d, or add a regulariser (reg.r1, reg.gp), and start again")


def _last_good(run) -> str:
    if run is None:
        return ""
    found = list_checkpoints(Path(run.path) / "checkpoints")
    if not found:
        return "No checkpoint had been written yet."
    return f"The newest checkpoint, {found[-1].name}, is the last good one (resume from it with --resume {run.path})."
