"""The objective interface shared by every GAN loss.

An objective is two pure functions over the discriminator's raw outputs (one score per sample):

- ``d_loss(real_out, fake_out)``: what D minimises, a scalar;
- ``g_loss(fake_out)``: what G minimises, a scalar.

It never owns a network or an optimiser, so swapping the objective never touches the training step.
Regularisers (gradient penalties and the like) are separate scalars added by the model.

A few families need more than D's scores; they say so with class attributes that the plain GAN step
(:mod:`gankit.models.gan`) reads, so that the two-function interface stays the same for all:

- ``needs_samples``: ``d_loss`` also receives the batches D scored, ``real=`` and ``fake=``
  (Loss-Sensitive GAN's margin Delta(x, G(z)) is a distance between samples);
- ``needs_embeddings``: ``g_loss`` also receives ``embeddings=D.embed(fake)`` (EBGAN's pull-away term);
- ``discriminator``: the name of a D the objective needs instead of the net pair's own D
  (``"autoencoder"``: EBGAN's energy auto-encoder, see :mod:`gankit.nets.autoencoder`);
- ``clip_value``: clamp every D parameter to [-c, c] after each D step (WGAN's weight clipping);
- ``needs_gradient_penalty``: the objective is only defined together with ``reg.gp.weight > 0``
  (WGAN-GP); ``gankit.plugins.check`` enforces it.

A model whose factory does not set ``objective_hooks = True`` (only ``model=gan`` does) is refused with
a ConfigError when the objective needs any of the first four.
"""

from __future__ import annotations

import torch


class Objective:
    """Base class. Subclasses set ``name`` and implement :meth:`d_loss` and :meth:`g_loss`."""

    name: str = "objective"
    incompatible: dict[str, str] = {}
    """Config keys this objective cannot be combined with (e.g. "reg.label_smoothing"), each with the
    reason; ``gankit.plugins.check`` turns a clash into a one-line ConfigError."""

    needs_samples: bool = False
    needs_embeddings: bool = False
    discriminator: str | None = None
    clip_value: float | None = None
    needs_gradient_penalty: bool = False

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def says_real(self, out: torch.Tensor) -> torch.Tensor:
        """Boolean per sample: does D classify it as real? (A raw score above 0 means real.)"""
        return out > 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def is_number(value: object) -> bool:
    """An int or a float, but not a bool (YAML's ``true`` is not a margin)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_param(ok: bool, name: str, value: object, allowed: str) -> None:
    """Raise a ValueError naming the parameter when ``ok`` is false, e.g. ``clip=-1: must be > 0``.

    ``gankit.plugins.check`` turns it into a ConfigError on ``objective.params``."""
    if not ok:
        raise ValueError(f"{name}={value!r}: {allowed}")

