import pytest
import torch

from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.errors import ConfigError
from gankit.models.gan import build_gan
from gankit.objectives.wgan import WGAN, WGANGP, wasserstein_d_loss
from gankit.data.batch import Batch
from tests.conftest import TINY_VECTOR


def test_critic_losses_in_closed_form():
    real, fake = torch.tensor([3.0, 1.0]), torch.tensor([-1.0, 0.0, 4.0])
    for obj in (WGAN(), WGANGP()):
        assert float(obj.d_loss(real, fake)) == pytest.approx(1.0 - 2.0)  # E f(fake) - E f(real)
        assert float(obj.g_loss(fake)) == pytest.approx(-1.0)


def test_linear_critic_estimates_the_mean_difference():
    # For f(x) = w.x, -d_loss = w.(E real - E fake): with unit w along the mean difference that is
    # the W1 distance of two translates, |mu_p - mu_q|.
    g = torch.Generator().manual_seed(0)
    real = torch.randn(1000, 2, generator=g, dtype=torch.float64) + torch.tensor([2.0, 0.0], dtype=torch.float64)
    fake = real - torch.tensor([0.6, -0.8], dtype=torch.float64)  # a translate by a unit vector
    w = torch.tensor([0.6, -0.8], dtype=torch.float64)
    assert abs(float(-wasserstein_d_loss(real @ w, fake @ w)) - 1.0) < 1e-12


def model_for(objective: str, *extra: str):
    cfg = load_config(overrides=TINY_VECTOR + [f"objective.name={objective}", *extra])
    return build_gan(cfg, build_dataset(cfg.data).info, torch.device("cpu"))


def test_weight_clipping_clamps_every_d_parameter_after_a_d_step():
    torch.manual_seed(0)
    model = model_for("wgan", "objective.params={clip: 0.05}")
    real = torch.randn(32, 2)
    opt = torch.optim.SGD(model.d_parameters(), lr=10.0)  # a large step leaves the box for sure
    opt.zero_grad()
    model.d_step(Batch(x=real)).loss.backward()
    opt.step()
    before = torch.cat([p.detach().flatten() for p in model.d_parameters()])
    assert before.abs().max() > 0.05
    model.after_d_step()
    after = torch.cat([p.detach().flatten() for p in model.d_parameters()])
    assert after.abs().max() == pytest.approx(0.05)
    assert torch.equal(after, before.clamp(-0.05, 0.05))


def test_wgan_gp_does_not_clip_and_needs_the_penalty():
    message = r"^reg\.gp\.weight: objective wgan-gp needs reg\.gp\.weight > 0 \(e\.g\. 10\)$"
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=TINY_VECTOR + ["objective.name=wgan-gp"])
    model = model_for("wgan-gp", "reg.gp.weight=10")
    with torch.no_grad():
        for p in model.d_parameters():
            p.fill_(3.0)
    model.after_d_step()
    assert all(bool((p == 3.0).all()) for p in model.d_parameters())


def test_clip_must_be_positive():
    with pytest.raises(ValueError, match="clip=0: must be a number > 0"):
        WGAN(clip=0)
