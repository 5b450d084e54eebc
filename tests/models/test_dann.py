"""Tests of gankit/models/dann.py: gradient reversal, the lambda schedule, params, and a tiny run."""

from __future__ import annotations

import json
import math

import pytest
import torch

from gankit.cli import main
from gankit.data.base import DataInfo
from gankit.data.batch import Batch
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.models.dann import DomainClassifier, build_dann, grl_lambda, reverse_gradient
from gankit.plugins import load_config
from tests.engine.test_trainer import assert_same, weights

TWO = DataInfo("two", "image", (3, 28, 28), 10, extra_fields=(("x_target", (3, 28, 28)),))
ONE = DataInfo("one", "image", (3, 28, 28), 10)


@pytest.mark.parametrize("lam", [0.0, 0.37, 1.0, 2.5])
def test_gradient_reversal_is_identity_forward_and_minus_lambda_backward(lam):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 7, generator=g, requires_grad=True)
    upstream = torch.randn(5, 7, generator=g)
    y = reverse_gradient(x, lam)
    assert torch.equal(y, x)
    y.backward(upstream)
    assert torch.equal(x.grad, -torch.tensor(lam, dtype=torch.float32) * upstream)
    assert torch.allclose(x.grad, -lam * upstream, rtol=0, atol=0)


def test_the_domain_classifier_hands_features_minus_lambda_times_its_own_gradient():
    torch.manual_seed(0)
    D, f = DomainClassifier(12, 8), torch.randn(6, 12)
    plain = f.clone().requires_grad_()
    D.net(plain).sum().backward()  # the same layers without the reversal
    for lam in (0.25, 1.0):
        reversed_ = f.clone().requires_grad_()
        out = D(reversed_, lam)
        assert torch.equal(out, D.net(f).squeeze(1))
        out.sum().backward()
        assert torch.equal(reversed_.grad, -torch.tensor(lam) * plain.grad)


def test_lambda_schedule_closed_form():
    assert grl_lambda(0.0) == 0.0
    assert grl_lambda(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1, abs=1e-15)
    assert grl_lambda(0.5) == pytest.approx(math.tanh(2.5), abs=1e-15)  # 2 / (1 + e^-x) - 1 = tanh(x / 2)
    assert grl_lambda(0.5) == pytest.approx(0.9866142981514303, abs=1e-15)
    assert grl_lambda(1.0) == pytest.approx(math.tanh(5.0), abs=1e-15) and grl_lambda(1.0) < 1.0
    assert grl_lambda(1.0, gamma=2.0, lambda_max=0.5) == pytest.approx(0.5 * math.tanh(1.0), abs=1e-15)


def _cfg(*overrides: str):
    return load_config(overrides=["model=dann", "train.steps=8", *overrides])


def test_the_model_counts_its_steps_and_follows_the_schedule():
    torch.manual_seed(0)
    model = build_dann(_cfg(), TWO, "cpu")
    batch = Batch(x=torch.randn(4, 3, 28, 28), y=torch.arange(4), x_target=torch.randn(4, 3, 28, 28))
    seen = []
    for _ in range(10):
        seen.append(float(model.g_step(batch).stats["lambda"]))
    expected = [grl_lambda(min(k / 8, 1.0)) for k in range(10)]
    assert seen == pytest.approx(expected, abs=1e-7) and seen[0] == 0.0 and seen[8] == seen[9]
    assert int(model.nets["progress"].count) == 10 and int(model.nets["progress"].total) == 8


def test_source_only_never_reads_the_target_and_leaves_the_domain_classifier_alone():
    torch.manual_seed(0)
    model = build_dann(_cfg("model.params.mode=source-only"), TWO, "cpu")
    result = model.g_step(Batch(x=torch.randn(4, 3, 28, 28), y=torch.arange(4)))  # no x_target at all
    result.loss.backward()
    assert set(result.stats) == {"ce", "acc"}
    assert all(p.grad is None for p in model.nets["D"].parameters())
    assert all(p.grad is not None for p in model.nets["F"].parameters())


@pytest.mark.parametrize("override, message", [
    ("model.params.mode=both", "model.params.mode: Input should be 'dann', 'source-only' or 'target-only'"),
    ("model.params.gamma=0", "model.params.gamma: Input should be greater than 0"),
    ("model.params.lambda_max=-1", "model.params.lambda_max: Input should be greater than 0"),
    ("model.params.hidden=0", "model.params.hidden: Input should be greater than or equal to 1"),
    ("model.params.domain_hidden=0", "model.params.domain_hidden: Input should be greater than or equal to 1"),
    ("model.params.domain_layers=5", "model.params.domain_layers: Input should be less than or equal to 4"),
    ("model.params.lr_schedule=paper", "model.params.lr_schedule: Extra inputs are not permitted"),
])
def test_every_param_rejects_bad_values_with_one_line(override, message):
    with pytest.raises(ConfigError) as e:
        build_dann(_cfg(override), TWO, "cpu")
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_domain_classifier_width_and_depth():
    model = build_dann(_cfg("model.params.domain_hidden=7", "model.params.domain_layers=2"), TWO, "cpu")
    shapes = [tuple(m.weight.shape) for m in model.nets["D"].net if isinstance(m, torch.nn.Linear)]
    assert shapes == [(7, model.nets["F"].dim), (7, 7), (1, 7)]
    assert [m.out_features for m in model.nets["C"].net if isinstance(m, torch.nn.Linear)] == [100, 100, 10]


