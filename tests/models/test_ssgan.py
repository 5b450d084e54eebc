import pytest
import torch
import torch.nn.functional as F

from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.data.base import DataInfo, Split
from gankit.errors import ConfigError
from gankit.models import build_model
from gankit.models.classifier import Classifier, classification_error, train_supervised
from gankit.models.ssgan import (
    SemiSupervisedGAN,
    feature_matching,
    real_logit,
    real_probability,
)
from gankit.objectives.gan import NonSaturating
from gankit.data.batch import Batch
from tests.models.conditional_helpers import tiny
from tests.models.representation_helpers import check_determinism_and_resume

DIGITS = DataInfo("digits", "image", (1, 8, 8), 10)
SS = ("model.name=ssgan", "data.labels=20", "train.steps=6", "model.params.labelled_batch=8")


def test_real_probability_is_z_over_z_plus_one():
    logits = torch.tensor([[0.0, 0.0], [1.0, -2.0], [3.0, 0.5], [-4.0, -5.0]], dtype=torch.float64)
    Z = logits.exp().sum(1)
    torch.testing.assert_close(real_probability(logits), Z / (Z + 1), rtol=1e-15, atol=0)
    assert real_probability(logits)[0] == pytest.approx(2.0 / 3.0, abs=1e-15)  # two zero logits: Z = 2
    torch.testing.assert_close(real_logit(logits), Z.log(), rtol=1e-15, atol=0)
    big = torch.tensor([[200.0, 199.0], [-200.0, -300.0]], dtype=torch.float64)  # exp overflows / underflows
    p = real_probability(big)
    assert torch.isfinite(p).all() and p[0] == 1.0 and p[1] == pytest.approx(torch.tensor(-200.0).double().exp())


def test_feature_matching_closed_form():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]])  # mean (1, 1)
    assert float(feature_matching(real, fake)) == pytest.approx(1.0 + 4.0)


def _model_with(*overrides: str) -> SemiSupervisedGAN:
    torch.manual_seed(0)
    cfg = tiny(*overrides)
    return build_model(cfg, build_dataset(cfg.data).info, "cpu")


def _model() -> SemiSupervisedGAN:
    return _model_with(*SS)


def test_labelled_pool_holds_exactly_the_kept_labels():
    model = _model()
    assert len(model.labelled_y) == 20 and torch.equal(torch.bincount(model.labelled_y), torch.full((10,), 2))
    assert isinstance(model.D, Classifier) and model.D(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


def test_d_loss_is_supervised_ce_plus_gan_loss_on_logsumexp():
    model, obj = _model(), NonSaturating()
    model.D.eval()  # no input noise, so the check can recompute D's outputs
    real = torch.rand(6, 1, 8, 8) * 2 - 1
    torch.manual_seed(3)
    d = model.d_step(Batch(x=real, y=torch.full((6,), -1)))
    torch.manual_seed(3)
    idx = torch.randint(20, (8,))
    z = torch.randn(6, model.z_dim)
    with torch.no_grad():
        sup = F.cross_entropy(model.D(model.labelled_x[idx]), model.labelled_y[idx])
        unsup = obj.d_loss(torch.logsumexp(model.D(real), 1), torch.logsumexp(model.D(model.G(z)), 1))
    torch.testing.assert_close(d.loss.detach(), sup + unsup, rtol=1e-6, atol=0)
    torch.testing.assert_close(d.stats["sup_ce"], sup, rtol=1e-6, atol=0)


def test_g_step_is_feature_matching_on_d_features():
    model = _model()
    model.D.eval()
    real = torch.rand(6, 1, 8, 8) * 2 - 1
    torch.manual_seed(4)
    g = model.g_step(Batch(x=real))
    torch.manual_seed(4)
    with torch.no_grad():
        want = feature_matching(model.D(real, with_features=True)[1], model.D(model.G(torch.randn(6, model.z_dim)), with_features=True)[1])
    torch.testing.assert_close(g.loss.detach(), want, rtol=1e-6, atol=0)


def test_needs_labels():
    with pytest.raises(ConfigError, match="data.labels: ssgan needs at least one labelled"):
        cfg = tiny("model.name=ssgan", "data.labels=0")
        build_model(cfg, build_dataset(cfg.data).info, "cpu")


def test_determinism_and_resume(tmp_path):
    check_determinism_and_resume(tiny(*SS), tmp_path, {"G", "D", "G_ema"})


def test_test_error_and_supervised_baseline():
    x, y = torch.zeros(4, 3), torch.tensor([0, 1, 2, 1])
    net = torch.nn.Linear(3, 3)
    with torch.no_grad():
        net.weight.zero_()
        net.bias.copy_(torch.tensor([0.0, 1.0, 0.0]))  # always says class 1
    assert classification_error(net, Split(x, y)) == 0.5
    cfg = load_config(base=tiny(*SS).to_dict())
    a, b = train_supervised(cfg, steps=5, batch_size=8), train_supervised(cfg, steps=5, batch_size=8)
    assert a.test_error == b.test_error and a.fingerprint["labelled"] == 20
    assert all(torch.equal(p, q) for p, q in zip(a.net.state_dict().values(), b.net.state_dict().values()))
    assert 0.0 <= a.test_error <= 1.0 and a.fingerprint["n_test"] == 180


def test_run_ends_with_the_classifier_test_error(tmp_path, capsys):
    import json

    from gankit.engine.trainer import train

    cfg = load_config(base=tiny(*SS).to_dict(), overrides=["eval.at_end=true", "eval.n=50"])
    result = train(cfg, run_dir=tmp_path / "run", progress=False)
    figures = json.loads((result.run_dir / "model_figures.json").read_text())
    test = build_dataset(cfg.data).split("test")
    assert figures["values"]["classifier_error"] == classification_error(result.model.D, test)
    assert figures["fingerprint"]["n"] == len(test) == 180 and figures["fingerprint"]["labelled_train"] == 20
    assert "semi-supervised D: test error" in capsys.readouterr().out


MLP = ("net.name=mlp-image", "net.params.d_hidden=[16,8]", "net.params.g_hidden=[12]", "train.batch_size=20")


def test_mlp_image_d_is_data_initialised_and_keeps_hidden_scales(tmp_path):
    from gankit.engine.trainer import train
    from gankit.models.classifier import INIT_BATCH
    from gankit.nets.layers import is_weight_normed

    model = _model_with(*SS, *MLP)
    linears = [m for m in model.D.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 3 and all(is_weight_normed(m) for m in linears)
    first = linears[0]
    with torch.no_grad():  # the data-dependent init: unit-variance pre-activations on the init batch
        pre = first(build_dataset(tiny(*SS, *MLP).data).train.float_x()[:INIT_BATCH].flatten(1))
    torch.testing.assert_close(pre.std(0), torch.ones(16), atol=1e-4, rtol=0)
    result = train(tiny(*SS, *MLP), run_dir=tmp_path / "run", progress=False)
    trained = [m for m in result.model.D.modules() if isinstance(m, torch.nn.Linear)]
    scales = lambda ms: [m.parametrizations.weight.original0 for m in ms]  # noqa: E731
    assert all(torch.equal(a, b) for a, b in zip(scales(linears)[:2], scales(trained)[:2]))  # frozen
    assert not torch.equal(scales(linears)[2], scales(trained)[2])  # the head's scale trains
    assert not torch.equal(linears[0].parametrizations.weight.original1, trained[0].parametrizations.weight.original1)


def test_mlp_image_determinism_and_resume(tmp_path):
    check_determinism_and_resume(tiny(*SS, *MLP), tmp_path, {"G", "D", "G_ema"})
