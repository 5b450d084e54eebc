import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, Normal, Uniform

from gankit.data.base import DataInfo
from gankit.data.batch import Batch
from gankit.engine.trainer import _freeze, _unfreeze
from gankit.errors import ConfigError
from gankit.models import build_model
from gankit.models.infogan import (
    InfoGAN,
    InfoGANPrior,
    code_class_matching,
    mutual_information_bound,
)
from tests.conftest import TINY_VECTOR
from tests.models.conditional_helpers import check_determinism, check_resume, tiny

DIGITS = DataInfo("digits", "image", (1, 8, 8), 10)


def test_mi_bound_is_entropy_for_a_perfect_q_and_zero_for_a_uniform_one():
    cat = torch.arange(10).repeat(3)
    cont = torch.empty(30, 0)
    perfect = F.one_hot(cat, 10).double() * 1e4  # Q puts all its mass on the true code
    l_cat, l_cont = mutual_information_bound(perfect, cat, cont, cont)
    assert l_cat.item() == pytest.approx(math.log(10), abs=1e-12) and l_cont.item() == 0.0
    l_cat, _ = mutual_information_bound(torch.zeros(30, 10, dtype=torch.float64), cat, cont, cont)
    assert l_cat.item() == pytest.approx(0.0, abs=1e-12)  # uniform Q: log(1/K) + log K
    # continuous codes with Q's mean on the true value: C * (log 2 - log(2 pi) / 2) for unit-variance Q
    c = torch.rand(30, 2, dtype=torch.float64) * 2 - 1
    _, l_cont = mutual_information_bound(perfect, cat, c, c)
    assert l_cont.item() == pytest.approx(2 * (math.log(2) - 0.5 * math.log(2 * math.pi)), abs=1e-12)


def test_mi_bound_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    logits, cat = torch.randn(50, 10, generator=g, dtype=torch.float64), torch.randint(10, (50,), generator=g)
    mean, cont = torch.randn(50, 2, generator=g, dtype=torch.float64), torch.rand(50, 2, generator=g, dtype=torch.float64) * 2 - 1
    l_cat, l_cont = mutual_information_bound(logits, cat, mean, cont)
    h_cat = Categorical(logits=torch.zeros(10, dtype=torch.float64)).entropy()
    h_cont = Uniform(torch.tensor(-1.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)).entropy() * 2
    torch.testing.assert_close(l_cat, Categorical(logits=logits).log_prob(cat).mean() + h_cat)
    torch.testing.assert_close(l_cont, Normal(mean, 1.0).log_prob(cont).sum(1).mean() + h_cont)
    assert InfoGANPrior(3, 10, 2).entropy() == pytest.approx(float(h_cat + h_cont), abs=1e-12)


def test_prior_rows_split_back_into_their_codes():
    prior = InfoGANPrior(6, 10, 2)
    rows = prior.sample(500, seed=0)
    assert rows.shape == (500, 18) and prior.dim == 18
    z, cat, cont = prior.split(rows)
    assert torch.equal(prior.join(z, cat, cont), rows)
    assert cont.min() >= -1 and cont.max() <= 1 and cont.abs().max() > 0.95
    assert set(cat.tolist()) == set(range(10))
    assert torch.equal(prior.labels(prior.sample(4, seed=1, y=torch.tensor([3, 3, 0, 9]))), torch.tensor([3, 3, 0, 9]))


def test_grid_traverses_the_codes():
    prior = InfoGANPrior(6, 10, 2)
    grid = prior.grid(64, seed=0)
    assert grid.shape == (100, 18)
    z, cat, cont = prior.split(grid)
    assert torch.equal(cat, torch.arange(10).repeat_interleave(10))  # one category per row
    assert torch.equal(z, z[:1].expand(100, -1))  # one z for the whole traversal
    torch.testing.assert_close(cont[:, 0].view(10, 10), torch.linspace(-1, 1, 10).expand(10, -1))
    assert torch.equal(cont[:, 1], torch.zeros(100))
    second = prior.split(prior.traversal(1, seed=0, steps=5, span=2.0))[2]
    assert torch.equal(second[:5, 1], torch.linspace(-2, 2, 5)) and torch.equal(second[:, 0], torch.zeros(50))
    with pytest.raises(ValueError, match="continuous code 2"):
        prior.traversal(2, seed=0)


