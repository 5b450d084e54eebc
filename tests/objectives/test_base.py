"""Facts every objective shares: the optimal-D value, finite losses, gradient directions, config, training."""

import json
import math

import pytest
import torch

from gankit import cli
from gankit.plugins import load_config
from gankit.errors import ConfigError
from gankit.objectives.gan import gan_value
from gankit.registry import OBJECTIVES
from tests.conftest import TINY_VECTOR
from tests.objectives.helpers import (
    EXTRA,
    LOG4,
    all_objectives,
    expect,
    jsd,
    losses,
    per_point,
    toward_real,
    two_gaussians,
)

NEG = torch.tensor([-1e9], dtype=torch.float64)  # a logit whose log(1 - D) term is exactly 0
POS = torch.tensor([1e9], dtype=torch.float64)   # a logit whose log D term is exactly 0


def test_optimal_discriminator_on_two_gaussians_gives_minus_log4_plus_2jsd():
    _, p, q = two_gaussians()
    logit = torch.log(p) - torch.log(q)  # the logit of D* = p / (p + q), without rounding D* near 0 or 1
    real_terms = per_point(lambda l: gan_value(l, NEG), logit)  # log D*(x) at each grid point
    fake_terms = per_point(lambda l: gan_value(POS, l), logit)  # log(1 - D*(x)) at each grid point
    v = expect(p, real_terms) + expect(q, fake_terms)
    assert abs(float(v) - (-LOG4 + 2 * float(jsd(p, q)))) < 1e-6
    assert float(jsd(p, q)) > 0.1  # the two distributions really differ, so the check has teeth
    # any other D is worse for D: V(D*, G) is the maximum over D
    other = logit + 0.2 * torch.sin(torch.linspace(0, 7, len(p), dtype=torch.float64))
    v_other = expect(p, per_point(lambda l: gan_value(l, NEG), other)) + expect(
        q, per_point(lambda l: gan_value(POS, l), other))
    assert float(v_other) < float(v) - 1e-6


def test_every_registered_objective_is_covered():
    assert {o.name for o in all_objectives()} == set(OBJECTIVES.names())
    assert set(EXTRA) <= set(OBJECTIVES.names())


@pytest.mark.parametrize("obj", all_objectives(), ids=repr)
def test_losses_are_finite_on_random_outputs(obj):
    g = torch.Generator().manual_seed(1)
    for scale in (0.1, 1.0, 5.0):
        out = scale * torch.randn(3, 16, generator=g)
        if toward_real(obj) < 0:  # energies and losses: EBGAN's reconstruction errors are >= 0
            out = out.abs()
        d, gl = losses(obj, out[0], out[1], out[2])
        assert d.shape == () and gl.shape == ()
        assert torch.isfinite(d) and torch.isfinite(gl), (scale, d, gl)


@pytest.mark.parametrize("obj", all_objectives(), ids=repr)
def test_one_gradient_step_moves_outputs_the_right_way(obj):
    sign = toward_real(obj)
    g = torch.Generator().manual_seed(2)
    undecided = 0.3 + 0.05 * torch.randn(2, 8, generator=g, dtype=torch.float64)
    real_out = undecided[0].clone().requires_grad_(True)
    fake_out = undecided[1].clone().requires_grad_(True)
    d, _ = losses(obj, real_out, fake_out, fake_out.detach())
    d.backward()
    assert (real_out.grad * sign < 0).all(), real_out.grad  # descending moves real scores toward "real"
    assert (fake_out.grad * sign > 0).all(), fake_out.grad  # and fake scores away from it
    with torch.no_grad():  # one small step of gradient descent on the outputs lowers d_loss
        stepped_real, stepped_fake = real_out - 0.01 * real_out.grad, fake_out - 0.01 * fake_out.grad
    assert float(losses(obj, stepped_real, stepped_fake, fake_out.detach())[0]) < float(d.detach())
    assert float((stepped_real - real_out.detach()).sum()) * sign > 0

    # G: at fakes that D rejects, descending g_loss moves their scores toward "real"
    rejected = (-0.5 if sign > 0 else 0.3) + 0.05 * torch.randn(8, generator=g, dtype=torch.float64)
    fake_g = rejected.clone().requires_grad_(True)
    _, gl = losses(obj, real_out.detach(), fake_out.detach(), fake_g)
    gl.backward()
    assert (fake_g.grad * sign < 0).all(), fake_g.grad


@pytest.mark.parametrize("override, message", [
    ("objective.params={clip: -1}", "clip=-1: must be a number > 0"),
    ("objective.params={divergence: chi}", "divergence='chi': choose one of kl, reverse-kl"),
    ("objective.params={a: 1, b: 1}", "a=1: must differ from b=1"),
    ("objective.params={slope: 2}", "slope=2: must be in [0, 1]"),
    ("objective.params={margin: -1}", "margin=-1: must be a number > 0"),
    ("objective.params={lam: 0}", "lam=0: must be a number > 0"),
])
def test_invalid_params_are_config_errors(override, message):
    name = {"clip": "wgan", "divergence": "fgan", "a": "lsgan", "slope": "gls-gan", "margin": "ebgan",
            "lam": "loss-sensitive"}[override.split("{")[1].split(":")[0]]
    with pytest.raises(ConfigError, match=r"^objective\.params: " + message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(")):
        load_config(overrides=[f"objective.name={name}", override])


@pytest.mark.parametrize("name", ["wgan", "ebgan", "loss-sensitive"])
def test_objectives_with_step_hooks_need_the_plain_gan_model(name):
    with pytest.raises(ConfigError, match=rf"^objective\.name: {name} needs .* model 'cgan' does not provide; use model=gan$"):
        load_config(overrides=["model=cgan", f"objective.name={name}"])
    load_config(overrides=["model=cgan", "objective.name=hinge"])  # scores only: any model


def test_unknown_param_names_the_allowed_ones():
    with pytest.raises(ConfigError, match="objective.params.m: unknown parameter .* allowed: margin, pt_weight"):
        load_config(overrides=["objective.name=ebgan", "objective.params={m: 1}"])


# every registered objective, trained through the CLI on the tiny vector config
TRAIN_CASES = [(name, ["reg.gp.weight=10"] if name == "wgan-gp" else []) for name in OBJECTIVES.names()]


@pytest.mark.parametrize("name, extra", TRAIN_CASES, ids=[c[0] for c in TRAIN_CASES])
def test_gankit_train_runs_with_finite_losses(name, extra, tmp_path, capsys):
    run_dir = tmp_path / "run"
    argv = ["train", "--run-dir", str(run_dir)]
    for item in TINY_VECTOR + [f"objective.name={name}"] + extra:
        argv += ["--set", item]
    assert cli.main(argv) == 0
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [5, 10, 15, 20]
    for r in rows:
        assert all(math.isfinite(r[k]) for k in ("d_loss", "g_loss", "d_acc_real", "d_acc_fake")), r
    assert json.loads((run_dir / "config.json").read_text())["objective"]["name"] == name