def test_domain_accuracy_splits_into_the_source_and_target_halves():
    torch.manual_seed(0)
    model = build_dann(_cfg(), TWO, "cpu")
    batch = Batch(x=torch.randn(6, 3, 28, 28), y=torch.arange(6), x_target=torch.randn(6, 3, 28, 28))
    stats = model.g_step(batch).stats
    with torch.no_grad():
        logit = model.nets["D"](model.nets["F"](torch.cat([batch.x, batch["x_target"]])), 0.0)
    assert float(stats["domain_acc_source"]) == float((logit[:6] <= 0).float().mean())
    assert float(stats["domain_acc_target"]) == float((logit[6:] > 0).float().mean())
    assert float(stats["domain_acc"]) == pytest.approx((float(stats["domain_acc_source"])
                                                        + float(stats["domain_acc_target"])) / 2, abs=1e-7)


def test_batchnorm_in_the_feature_extractor():
    model = build_dann(_cfg("model.params.batchnorm=true"), TWO, "cpu")
    assert [m.num_features for m in model.nets["F"].net if isinstance(m, torch.nn.BatchNorm2d)] == [32, 48]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in build_dann(_cfg(), TWO, "cpu").nets["F"].net)


def test_mode_and_data_must_fit():
    with pytest.raises(ConfigError, match="model.params.mode: dann needs a two-domain dataset"):
        build_dann(_cfg(), ONE, "cpu")
    with pytest.raises(ConfigError, match="model.params.mode: target-only trains on the target's labels"):
        build_dann(_cfg("model.params.mode=target-only"), TWO, "cpu")
    with pytest.raises(ConfigError, match="data.name: dann's feature extractor .* at least 16 px, got 8"):
        build_dann(_cfg("model.params.mode=source-only"), DataInfo("digits", "image", (1, 8, 8), 10), "cpu")


def test_cli_exits_2_with_one_line_for_a_bad_param(capsys):
    assert main(["train", "--set", "model=dann", "--set", "data.name=digits28",
                 "--set", "model.params.gamma=-1"]) == 2
    err = capsys.readouterr().err
    assert "model.params.gamma: Input should be greater than 0" in err and err.count("\n") == 1


def _register_tiny_two_domain() -> None:
    """digits28 -> its negative (-x): a two-domain dataset that builds in a fraction of a second."""
    from gankit.data.base import Dataset, Split
    from gankit.data.domains import load_digits28, make_two_domain
    from gankit.registry import DATASETS

    def build(cfg):
        d28 = load_digits28()
        negative = Dataset(DataInfo("negdigits28", "image", d28.info.shape, 10),
                           {k: Split(-s.x, s.y) for k, s in d28.splits.items()})
        return make_two_domain(d28, negative)

    if "test-two-domain" not in DATASETS:
        DATASETS.register("test-two-domain", "digits28 -> negative digits28 (tests only)")(build)


TINY = ["model=dann", "data.name=test-two-domain", "train.steps=12", "train.batch_size=16",
        "train.checkpoint_every=5", "train.log_every=4", "train.tensorboard=false", "eval.at_end=true",
        "model.params.hidden=16", "model.params.domain_hidden=16"]


def test_a_tiny_dann_run_is_deterministic_reports_and_resumes_bitwise(tmp_path):
    _register_tiny_two_domain()
    cfg = load_config(overrides=TINY)
    full = train(cfg, run_dir=tmp_path / "full", progress=False)
    again = train(cfg, run_dir=tmp_path / "again", progress=False)
    assert_same(weights(full.run_dir), weights(again.run_dir))
    assert full.G_ema is None and full.quality is None and not (full.run_dir / "samples").exists()
    tensors = weights(full.run_dir)
    assert {k.split(".")[0] for k in tensors} == {"F", "C", "D", "progress", "opt_g", "rng"}
    assert int(tensors["progress.count"]) == 12 and int(tensors["progress.total"]) == 12
    figures = json.loads((full.run_dir / "model_figures.json").read_text())
    assert set(figures["values"]) == {"target_accuracy", "source_accuracy"}
    assert figures["fingerprint"]["n"] == 180 and figures["fingerprint"]["n_source"] == 180  # digits28's test split
    assert figures["fingerprint"]["target"] == "negdigits28" and figures["fingerprint"]["mode"] == "dann"
    assert [r["step"] for r in full.history] == [4, 8, 12]
    assert {"ce", "acc", "domain_loss", "domain_acc", "lambda"} <= set(full.history[0])
    assert full.history[0]["lambda"] < full.history[1]["lambda"] < full.history[2]["lambda"]
    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == 7)
    assert part.interrupted and part.step == 7
    resumed = train(resume=part.run_dir, progress=False)
    assert_same(weights(full.run_dir), weights(resumed.run_dir))
    other = train(load_config(overrides=[*TINY, "seed=1"]), run_dir=tmp_path / "other", progress=False)
    assert not torch.equal(weights(other.run_dir)["F.net.0.weight"], tensors["F.net.0.weight"])
