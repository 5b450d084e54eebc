"""The interface between a model family and the trainer.

Per generator step the trainer calls, in this order::

    for k in range(train.d_steps):         # skipped when model.adversarial is False (e.g. a VAE)
        d = model.d_step(real, y)          # -> StepResult; the trainer runs backward and opt_d
        model.after_d_step()               # e.g. WGAN's weight clipping
    g = model.g_step(real, y)              # the last real batch (feature matching, encoders, ...)

``real`` is a batch of training samples and ``y`` their labels (None for unlabelled data; -1 marks
an unlabelled sample in a partly labelled set).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from gankit.sampling import LatentPrior


@dataclass
class StepResult:
    """What one D or G step computed: the loss to back-propagate and detached scalars to log."""

    loss: torch.Tensor
    stats: dict[str, torch.Tensor] = field(default_factory=dict)


class Model:
    """A model family: its networks, its latent prior and its step functions.

    ``nets`` maps names to modules (``"G"`` at least, ``"D"`` when adversarial); the trainer
    checkpoints all of them. ``g_parameters`` / ``d_parameters`` say which parameters each optimiser
    updates (an encoder or a Q head joins whichever side the family's paper puts it on).
    ``prior`` is the distribution of G's input rows (see :mod:`gankit.sampling`).
    """

    nets: dict[str, nn.Module]
    prior: LatentPrior
    adversarial: bool = True
    """False for a family without a discriminator step (the VAE baseline): the trainer skips D."""

    @property
    def z_dim(self) -> int:
        """Width of G's input rows."""
        return self.prior.dim

    @property
    def G(self) -> nn.Module:
        return self.nets["G"]

    @property
    def D(self) -> nn.Module:
        return self.nets["D"]

    def g_parameters(self) -> list[nn.Parameter]:
        return list(self.G.parameters())

    def d_parameters(self) -> list[nn.Parameter]:
        return list(self.D.parameters())

    def sample_z(self, n: int, device: torch.device) -> torch.Tensor:
        """G's input rows from the global torch RNG (whose state every checkpoint saves)."""
        return self.prior.sample(n, device=device)

    def d_step(self, real: torch.Tensor, y: torch.Tensor | None) -> StepResult:
        raise NotImplementedError

    def after_d_step(self) -> None:
        """Called after each optimiser step of D (default: nothing)."""

    def g_step(self, real: torch.Tensor, y: torch.Tensor | None) -> StepResult:
        """G's loss; ``real`` is the last real batch (its size is the number of fakes to draw)."""
        raise NotImplementedError

    def final_figures(self, dataset, split: str) -> dict[str, Any]:
        """The family's own figure at the end of a run, beside FID/KID (e.g. the semi-supervised GAN's
        test error): ``{"lines": [printable str], "values": {...}, "fingerprint": {...}}``, or {}."""
        return {}
