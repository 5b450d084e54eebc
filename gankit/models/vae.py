"""The VAE baseline (Kingma & Welling 2014) whose decoder is the DCGAN generator.

Built to test the classic claim that VAE samples are blurrier than GAN samples with everything else
equal: the decoder G is the same class, width and latent size as the DCGAN generator, the encoder E is
the DCGAN discriminator's body with a linear head (:mod:`gankit.nets.encoder`) that outputs the mean
and log-variance of q(z|x) = N(mu(x), diag exp(logvar(x))). There is no discriminator
(``adversarial = False``): the trainer runs only ``g_step``, whose loss is the negative ELBO

    -ELBO(x) = -E_q[log p(x|z)] + KL(q(z|x) || N(0, I))                   (Kingma & Welling, eq. 3)

with one reparameterised sample z = mu + exp(logvar / 2) * eps (eq. 10) and

- likelihood p(x|z) = N(x; G(z), sigma^2 I), a Gaussian with a FIXED sigma (``model.params.sigma``,
  default 0.1 in the [-1, 1] pixel scale, i.e. 0.05 of the pixel range). Pixels are not binary, so a
  Bernoulli likelihood would be a mis-specified model; a fixed sigma keeps the trade-off between
  reconstruction and KL explicit (the loss is the squared error scaled by 1 / (2 sigma^2) plus a
  constant) and the ELBO a proper bound in nats;
- KL(N(mu, diag s^2) || N(0, I)) = 1/2 sum_j (mu_j^2 + s_j^2 - 1 - log s_j^2)   (Appendix B).

The loss is the mean over the batch of -ELBO in nats per image. Samples are G(z), z ~ N(0, I), so the
run's sampling, EMA and FID evaluation are those of any GAN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from pydantic import Field

from gankit.config import Strict
from gankit.data.batch import Batch
from gankit.models.base import Model, StepResult
from gankit.nets import build_nets
from gankit.nets.encoder import build_encoder
from gankit.registry import MODELS
from gankit.sampling import LatentPrior
from gankit.validation import parse_params


@dataclass
class ELBO:
    """Per-sample terms (N,) in nats: ``elbo = log_likelihood - kl``."""

    elbo: torch.Tensor
    log_likelihood: torch.Tensor
    kl: torch.Tensor


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, sigma: float) -> torch.Tensor:
    """log N(x; mean, sigma^2 I) summed over each sample's dimensions (N,)."""
    d = x[0].numel()
    sq = (x - mean).flatten(1).pow(2).sum(1)
    return -0.5 * sq / sigma**2 - 0.5 * d * math.log(2 * math.pi * sigma**2)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per sample (N,) (Kingma & Welling 2014, Appendix B)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)


def elbo(x: torch.Tensor, x_mean: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, sigma: float) -> ELBO:
    """The one-sample ELBO of x given the decoder mean ``x_mean`` = G(z) at a z drawn from q(z|x)."""
    ll = gaussian_log_likelihood(x, x_mean, sigma)
    kl = kl_to_standard_normal(mu, logvar)
    return ELBO(ll - kl, ll, kl)


class VAE(Model):
    """Decoder G (z -> x), encoder E (x -> [mu, logvar], 2 z_dim numbers), Gaussian likelihood.

    Example::

        model = VAE(G, E, z_dim=100, sigma=0.1)
        g = model.g_step(Batch(x=real))     # g.loss = mean -ELBO; g.stats["kl"], g.stats["recon_mse"]
    """

    adversarial = False

    def __init__(self, G: torch.nn.Module, E: torch.nn.Module, z_dim: int, sigma: float) -> None:
        super().__init__({"G": G, "E": E}, LatentPrior(z_dim))
        self.sigma = sigma

    @property
    def E(self) -> torch.nn.Module:
        return self.net("E")

    def g_parameters(self) -> list[torch.nn.Parameter]:
        return list(self.nets["G"].parameters()) + list(self.nets["E"].parameters())

    def d_parameters(self) -> list[torch.nn.Parameter]:
        return []

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of q(z|x), each (N, z_dim)."""
        mu, logvar = self.E(x).chunk(2, dim=1)
        return mu, logvar

    def g_step(self, batch: Batch) -> StepResult:
        real = batch.x
        mu, logvar = self.posterior(real)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)  # reparameterisation (eq. 10)
        x_mean = self.G(z)
        terms = elbo(real, x_mean, mu, logvar, self.sigma)
        loss = -terms.elbo.mean()
        return StepResult(loss, {
            "g_loss": loss.detach(),
            "kl": terms.kl.mean().detach(),
            "recon_mse": (x_mean - real).pow(2).mean().detach(),
        })


class VAEParams(Strict):
    """``model.params`` of vae."""

    sigma: float = Field(0.1, gt=0)
    """Std of the Gaussian likelihood N(x; G(z), sigma^2 I), in the [-1, 1] pixel scale."""


@MODELS.register("vae", "VAE baseline: DCGAN generator as decoder, Gaussian likelihood (fixed sigma), no D")
def build_vae(cfg, info, device) -> VAE:
    p = parse_params(VAEParams, cfg.model.params, "model 'vae'")
    G, _ = build_nets(cfg.net, info)
    E = build_encoder(cfg.net, info, 2 * cfg.net.z_dim)
    return VAE(G.to(device), E.to(device), cfg.net.z_dim, p.sigma)


def mean_gradient_magnitude(images: torch.Tensor) -> float:
    """Sharpness figure: the mean over images and pixels of sqrt(dx^2 + dy^2), the forward finite
    differences along width and height (pixels in [-1, 1]); blurrier images score lower.

    Measured on the (H-1) x (W-1) pixels that have both a right and a lower neighbour. A vertical edge
    from -1 to 1 in an otherwise flat H x W image scores 2 / (W - 1)."""
    x = images.double()
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    return float((dx.pow(2) + dy.pow(2)).sqrt().mean())
