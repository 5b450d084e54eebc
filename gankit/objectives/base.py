"""The objective interface shared by every GAN loss.

An objective is two pure functions over the discriminator's raw outputs (one score per sample):

- ``d_loss(real_out, fake_out)``: what D minimises, a scalar;
- ``g_loss(fake_out)``: what G minimises, a scalar.

It never owns a network or an optimiser, so swapping the objective never touches the training step.
Regularisers (gradient penalties and the like) are separate scalars added by the model.
"""

from __future__ import annotations

import torch


class Objective:
    """Base class. Subclasses set ``name`` and implement :meth:`d_loss` and :meth:`g_loss`."""

    name: str = "objective"
    incompatible: dict[str, str] = {}
    """Config keys this objective cannot be combined with (e.g. "reg.label_smoothing"), each with the
    reason; ``gankit.plugins.check`` turns a clash into a one-line ConfigError."""

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def says_real(self, out: torch.Tensor) -> torch.Tensor:
        """Boolean per sample: does D classify it as real? (A raw score above 0 means real.)"""
        return out > 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