def test_code_class_matching_finds_the_best_permutation():
    labels = np.array([3, 3, 1, 1, 0, 0, 2, 2])
    codes = np.array([0, 0, 1, 1, 2, 2, 3, 1])  # code 0 -> 3, 1 -> 1, 2 -> 0, 3 -> 2 (one 2 sits in code 1)
    acc, mapping = code_class_matching(codes, labels, 4)
    assert acc == 7 / 8 and mapping.tolist() == [3, 1, 0, 2]
    perm = np.random.default_rng(0).permutation(10)
    acc, mapping = code_class_matching(np.arange(1000) % 10, perm[np.arange(1000) % 10], 10)
    assert acc == 1.0 and mapping.tolist() == perm.tolist()


def test_q_trains_with_g_and_the_shared_body_with_d():
    model = build_model(tiny("model=infogan"), DIGITS, "cpu")
    q = {id(p) for p in model.Q.parameters()}
    assert q <= {id(p) for p in model.g_parameters()} and not q & {id(p) for p in model.d_parameters()}
    assert set(model.nets) == {"G", "D", "Q"}
    real = torch.rand(8, 1, 8, 8) * 2 - 1
    frozen = _freeze(model)  # what the trainer does around G's step
    model.g_step(Batch(x=real)).loss.backward()
    _unfreeze(frozen)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.Q.parameters())
    assert all(p.grad is None for p in model.D.parameters())
    # D's loss carries -lambda * L_I of the fakes, so D's body also gets the information gradient
    torch.manual_seed(0)
    d = model.d_step(Batch(x=real))
    info = (d.stats["d_adv_loss"] - d.loss).item()
    torch.manual_seed(0)
    rows = model.prior.sample(8)
    with torch.no_grad():
        _, cat, cont = model.prior.split(rows)
        logits, mean = model.Q(model.D(model.G(rows), with_features=True)[1])
        expected = sum(mutual_information_bound(logits, cat, mean, cont)).item()
    assert info == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_q_can_train_with_d_as_in_the_authors_code():
    """q_with=discriminator: Q is D's (updated in D's step by D's loss, which carries -lambda * L_I), and
    G's step, with D and Q frozen, still sends the information gradient through Q to G."""
    model = build_model(tiny("model=infogan", "model.params.q_with=discriminator"), DIGITS, "cpu")
    q = {id(p) for p in model.Q.parameters()}
    assert q <= {id(p) for p in model.d_parameters()} and not q & {id(p) for p in model.g_parameters()}
    real = torch.rand(8, 1, 8, 8) * 2 - 1
    model.d_step(Batch(x=real)).loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.Q.parameters())
    model.Q.zero_grad(set_to_none=True)
    frozen = _freeze(model)
    assert q <= {id(p) for p in frozen}
    torch.manual_seed(0)
    loss = model.g_step(Batch(x=real)).loss
    g_info = torch.autograd.grad(loss, list(model.G.parameters()))
    _unfreeze(frozen)
    assert all(p.grad is None for p in model.Q.parameters())
    # the same step without the information term gives G another gradient: L_I reaches G through Q
    model.info_weight = 0.0
    torch.manual_seed(0)
    g_plain = torch.autograd.grad(model.g_step(Batch(x=real)).loss, list(model.G.parameters()))
    assert any(not torch.allclose(a, b) for a, b in zip(g_info, g_plain))
    with pytest.raises(ConfigError, match=r"^model.params.q_with: "):
        build_model(tiny("model=infogan", "model.params.q_with=nobody"), DIGITS, "cpu")


def test_the_codes_change_g_output():
    model = build_model(tiny("model=infogan"), DIGITS, "cpu")
    model.G.eval()
    rows = model.prior.traversal(0, seed=0, steps=3)  # same z, codes vary
    out = model.G(rows).flatten(1)
    assert torch.cdist(out, out).fill_diagonal_(1.0).min() > 1e-4


def test_infogan_trains_without_labels_and_is_deterministic(tmp_path):
    cfg = tiny("model=infogan", "model.params.categorical=4", "model.params.continuous=1", base=TINY_VECTOR)
    check_determinism(cfg, tmp_path, {"G", "D", "Q", "G_ema"})


