"""The shape shared by the regularisers that wrap D at build time (PacGAN's packing, DiffAugment): the
wrapped D (``inner``) sees ``self.input(x)`` instead of x, through ``forward`` and ``features`` alike, and
its ``head`` is read through the wrapper."""

from __future__ import annotations

import torch
from torch import nn


class WrappedD(nn.Module):
    """A D around another D; subclasses define :meth:`input`, what the inner D sees for a batch x."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def input(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def head(self) -> nn.Module:
        """The wrapped D's head (read-only here: change the head on ``inner``, before wrapping)."""
        return self.inner.head

    def __setattr__(self, name: str, value: object) -> None:
        # nn.Module.__setattr__ would register a new head beside the property and silently ignore it.
        if name == "head":
            raise AttributeError(f"{type(self).__name__}.head is read-only: change the head of the wrapped D "
                                 "before wrapping")
        super().__setattr__(name, value)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner.features(self.input(x))

    def forward(self, x: torch.Tensor, **outputs: bool):
        """The wrapped D on ``input(x)``; keyword switches (``with_features``, ...) pass through to it."""
        return self.inner(self.input(x), **outputs)
