"""Data-parallel training across processes, started by ``torchrun``.

``torchrun --nproc_per_node=N -m gankit train ...`` starts N copies of the trainer with the usual
environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT); :func:`init` joins them into a
process group (NCCL on GPUs, gloo on CPUs). Each process holds a full replica of every network and
trains on its own share of every global batch (``train.batch_size`` is the global batch).

How the replicas stay equal. After each backward pass the trainer averages the gradients of the
parameters its optimiser is about to update over the processes (:meth:`Dist.average_gradients`, one
flat all-reduce per optimiser step), the scheme of ``DistributedDataParallel`` done by hand, as
StyleGAN2-ADA does: a GAN step toggles ``requires_grad`` of D between D's and G's steps, calls D
several times before one backward (real, fake, penalty points) and back-propagates through
``autograd.grad`` (gradient penalties, R1); DDP's reducer supports none of these without
``find_unused_parameters`` and static-graph flags, and a family without a generator (domain-adversarial
training) would need yet other flags. Averaging the gradients of a per-process mean gives the gradient
of the global mean, so W processes at batch B/W follow the one-process run at batch B up to float
rounding. Every process starts from the same seed, so the weights start equal and random draws stay in
lockstep; G's inputs are drawn for the whole global batch on every rank and each keeps its share
(:meth:`gankit.models.Model.sample_z`), which is what makes the W-process fakes those of the
one-process run. Other draws inside a step (interpolation points, dropout, input noise) are the same
numbers on every rank, applied to different samples: statistically the same game, not bitwise the
one-process run.

BatchNorm is per process: each replica normalises over its own share of the batch (as DDP does
without SyncBatchNorm, which PyTorch supports only on GPUs); its running statistics are rank 0's,
broadcast to the others after every step so that the replicas and their checkpoints stay identical.
gankit's discriminators have no BatchNorm (per-sample penalties need none), so this only touches the
DCGAN generator.

Rank 0 alone writes the run folder, logs, grids and checkpoints; the others wait for it where a file
must exist before they go on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from gankit.errors import ConfigError


@dataclass(frozen=True)
class Dist:
    """Where this process stands: ``rank`` of ``world`` processes (``world == 1``: no process group)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def average_gradients(self, params: Iterable[nn.Parameter]) -> None:
        """Replace every gradient by its mean over the processes (one flat all-reduce)."""
        if not self.enabled:
            return
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            n = g.numel()
            g.copy_(flat[offset:offset + n].view_as(g))
            offset += n

    def broadcast_buffers(self, modules: Iterable[nn.Module]) -> None:
        """Copy rank 0's buffers (BatchNorm running statistics, counters) to every process."""
        if not self.enabled:
            return
        for module in modules:
            for b in module.buffers():
                torch.distributed.broadcast(b, src=0)

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """The mean of ``values`` over the processes (a float tensor; the same on every rank)."""
        if not self.enabled:
            return values
        out = values.clone()
        torch.distributed.all_reduce(out)
        return out / self.world

    def any(self, flag: bool, device: torch.device) -> bool:
        """Whether ``flag`` is set on any process (so all of them stop at the same step)."""
        if not self.enabled:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=device)
        torch.distributed.all_reduce(t)
        return bool(t.item() > 0)

    def broadcast_object(self, obj):
        """Rank 0's ``obj`` on every process (e.g. the run folder's path)."""
        if not self.enabled:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.enabled:
            torch.distributed.barrier()


def init(device_name: str = "auto") -> tuple[Dist, bool]:
    """Join the process group that ``torchrun`` describes in the environment; a plain ``gankit train``
    (no WORLD_SIZE, or 1) gets ``Dist()`` and no group. Returns (dist, whether this call created the
    group, so that the caller shuts it down with :func:`shutdown` when done)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(), False
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if not torch.distributed.is_available():
        raise ConfigError("WORLD_SIZE > 1 but this torch build has no torch.distributed; run one process")
    created = not torch.distributed.is_initialized()
    if created:
        use_cuda = device_name != "cpu" and torch.cuda.is_available()
        if use_cuda:
            torch.cuda.set_device(local_rank)
        torch.distributed.init_process_group("nccl" if use_cuda else "gloo")
    return Dist(rank, world, local_rank), created


def shutdown() -> None:
    """Leave the process group that :func:`init` created."""
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def device_for(dist: Dist, name: str) -> torch.device:
    """``train.device`` for this process: under torchrun each process takes the GPU of its local rank."""
    from gankit.devices import resolve_device

    device = resolve_device(name, "train.device")
    if device.type == "cuda":
        return torch.device("cuda", dist.local_rank) if dist.enabled else device
    return device
