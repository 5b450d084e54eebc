"""The interface between a model family and the trainer."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class StepResult:
    """What one D or G step computed: the loss to back-propagate and detached scalars to log."""

    loss: torch.Tensor
    stats: dict[str, torch.Tensor] = field(default_factory=dict)


class Model:
    """A model family: its networks and its two step functions.

    ``nets`` maps names to modules (``"G"`` and ``"D"`` at least); the trainer checkpoints all of them.
    ``g_parameters`` / ``d_parameters`` say which parameters each optimiser updates.
    """

    nets: dict[str, nn.Module]
    z_dim: int

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
        """Latent vectors from the global torch RNG (whose state every checkpoint saves)."""
        return torch.randn(n, self.z_dim, device=device)

    def d_step(self, real: torch.Tensor, y: torch.Tensor | None) -> StepResult:
        raise NotImplementedError

    def g_step(self, batch_size: int, y: torch.Tensor | None) -> StepResult:
        raise NotImplementedError
