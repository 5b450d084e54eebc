import pytest
import torch

from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.models.gan import build_gan
from gankit.nets.autoencoder import EnergyAutoEncoder
from gankit.objectives.ebgan import EBGAN, margin_hinge, pull_away_term
from gankit.data.batch import Batch
from tests.conftest import TINY_VECTOR


def test_pull_away_term_closed_forms():
    assert float(pull_away_term(torch.eye(4))) == 0.0                    # orthogonal codes
    same = torch.tensor([[1.0, 2.0, -1.0]]).repeat(5, 1)
    assert float(pull_away_term(same)) == pytest.approx(1.0)             # identical codes
    assert float(pull_away_term(torch.tensor([[1.0, 0.0], [-3.0, 0.0]]))) == pytest.approx(1.0)  # opposite
    angle = torch.tensor(0.7)
    pair = torch.stack([torch.tensor([1.0, 0.0]), 2.5 * torch.stack([angle.cos(), angle.sin()])])
    assert float(pull_away_term(pair)) == pytest.approx(float(angle.cos() ** 2), abs=1e-6)
    # three codes: cos^2 of pairs (1, 0, 0.5) each counted twice over N (N - 1) = 6 ordered pairs
    three = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    assert float(pull_away_term(three)) == pytest.approx((2 * 1.0 + 4 * 0.5) / 6)
    with pytest.raises(ValueError, match="at least 2"):
        pull_away_term(torch.ones(1, 3))


def test_losses_in_closed_form():
    obj = EBGAN(margin=2.0, pt_weight=0.5)
    real, fake = torch.tensor([0.5, 1.5]), torch.tensor([0.5, 3.0])
    assert margin_hinge(fake, 2.0).tolist() == [1.5, 0.0]
    assert float(obj.d_loss(real, fake)) == pytest.approx(1.0 + 0.75)
    assert float(obj.g_loss(fake, embeddings=torch.eye(2))) == pytest.approx(1.75)           # PT = 0
    assert float(obj.g_loss(fake, embeddings=torch.ones(2, 2))) == pytest.approx(1.75 + 0.5)  # PT = 1
    assert EBGAN(pt_weight=0).needs_embeddings is False and obj.needs_embeddings is True
    assert obj.says_real(torch.tensor([0.9, 1.1])).tolist() == [True, False]
    with pytest.raises(ValueError, match="needs g_loss"):
        obj.g_loss(fake)


def test_plain_gan_model_builds_the_autoencoder_and_passes_the_codes():
    cfg = load_config(overrides=TINY_VECTOR + ["objective.name=ebgan", "objective.params={pt_weight: 0.3}"])
    model = build_gan(cfg, build_dataset(cfg.data).info, torch.device("cpu"))
    assert isinstance(model.D, EnergyAutoEncoder)
    real = torch.randn(8, 2)
    torch.manual_seed(5)
    g = model.g_step(Batch(x=real)).loss
    torch.manual_seed(5)
    fake = model.G(model.sample_z(8, torch.device("cpu")))
    expected = model.D(fake).mean() + 0.3 * pull_away_term(model.D.embed(fake))
    assert torch.allclose(g, expected, atol=1e-6, rtol=0)
    assert float(model.d_step(Batch(x=real)).loss.detach()) >= 0  # energies and hinges are non-negative