def test_infogan_resumes_bitwise(tmp_path):
    check_resume(tiny("model=infogan", "train.steps=8"), tmp_path)


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"^model.params.categorical: .*greater than or equal to 2"):
        build_model(tiny("model=infogan", "model.params.categorical=1"), DIGITS, "cpu")
    with pytest.raises(ConfigError, match=r"^model.params.lamda: Extra inputs.*takes: categorical, continuous"):
        build_model(tiny("model=infogan", "model.params.lamda=1"), DIGITS, "cpu")


def test_mnist5k_preset_uses_the_papers_learning_rates():
    """Chen et al. 2016, App. C.1: 2e-4 for D, 1e-3 for G; Q (in g_parameters) trains at G's rate."""
    from gankit.plugins import load_config

    cfg = load_config(preset="mnist5k-infogan")
    assert (cfg.train.lr_d, cfg.train.lr_g) == (2e-4, 1e-3)
    assert cfg.model.params == {"categorical": 10, "continuous": 2, "info_weight": 1.0} and cfg.net.z_dim == 62


def test_diffaugment_reaches_q_through_d_features():
    """reg.diffaugment wraps D: in training mode Q's input is D's features of T(G(z)) (so Q must read the
    code off transformed images), in eval mode the plain D's; the wrapped D keeps its features' size."""
    from gankit.regularizers.diffaugment import Augmented

    model = build_model(tiny("model=infogan", "reg.diffaugment=[translation,cutout]"), DIGITS, "cpu")
    assert isinstance(model.D, Augmented)
    x = torch.rand(8, 1, 8, 8) * 2 - 1
    torch.manual_seed(3)
    _, f_wrapped = model.D(x, with_features=True)
    torch.manual_seed(3)
    _, f_by_hand = model.D.inner(model.D.input(x), with_features=True)
    _, f_plain = model.D.inner(x, with_features=True)
    assert torch.equal(f_wrapped, f_by_hand) and not torch.allclose(f_wrapped, f_plain)
    model.D.eval()
    assert torch.equal(model.D(x, with_features=True)[1], model.D.inner(x, with_features=True)[1])
    model.D.train()
    torch.manual_seed(0)
    d = model.d_step(Batch(x=x))  # D's information term is computed on the transformed fakes
    torch.manual_seed(0)
    rows = model.prior.sample(8)
    with torch.no_grad():
        fake = model.G(rows)
        model.D(x)  # the real batch's draw comes first, as in d_step
        _, features = model.D(fake, with_features=True)
        _, cat, cont = model.prior.split(rows)
        logits, mean = model.Q(features)
        expected = sum(mutual_information_bound(logits, cat, mean, cont)).item()
    assert (d.stats["d_adv_loss"] - d.loss).item() == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_d_penalties_join_d_loss():
    """reg.r1 adds gamma/2 E||grad D(x)||^2 on the real batch to D's loss, logged as reg_r1."""
    from gankit.regularizers.grad_norm import r1_penalty

    model = build_model(tiny("model=infogan", "reg.r1=2.0"), DIGITS, "cpu")
    x = torch.rand(8, 1, 8, 8) * 2 - 1
    torch.manual_seed(0)
    d = model.d_step(Batch(x=x))
    torch.manual_seed(0)
    plain = InfoGAN(model.G, model.D, model.Q, model.objective, model.prior).d_step(Batch(x=x))
    r1 = r1_penalty(model.D, x, 2.0)
    assert d.stats["reg_r1"].item() == pytest.approx(r1.item(), rel=1e-6)
    assert d.loss.item() == pytest.approx(plain.loss.item() + r1.item(), rel=1e-5)


def test_reg_switches_infogan_cannot_apply_are_refused_by_name():
    from gankit.plugins import load_config

    for key, value in [("reg.pack", "2"), ("reg.minibatch_discrimination", "8"), ("reg.feature_matching", "1")]:
        with pytest.raises(ConfigError, match=rf"^{key}: model 'infogan' applies only reg.diffaugment, "):
            load_config(preset="mnist5k-infogan", overrides=[f"{key}={value}"])
    load_config(preset="mnist5k-infogan", overrides=["reg.diffaugment=[translation]", "reg.spectral_norm=true"])


def test_infogan_with_diffaugment_resumes_bitwise(tmp_path):
    check_resume(tiny("model=infogan", "reg.diffaugment=[color,translation,cutout]", "train.steps=8"), tmp_path)
