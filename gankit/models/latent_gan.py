"""A GAN in feature space: an auto-encoder, then a GAN on its low-dimensional codes, then decode.

In the spirit of latent-space GANs (Achlioptas et al. 2018, "Learning Representations and Generative
Models for 3D Point Clouds", the "l-GAN"): the expensive image-space game is replaced by a
small MLP game on ``code_dim`` numbers, and images come from the auto-encoder's decoder.

Networks: the encoder E (DCGAN discriminator body + linear, x -> code), the decoder (the DCGAN
generator with ``code_dim`` inputs, code -> x), the code generator G_code and the code discriminator
D_code (the MLP pair of :mod:`gankit.nets.mlp`). ``nets["G"]`` is the composite decoder(G_code(z)),
which takes the prior's rows like any generator, so sampling, EMA, grids and FID just work.

How the two phases share the trainer's ``train.steps`` generator steps:

- steps 0 .. ``model.params.ae_steps`` - 1 (auto-encoder phase): ``g_step`` minimises the mean squared
  reconstruction error || decoder(E(x)) - x ||^2 over E and the decoder; ``d_step`` is a no-op (D_code
  gets no gradient, so Adam leaves it and its state untouched);
- the remaining ``train.steps - ae_steps`` steps (code GAN phase): E and the decoder are fixed; D_code
  judges codes E(x) of real images against G_code(z) with ``cfg.objective``, and G_code minimises the
  objective's ``g_loss``. Only G_code's and D_code's weights move.

The model counts its generator steps in a one-buffer module ``nets["phase"]``, so the phase survives
a checkpoint and a resumed run is bitwise identical to an uninterrupted one.
The logged ``ae_mse`` and GAN stats are means over the whole logging interval, so the one interval that
spans the switch shows each of them diluted by the steps of the other phase.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

from gankit.config import Strict
from gankit.errors import ConfigError
from gankit.data.batch import Batch
from gankit.models.base import Model, StepResult, d_stats
from gankit.nets import build_nets
from gankit.nets.encoder import build_encoder
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import LatentPrior
from gankit.validation import parse_params


class CodeDecoder(torch.nn.Module):
    """The generator exposed for sampling: z (N, z_dim) -> decoder(G_code(z)) (N, *image shape).

    ``stage`` reaches the two halves through ``forward``: ``"code"`` is G_code(z) alone and
    ``"decode"`` the decoder of a given code (the auto-encoder phase)."""

    def __init__(self, G_code: torch.nn.Module, decoder: torch.nn.Module) -> None:
        super().__init__()
        self.G_code = G_code
        self.decoder = decoder

    def forward(self, z: torch.Tensor, stage: str = "full") -> torch.Tensor:
        if stage == "code":
            return self.G_code(z)
        if stage == "decode":
            return self.decoder(z)
        return self.decoder(self.G_code(z))


class StepCounter(torch.nn.Module):
    """Counts generator steps in a buffer, so that checkpoints carry the phase."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))


class LatentGAN(Model):
    """Auto-encoder (E, decoder) for ``ae_steps`` steps, then a GAN (G_code, D_code) on its codes.

    Example::

        model = LatentGAN(E, decoder, G_code, D_code, NonSaturating(), z_dim=32, ae_steps=1000)
        model.G(model.prior.sample(16, seed=0))   # decoded images
    """

    def __init__(self, E: torch.nn.Module, decoder: torch.nn.Module, G_code: torch.nn.Module,
                 D_code: torch.nn.Module, objective: Objective, z_dim: int, ae_steps: int) -> None:
        super().__init__({"G": CodeDecoder(G_code, decoder), "E": E, "D": D_code, "phase": StepCounter()},
                         LatentPrior(z_dim))
        self.objective = objective
        self.ae_steps = ae_steps

    @property
    def E(self) -> torch.nn.Module:
        return self.net("E")

    def in_ae_phase(self) -> bool:
        return int(self.nets["phase"].count) < self.ae_steps

    def g_parameters(self) -> list[torch.nn.Parameter]:
        return list(self.nets["G"].parameters()) + list(self.nets["E"].parameters())

    def d_step(self, batch: Batch) -> StepResult:
        real = batch.x
        if self.in_ae_phase():
            # A loss with no path to D_code: backward gives no gradient, so opt_d skips every weight.
            return StepResult(torch.zeros((), device=real.device, requires_grad=True))
        with torch.no_grad():
            code_real = self.E(real)
            code_fake = self.G(self.sample_z(len(real), real.device), stage="code")
        real_out, fake_out = self.D(code_real), self.D(code_fake)
        loss = self.objective.d_loss(real_out, fake_out)
        return StepResult(loss, d_stats(self.objective, loss, real_out, fake_out))

    def g_step(self, batch: Batch) -> StepResult:
        real = batch.x
        if self.in_ae_phase():
            loss = F.mse_loss(self.G(self.E(real), stage="decode"), real)
            stats = {"ae_mse": loss.detach()}
        else:
            loss = self.objective.g_loss(self.D(self.G(self.sample_z(len(real), real.device), stage="code")))
            stats = {"g_loss": loss.detach()}
        self.nets["phase"].count += 1
        return StepResult(loss, stats)


class LatentGANParams(Strict):
    """``model.params`` of latent-gan."""

    ae_steps: int = Field(1500, ge=1)
    """Generator steps of the auto-encoder phase; the code GAN gets the rest of train.steps."""
    code_dim: int = Field(16, ge=1)
    """Width of the auto-encoder's code, the space the GAN lives in."""
    code_width: int = Field(256, ge=1)
    """Hidden units of G_code and D_code."""
    code_depth: int = Field(3, ge=1)
    """Hidden layers of G_code and D_code."""


@MODELS.register("latent-gan", "GAN in feature space: auto-encoder, then an MLP GAN on its codes, decoded")
def build_latent_gan(cfg, info, device) -> LatentGAN:
    p = parse_params(LatentGANParams, cfg.model.params, "model 'latent-gan'")
    if p.ae_steps >= cfg.train.steps:
        raise ConfigError(f"model.params.ae_steps: {p.ae_steps} leaves no step for the code GAN; "
                          f"make it smaller than train.steps ({cfg.train.steps})")
    decoder, _ = build_nets(cfg.net.model_copy(update={"z_dim": p.code_dim}), info)
    E = build_encoder(cfg.net, info, p.code_dim)
    G_code = MLPGenerator(cfg.net.z_dim, (p.code_dim,), p.code_width, p.code_depth)
    D_code = MLPDiscriminator((p.code_dim,), p.code_width, p.code_depth)
    return LatentGAN(E.to(device), decoder.to(device), G_code.to(device), D_code.to(device),
                     build_objective(cfg.objective), cfg.net.z_dim, p.ae_steps)
