"""The interface between a model family and the trainer, and what every family shares.

Per generator step the trainer calls, in this order::

    for k in range(train.d_steps):         # skipped when model.adversarial is False (e.g. a VAE)
        d = model.d_step(batch)            # -> StepResult; the trainer runs backward and opt_d
        model.after_d_step()               # e.g. WGAN's weight clipping
    g = model.g_step(batch)                # the last batch (feature matching, encoders, ...)

``batch`` is a :class:`~gankit.data.batch.Batch`: named fields, ``batch.x`` the samples and
``batch.y`` their labels (None for unlabelled data; -1 marks an unlabelled sample in a partly
labelled set), plus whatever further fields the dataset declares.

The contract that keeps families composable with multi-process training, mixed precision and
compilation: a model's networks are called only through ``forward`` (``self.G(...)``, ``self.D(...)``,
never ``self.D.features(...)``; a net that has more than one output returns them from ``forward``
when asked, e.g. ``D(x, with_features=True)``), and G's input comes from the model's :class:`Source`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from gankit.data.batch import Batch
from gankit.sampling import Source, generate


@dataclass
class StepResult:
    """What one D or G step computed: the loss to back-propagate and detached scalars to log.

    ``skip=True`` (D steps only) asks the trainer not to update D this time: no backward, no optimiser
    step, no ``after_d_step`` (e.g. 3D-GAN's adaptive update, :mod:`gankit.models.gan3d`)."""

    loss: torch.Tensor
    stats: dict[str, torch.Tensor] = field(default_factory=dict)
    skip: bool = False


class Model(nn.Module):
    """A model family: its networks (``nets``, a ModuleDict), the source of G's input, and its steps.

    The trainer checkpoints every net in ``nets``. ``g_parameters`` / ``d_parameters`` say which
    parameters each optimiser updates (an encoder or a Q head joins whichever side the family's paper
    puts it on). ``source`` is what G takes (:mod:`gankit.sampling`); ``prior`` is the same object
    (the name of the latent families).

    Example::

        model = GAN(G, D, NonSaturating(), z_dim=100)
        d = model.d_step(Batch(x=real))
        samples = model.sample(64, seed=0)          # (64, *shape) on the CPU, G in eval mode
    """

    adversarial: bool = True
    """False for a family without a discriminator step (the VAE baseline): the trainer skips D."""
    skips_d_steps: bool = False
    """True for a family whose D step may return ``StepResult.skip`` (3D-GAN's adaptive update): the trainer
    then honours it (under torchrun it agrees over the processes, one small all-reduce per D step)."""
    generative: bool = True
    """False for a family without a generator (domain-adversarial training: a feature extractor and two
    classifiers): the trainer then keeps no EMA, draws no sample grids and computes no quality figure;
    the family reports through :meth:`final_figures`. Its nets need no "G"; ``source`` may be None."""

    def __init__(self, nets: dict[str, nn.Module], source: Source | None) -> None:
        super().__init__()
        self.nets = nn.ModuleDict(nets)
        self.source = source
        self._calls: dict[str, Callable] = {}  # name -> what steps call instead of the net (wrap_nets)
        self.shard: tuple[int, int] = (0, 1)  # (rank, world size) under data-parallel training

    # -- networks --------------------------------------------------------------------------------------
    def net(self, name: str) -> Callable:
        """The callable the steps use for net ``name``: the net itself, or its wrapper (:meth:`wrap_nets`)."""
        return self._calls.get(name) or self.nets[name]

    def wrap_nets(self, wrap: Callable[[str, nn.Module], Callable]) -> None:
        """Call every net through ``wrap(name, net)`` in the steps (e.g. ``torch.compile``). ``nets``
        keeps the plain modules, so checkpoints and sampling are unchanged."""
        self._calls = {name: wrap(name, net) for name, net in self.nets.items()}

    @property
    def G(self) -> Callable:
        return self.net("G")

    @property
    def D(self) -> Callable:
        return self.net("D")

    @property
    def prior(self) -> Source:
        return self.source

    @property
    def z_dim(self) -> int:
        """Width of G's latent input rows."""
        return self.source.dim

    def g_parameters(self) -> list[nn.Parameter]:
        return list(self.nets["G"].parameters())

    def d_parameters(self) -> list[nn.Parameter]:
        return list(self.nets["D"].parameters())

    # -- G's inputs and samples ------------------------------------------------------------------------
    def sample_z(self, n: int, device: torch.device | str):
        """G's inputs for ``n`` fakes in a training step, from the global torch RNG (checkpointed).

        Under data-parallel training every rank draws the inputs of the whole global batch and keeps its
        own share, so the fakes of a W-process run are those of a one-process run with W times the batch."""
        rank, world = self.shard
        if world == 1:
            return self.source.sample(n, device=device)
        rows = self.source.sample(n * world, device=device)
        return rows[rank * n:(rank + 1) * n]

    def sample(self, n: int, seed: int, device: torch.device | str = "cpu", G: nn.Module | None = None,
               y: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` samples (CPU, float32) of G (or of the given ``G``, e.g. G_ema), reproducible by ``seed``.

        ``y`` fixes the class of each sample where the source is conditional. This is what evaluation,
        DRS and ``gankit sample`` call, so none of them assumes a latent ``G(z)``."""
        return generate(G if G is not None else self.nets["G"], self.source.sample(n, seed=seed, device=device, y=y))

    def sample_grid(self, n: int, seed: int, device: torch.device | str = "cpu",
                    G: nn.Module | None = None) -> torch.Tensor:
        """The samples a grid shows (the source's layout, e.g. one class per row)."""
        return generate(G if G is not None else self.nets["G"], self.source.grid(n, seed, device))

    # -- the steps -------------------------------------------------------------------------------------
    def d_step(self, batch: Batch) -> StepResult:
        raise NotImplementedError

    def after_d_step(self) -> None:
        """Called after each optimiser step of D (default: nothing)."""

    def g_step(self, batch: Batch) -> StepResult:
        """G's loss; ``batch`` is the last real batch (its size is the number of fakes to draw)."""
        raise NotImplementedError

    def final_figures(self, dataset, split: str) -> dict[str, Any]:
        """The family's own figure at the end of a run, beside FID/KID (e.g. the semi-supervised GAN's
        test error): ``{"lines": [printable str], "values": {...}, "fingerprint": {...}}``, or {}."""
        return {}


def d_stats(objective: Any, loss: torch.Tensor, real_out: torch.Tensor, fake_out: torch.Tensor
            ) -> dict[str, torch.Tensor]:
    """What every adversarial D step logs: its loss and how often D calls real real and fake fake."""
    says_real = objective.says_real
    return {
        "d_loss": loss.detach(),
        "d_acc_real": says_real(real_out.detach()).float().mean(),
        "d_acc_fake": (~says_real(fake_out.detach())).float().mean(),
    }

