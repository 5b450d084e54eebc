import numpy as np
import pytest
import torch

from gankit.config import NetConfig
from gankit.data.base import DataInfo, Dataset, Split
from gankit.errors import ConfigError
from gankit.models import build_model
from gankit.models.bigan import BiGAN, encode, linear_probe, measure_representation, reconstruction_loss
from gankit.nets.encoder import (
    JointDiscriminator,
    build_encoder,
    build_joint_discriminator,
)
from gankit.objectives.gan import NonSaturating
from gankit.sampling import generate
from gankit.data.batch import Batch
from tests.models.conditional_helpers import tiny
from tests.models.representation_helpers import check_determinism_and_resume

DIGITS = DataInfo("digits", "image", (1, 8, 8), 10)
NET = NetConfig(name="dcgan", width=8, z_dim=6)


def test_encoder_maps_images_and_vectors_to_codes():
    E = build_encoder(NET, DIGITS, out_dim=5)
    assert E(torch.randn(3, 1, 8, 8)).shape == (3, 5)
    assert not hasattr(E.body.D, "head")  # the discriminator's score head is not an unused parameter
    E_vec = build_encoder(NetConfig(name="mlp", width=16, depth=2), DataInfo("ring8", "vector", (2,)), out_dim=4)
    assert E_vec(torch.randn(7, 2)).shape == (7, 4)


def test_joint_discriminator_really_sees_x_and_z():
    torch.manual_seed(0)
    D = build_joint_discriminator(NET, DIGITS)
    assert isinstance(D, JointDiscriminator)
    x, z = torch.randn(4, 1, 8, 8), torch.randn(4, 6)
    out = D(x, z)
    assert out.shape == (4,)
    z2 = z.clone()
    z2[0] += 1.0  # change z of the first pair only
    out_z = D(x, z2)
    assert not torch.equal(out_z[0], out[0]) and torch.equal(out_z[1:], out[1:])
    x2 = x.clone()
    x2[2] += 0.5
    out_x = D(x2, z)
    assert not torch.equal(out_x[2], out[2]) and torch.equal(out_x[[0, 1, 3]], out[[0, 1, 3]])


def _model() -> BiGAN:
    torch.manual_seed(0)
    return build_model(tiny("model.name=bigan", "net.z_dim=6"), DIGITS, "cpu")


def _swapped_loss(model: BiGAN, real: torch.Tensor, seed: int) -> torch.Tensor:
    """The adversarial part of G and E's loss, by hand, for the z a step draws after ``manual_seed(seed)``."""
    torch.manual_seed(seed)
    z = torch.randn(len(real), 6)
    with torch.no_grad():
        return NonSaturating().d_loss(model.D(model.G(z), z), model.D(real, model.E(real)))  # roles swapped


def test_d_loss_on_data_pairs_vs_model_pairs_and_g_e_minimise_the_swapped_loss():
    model, obj = _model(), NonSaturating()
    real = torch.rand(5, 1, 8, 8) * 2 - 1
    torch.manual_seed(1)
    d = model.d_step(Batch(x=real))
    torch.manual_seed(1)
    z = torch.randn(5, 6)
    with torch.no_grad():
        want_d = obj.d_loss(model.D(real, model.E(real)), model.D(model.G(z), z))
    torch.testing.assert_close(d.loss.detach(), want_d, rtol=0, atol=0)
    torch.manual_seed(2)
    g = model.g_step(Batch(x=real))
    torch.testing.assert_close(g.loss.detach(), _swapped_loss(model, real, seed=2), rtol=0, atol=0)
    g.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in (model.E.out.weight, model.G.project[0].weight))
    assert {id(p) for p in model.g_parameters()} == {id(p) for p in [*model.G.parameters(), *model.E.parameters()]}


def test_reconstruction_term_on_a_hand_built_case_and_its_gradients_reach_g_and_e_only():
    # E = identity on 2 numbers, G = doubling: G(E(x)) = 2x, so the term is mean(x^2) exactly.
    E, G = torch.nn.Linear(2, 2, bias=False), torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        E.weight.copy_(torch.eye(2))
        G.weight.copy_(2 * torch.eye(2))
    x = torch.tensor([[1.0, -2.0], [3.0, 0.5]])
    torch.testing.assert_close(reconstruction_loss(G, E, x), (x ** 2).mean(), rtol=0, atol=0)
    model = build_model(tiny("model.name=bigan", "net.z_dim=6", "model.params.recon_weight=2.5"), DIGITS, "cpu")
    assert model.recon_weight == 2.5
    real = torch.rand(5, 1, 8, 8) * 2 - 1
    torch.manual_seed(3)
    g = model.g_step(Batch(x=real))
    with torch.no_grad():
        want = _swapped_loss(model, real, seed=3) + 2.5 * ((model.G(model.E(real)) - real) ** 2).mean()
    torch.testing.assert_close(g.loss.detach(), want, rtol=0, atol=0)
    # the term alone: gradients in G and E, none in D
    for p in model.nets.parameters():
        p.grad = None
    reconstruction_loss(model.G, model.E, real).backward()
    assert all(p.grad is None for p in model.D.parameters())
    assert model.E.out.weight.grad.abs().sum() > 0 and model.G.project[0].weight.grad.abs().sum() > 0


def test_unknown_model_param_names_its_key():
    with pytest.raises(ConfigError, match=r"model\.params\.depth: Extra inputs are not permitted \(model 'bigan' takes: recon_weight\)"):
        build_model(tiny("model.name=bigan", "model.params.depth=3"), DIGITS, "cpu")


def test_determinism_and_resume(tmp_path):
    check_determinism_and_resume(tiny("model.name=bigan"), tmp_path, {"G", "E", "D", "G_ema"})


def test_measure_representation_matches_its_definition():
    model = _model()
    g = torch.Generator().manual_seed(0)
    # Two classes that a linear probe on pixels separates exactly: bright vs dark images.
    y_tr, y_te = torch.arange(40) % 2, torch.arange(20) % 2
    x_tr = (torch.rand(40, 1, 8, 8, generator=g) * 0.5 + 0.5 * y_tr.view(-1, 1, 1, 1)) * 2 - 1
    x_te = (torch.rand(20, 1, 8, 8, generator=g) * 0.5 + 0.5 * y_te.view(-1, 1, 1, 1)) * 2 - 1
    ds = Dataset(DIGITS, {"train": Split(x_tr, y_tr), "test": Split(x_te, y_te)})
    rep = measure_representation(model.G, model.E, ds)
    recon = generate(model.G, encode(model.E, x_te))
    assert rep.recon_mse == pytest.approx(float(((recon - x_te) ** 2).mean()), rel=1e-6)
    assert rep.recon_mse_mean_image == pytest.approx(float(((x_tr.mean(0) - x_te) ** 2).mean()), rel=1e-6)
    assert rep.linear_acc_pixels == 1.0
    assert model.E.training and model.G.training  # modes restored
    assert linear_probe(np.array([[0.0], [1.0], [0.1], [0.9]]), np.array([0, 1, 0, 1]),
                        np.array([[1.0], [0.0]]), np.array([0, 1])) == 0.0  # a probe that is always wrong scores 0
