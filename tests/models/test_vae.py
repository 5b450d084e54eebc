import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from gankit.data.base import DataInfo
from gankit.engine.checkpoint import load_latest
from gankit.engine.trainer import train
from gankit.models import build_model
from gankit.models.vae import (
    VAE,
    elbo,
    gaussian_log_likelihood,
    kl_to_standard_normal,
    mean_gradient_magnitude,
)
from gankit.nets.dcgan import DCGANGenerator
from gankit.data.batch import Batch
from tests.models.conditional_helpers import tiny
from tests.models.representation_helpers import check_determinism_and_resume

DIGITS = DataInfo("digits", "image", (1, 8, 8), 10)


def test_elbo_of_a_tiny_gaussian_case_matches_its_closed_form():
    x = torch.tensor([[0.5, -0.25, 1.0]], dtype=torch.float64)
    x_mean = torch.tensor([[0.3, 0.0, 1.0]], dtype=torch.float64)
    mu = torch.tensor([[0.4, -1.2]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, math.log(0.25)]], dtype=torch.float64)
    sigma = 0.5
    # by hand: ||x - mean||^2 = 0.04 + 0.0625 = 0.1025; KL = 1/2 [(0.16 + 1 - 1 - 0) + (1.44 + 0.25 - 1 - log 0.25)]
    ll = -0.1025 / (2 * 0.25) - 1.5 * math.log(2 * math.pi * 0.25)
    kl = 0.5 * (0.16 + 1.44 + 0.25 - 1 - math.log(0.25))
    terms = elbo(x, x_mean, mu, logvar, sigma)
    assert float(terms.log_likelihood) == pytest.approx(ll, abs=1e-12)
    assert float(terms.kl) == pytest.approx(kl, abs=1e-12)
    assert float(terms.elbo) == pytest.approx(ll - kl, abs=1e-12)
    # and against torch.distributions as an independent reference
    ref_ll = Normal(x_mean, sigma).log_prob(x).sum(1)
    ref_kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros_like(mu), 1.0)).sum(1)
    torch.testing.assert_close(gaussian_log_likelihood(x, x_mean, sigma), ref_ll, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(kl_to_standard_normal(mu, logvar), ref_kl, rtol=1e-12, atol=1e-12)
    assert float(kl_to_standard_normal(torch.zeros(1, 4), torch.zeros(1, 4))) == 0.0  # q = prior


def _model() -> VAE:
    torch.manual_seed(0)
    return build_model(tiny("model.name=vae", "net.z_dim=5", "model.params.sigma=0.2"), DIGITS, "cpu")


def test_decoder_is_the_dcgan_generator_and_the_loss_is_the_reparameterised_negative_elbo():
    model = _model()
    assert type(model.G) is DCGANGenerator and not model.adversarial and model.d_parameters() == []
    real = torch.rand(4, 1, 8, 8) * 2 - 1
    torch.manual_seed(7)
    g = model.g_step(Batch(x=real))
    torch.manual_seed(7)
    with torch.no_grad():
        mu, logvar = model.E(real).chunk(2, dim=1)
        z = mu + (0.5 * logvar).exp() * torch.randn(4, 5)
        x_mean = model.G(z)
        want = -(Normal(x_mean, 0.2).log_prob(real).flatten(1).sum(1)
                 - kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)).mean()
    torch.testing.assert_close(g.loss.detach(), want, rtol=1e-5, atol=0)


def test_trains_without_a_discriminator(tmp_path):
    r = train(tiny("model.name=vae", "train.steps=4"), run_dir=tmp_path / "r", progress=False)
    ck = load_latest(r.run_dir / "checkpoints")
    assert {k.split(".")[0] for k in ck.tensors} == {"G", "E", "G_ema", "opt_g", "rng"}
    assert ck.meta["opt_d"] is None and set(r.history[-1]) >= {"g_loss", "kl", "recon_mse"}


def test_determinism_and_resume(tmp_path):
    check_determinism_and_resume(tiny("model.name=vae", "train.steps=6"), tmp_path, {"G", "E", "G_ema"})


def test_sharpness_of_an_edge_and_of_a_flat_image():
    edge = -torch.ones(2, 1, 6, 9)
    edge[..., 4:] = 1.0  # one vertical edge of height 2
    assert mean_gradient_magnitude(edge) == pytest.approx(2.0 / 8.0, abs=1e-15)
    assert mean_gradient_magnitude(torch.full((3, 1, 5, 5), 0.3)) == 0.0
    diag = torch.zeros(1, 1, 2, 2)
    diag[0, 0, 0, 1] = diag[0, 0, 1, 0] = 1.0  # dx = dy = 1 at the one scored pixel
    assert mean_gradient_magnitude(diag) == pytest.approx(math.sqrt(2.0), abs=1e-15)
