"""Tests of gankit/models/cogan.py and gankit/nets/coupled.py: the weight sharing is real (and absent in the
control), the losses by hand, one z for both generators, grids, pixel agreement on crafted generators,
config errors, determinism and bitwise resume of a tiny run."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gankit.cli import main
from gankit.data import build_dataset
from gankit.data.unpaired import transform_images
from gankit.errors import ConfigError
from gankit.models import build_model
from gankit.models.cogan import CoGAN, build_cogan, pixel_agreement
from gankit.nets.coupled import CoupledDiscriminator, CoupledGenerator
from gankit.plugins import load_config
from tests.models.conditional_helpers import check_determinism, check_resume, tiny

UNPAIRED = ["data.name=mnist5k-unpaired-negative", "model=cogan", "train.ema=false"]


def tiny_cogan(*overrides: str):
    return tiny(*UNPAIRED, *overrides)


@pytest.fixture(scope="module")
def negative():
    return build_dataset(load_config(overrides=["data.name=mnist5k-unpaired-negative"]).data)


def _model(info, *overrides: str) -> CoGAN:
    torch.manual_seed(0)
    return build_model(tiny_cogan(*overrides), info, "cpu")


def _ids(module: torch.nn.Module) -> set[int]:
    return {id(p) for p in module.parameters()}


def _g_path(G: CoupledGenerator, domain: int) -> set[int]:
    return _ids(G.trunk(domain)) | _ids(G.heads[domain - 1])


def _d_path(D: CoupledDiscriminator, domain: int) -> set[int]:
    return _ids(D.firsts[domain - 1]) | _ids(D.tail(domain))


def test_shared_layers_are_the_same_parameters(negative):
    model = _model(negative.info)
    G, D = model.nets["G"], model.nets["D"]
    assert G.trunk(1) is G.trunk(2) and len(G.trunks) == 1 and D.tail(1) is D.tail(2) and len(D.tails) == 1
    shared_g, shared_d = _g_path(G, 1) & _g_path(G, 2), _d_path(D, 1) & _d_path(D, 2)
    assert shared_g == _ids(G.trunks[0]) and shared_d == _ids(D.tails[0])
    assert _ids(G.heads[0]).isdisjoint(_ids(G.heads[1])) and _ids(D.firsts[0]).isdisjoint(_ids(D.firsts[1]))
    # the paper's cut: G shares everything but its last layer, D everything but its first
    assert [type(m).__name__ for m in G.heads[0]] == ["ConvTranspose2d", "Tanh"]
    assert [type(m).__name__ for m in D.firsts[0]] == ["Conv2d", "LeakyReLU"]
    # each shared Parameter is counted once by the optimisers and stored once in a checkpoint
    for params in (model.g_parameters(), model.d_parameters()):
        assert len(params) == len({id(p) for p in params})
    assert not any(k.startswith("trunks.1") for k in G.state_dict())


def test_the_control_shares_nothing(negative):
    model = _model(negative.info, "model.params.share=false")
    G, D = model.nets["G"], model.nets["D"]
    assert not model.share and G.trunk(1) is not G.trunk(2) and D.tail(1) is not D.tail(2)
    assert _g_path(G, 1).isdisjoint(_g_path(G, 2)) and _d_path(D, 1).isdisjoint(_d_path(D, 2))
    shared = _model(negative.info)
    # the same layers: the control holds the shared ones twice
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(G) == n(shared.nets["G"]) + n(shared.nets["G"].trunks[0])
    assert n(D) == n(shared.nets["D"]) + n(shared.nets["D"].tails[0])


@pytest.mark.parametrize("share", [True, False])
def test_a_step_on_domain_1_moves_domain_2_exactly_where_shared(negative, share):
    model = _model(negative.info, f"model.params.share={str(share).lower()}")
    G = model.nets["G"]
    before2 = {k: v.clone() for k, v in G.trunk(2).state_dict().items()}
    head2 = {k: v.clone() for k, v in G.heads[1].state_dict().items()}
    z = torch.randn(8, G.z_dim, generator=torch.Generator().manual_seed(1))
    G.eval()
    out2 = G(z, domain=2)
    G.train()
    opt = torch.optim.SGD(G.parameters(), lr=0.1)
    G(z, domain=1).pow(2).mean().backward()  # a loss of domain 1 only
    opt.step()
    after1, after2 = G.trunk(1).state_dict(), G.trunk(2).state_dict()
    moved = [k for k in before2 if not torch.equal(before2[k], after2[k])]
    assert all(torch.equal(head2[k], v) for k, v in G.heads[1].state_dict().items())  # domain 2's own head: untouched
    G.eval()
    if share:  # domain 2's first layers took the same step as domain 1's: they are one set of weights
        assert moved and all(torch.equal(after1[k], after2[k]) for k in after1)
        assert not torch.equal(G(z, domain=2), out2)
    else:
        assert not moved and torch.equal(G(z, domain=2), out2)


def test_both_domains_from_one_pass_equal_two_calls(negative):
    G = _model(negative.info).nets["G"].eval()
    z = torch.randn(5, G.z_dim)
    x1, x2 = G(z, both=True)
    assert torch.equal(x1, G(z, domain=1)) and torch.equal(x2, G(z, domain=2)) and torch.equal(G(z), x1)
    with pytest.raises(ValueError, match="domain must be 1 or 2"):
        G(z, domain=3)


def test_the_losses_are_two_gan_games_by_hand(negative):
    model = _model(negative.info)
    batch = negative.train.batch(torch.arange(6))
    torch.manual_seed(3)
    d = model.d_step(batch)
    torch.manual_seed(3)  # the same z, drawn as the step draws it: one z for both generators
    with torch.no_grad():
        fake1, fake2 = model.G(model.source.sample(6), both=True)
    games = [(model.D(batch.x, domain=1), model.D(fake1, domain=1)), (model.D(batch["x2"], domain=2),
                                                                        model.D(fake2, domain=2))]
    d_losses = [F.softplus(-r).mean() + F.softplus(f).mean() for r, f in games]  # non-saturating D loss
    torch.testing.assert_close(d.loss, d_losses[0] + d_losses[1], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(d.stats["d2_loss"], d_losses[1].detach(), rtol=1e-6, atol=1e-6)
    torch.manual_seed(4)
    g = model.g_step(batch)
    torch.manual_seed(4)
    fake1, fake2 = model.G(model.source.sample(6), both=True)
    g_loss = F.softplus(-model.D(fake1, domain=1)).mean() + F.softplus(-model.D(fake2, domain=2)).mean()
    torch.testing.assert_close(g.loss, g_loss, rtol=1e-6, atol=1e-6)


def test_the_classifier_adds_cross_entropy_on_domain_1():
    ds = build_dataset(load_config(overrides=["data.name=digits28-to-mnist5k"]).data)
    model = _model(ds.info, "data.name=digits28-to-mnist5k", "model.params.class_weight=0.5")
    assert model.second == "x_target" and model.nets["G"].default_domain == 2  # samples render the target
    batch = ds.train.batch(torch.arange(6))
    plain = _model(ds.info, "data.name=digits28-to-mnist5k")
    plain.nets["D"].load_state_dict({k: v for k, v in model.nets["D"].state_dict().items() if not k.startswith("classes")})
    plain.nets["G"].load_state_dict(model.nets["G"].state_dict())
    torch.manual_seed(5)
    d = model.d_step(batch)
    torch.manual_seed(5)
    d_plain = plain.d_step(batch)
    _, logits = model.D(batch.x, domain=1, with_classes=True)
    ce = F.cross_entropy(logits, batch.y)
    torch.testing.assert_close(d.loss, d_plain.loss + 0.5 * ce, rtol=1e-6, atol=1e-6)
    torch.manual_seed(5)  # source images without labels (y = -1) add no class loss
    d_unlabelled = model.d_step(batch.replace(y=torch.full_like(batch.y, -1)))
    torch.testing.assert_close(d_unlabelled.loss, d_plain.loss, rtol=1e-6, atol=1e-6)
    fig = model.final_figures(ds, "test")
    test = ds.split("test")
    pred = model.nets["D"].eval()(test.float_x(), domain=2, with_classes=True)[1].argmax(1)
    assert fig["values"]["target_accuracy"] == float((pred == test.y).double().mean())
    assert fig["fingerprint"]["n_target"] == 500 and len(fig["lines"]) == 1 and "target test accuracy" in fig["lines"][0]


def test_sample_pair_shares_one_z_and_grids_are_row_pairs(negative):
    model = _model(negative.info)
    G = model.nets["G"].eval()
    z = model.source.sample(10, seed=7)
    x1, x2 = model.sample_pair(10, seed=7)
    assert torch.equal(x1, G(z, domain=1)) and torch.equal(x2, G(z, domain=2))
    assert torch.equal(model.sample(10, seed=7), x1)  # FID & co. see domain 1, the data's x
    tiles = model.sample_grid(64, seed=0)
    g1, g2 = model.sample_pair(32, seed=0)
    assert tiles.shape == (64, 1, 28, 28) and math.isqrt(len(tiles)) == 8
    rows = tiles.reshape(4, 2, 8, 1, 28, 28)  # 4 pairs of rows of 8
    assert torch.equal(rows[:, 0].reshape(32, 1, 28, 28), g1) and torch.equal(rows[:, 1].reshape(32, 1, 28, 28), g2)
    assert model.sample_grid(25, seed=0).shape[0] == 20  # 5 columns, 2 pairs of rows


def test_pixel_agreement_on_crafted_images():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(4, 1, 6, 6, generator=g) * 2 - 1
    assert torch.equal(pixel_agreement(a, a), torch.ones(4, dtype=torch.float64))
    assert torch.equal(pixel_agreement(a, -a), torch.zeros(4, dtype=torch.float64))  # no value of a is 0
    half = a.clone()
    half[..., :3] = -half[..., :3]  # the left half flipped
    assert torch.equal(pixel_agreement(a, half), torch.full((4,), 0.5, dtype=torch.float64))
    assert pixel_agreement(torch.tensor([[0.0, 0.1]]), torch.tensor([[-0.3, 0.2]])).item() == 1.0  # 0 is black
    with pytest.raises(ValueError, match="one shape"):
        pixel_agreement(a, a[:2])


def test_a_generator_that_is_the_transform_agrees_exactly(negative):
    """G2 = -G1 is the negative transform: agreement 1, and a G2 that ignores z only agrees by chance."""
    model = _model(negative.info)
    G = model.nets["G"]
    with torch.no_grad():  # tanh is odd, so negating the last layer's weights gives G2(z) = -G1(z) exactly
        G.heads[1][0].weight.copy_(-G.heads[0][0].weight)
        G.heads[1][0].bias.copy_(-G.heads[0][0].bias)
    x1, x2 = model.sample_pair(40, seed=0)
    assert torch.equal(x2, -x1)
    a = model.agreement("negative", n=40)
    assert a["agreement"] == 1.0 and a["chance"] < 0.95
    assert a["chance"] == float(pixel_agreement(transform_images("negative", x1), model.sample_pair(40, 1)[1]).mean())
    fig = model.final_figures(negative, "test")
    assert fig["values"]["pixel_agreement"] == model.agreement("negative")["agreement"]
    assert fig["fingerprint"]["transform"] == "negative" and fig["fingerprint"]["share"] is True
    assert len(fig["lines"]) == 1 and fig["lines"][0].startswith("CoGAN pixel agreement")


@pytest.mark.parametrize("override,key", [
    ("model.params.share=maybe", "model.params.share"),
    ("model.params.class_weight=-1", "model.params.class_weight"),
    ("model.params.class_weight=lots", "model.params.class_weight"),
    ("model.params.shared_layers=2", "model.params.shared_layers"),
    ("model.params.class_weight=1", "model.params.class_weight"),  # not a two-domain (labelled source) dataset
    ("net.name=mlp", "net.name"),
    ("net.params.d_norm=layer", "net.params.d_norm"),  # the coupled nets would not apply it
])
def test_bad_params_are_one_line_naming_the_key(negative, override, key):
    with pytest.raises(ConfigError) as err:
        build_cogan(tiny_cogan(override), negative.info, "cpu")
    assert str(err.value).startswith(key) and "\n" not in str(err.value)


def test_one_domain_data_is_refused_with_exit_2(tmp_path, capsys):
    rc = main(["train", "--set", "model=cogan", "--set", "data.name=digits", "--runs-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "data.name: model 'cogan' needs two image domains" in err
    assert not any(tmp_path.iterdir())
    rc = main(["train", "--preset", "mnist5k-cogan-edges", "--set", "model.params.share=2", "--runs-root",
               str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "error: model.params.share: Input should be a valid boolean" in err
    assert not any(tmp_path.iterdir())


def test_determinism(tmp_path):
    check_determinism(tiny_cogan(), tmp_path, {"G", "D"})


def test_bitwise_resume(tmp_path):
    check_resume(tiny_cogan("model.params.share=false"), tmp_path)
