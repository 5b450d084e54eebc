"""The reg.* switches end to end: config checks that name the key, build-time effects on the nets, the
terms the GAN step adds, and a tiny training run with each switch on (finite losses, its stat logged)."""

import math
from pathlib import Path

import pytest
import torch
from torch.nn.utils import parametrize

from gankit.cli import main
from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.models import build_model
from gankit.regularizers import switched_on
from gankit.regularizers.minibatch import MinibatchDiscrimination
from gankit.regularizers.packing import Packed
from gankit.regularizers.spectral import NORMALISED
from gankit.data.batch import Batch
from tests.conftest import TINY_IMAGE, TINY_VECTOR

SHORT = ["train.steps=4", "train.log_every=2"]

# switch -> the stat it logs (None: a build-time switch, which has no loss term of its own)
SWITCHES = {
    "reg.gp.weight=10": "reg_gp",
    "reg.r1=1": "reg_r1",
    "reg.r2=1": "reg_r2",
    "reg.spectral_norm=true": None,
    "reg.ortho_jacobian.weight=0.1": "reg_ortho",
    "reg.pack=2": None,
    "reg.label_smoothing=0.1": None,
    "reg.feature_matching=1": "reg_fm",
    "reg.minibatch_discrimination=4": None,
}


@pytest.mark.parametrize("switch", list(SWITCHES))
@pytest.mark.parametrize("tiny", [TINY_VECTOR, TINY_IMAGE], ids=["vector", "image"])
def test_training_with_each_switch_gives_finite_losses(tmp_path: Path, tiny, switch):
    result = train(overrides=[*tiny, *SHORT, switch], run_dir=tmp_path / "run", progress=False)
    assert result.step == 4 and len(result.history) == 2
    for record in result.history:
        assert math.isfinite(record["d_loss"]) and math.isfinite(record["g_loss"])
        stat = SWITCHES[switch]
        if stat is not None:
            assert math.isfinite(record[stat]) and record[stat] > 0


def test_switched_on_lists_exactly_the_keys_that_are_on():
    cfg = load_config(overrides=[*TINY_VECTOR, "reg.r1=1", "reg.pack=2", "reg.gp.center=0"])
    assert switched_on(cfg.reg) == ["reg.r1", "reg.pack"]
    assert switched_on(load_config(overrides=TINY_VECTOR).reg) == []


@pytest.mark.parametrize("overrides,key", [
    (["objective.name=wgan", "reg.label_smoothing=0.1"], "reg.label_smoothing"),
    (["objective.name=lsgan", "reg.label_smoothing=0.1"], "reg.label_smoothing"),
    (["objective.name=ebgan", "reg.pack=2"], "reg.pack"),
    (["reg.pack=3"], "train.batch_size"),                      # 32 is not a multiple of 3
    (["reg.minibatch_discrimination=4", "reg.r1=1"], "reg.r1"),
    (["objective.name=wgan-gp"], "reg.gp.weight"),
])
def test_bad_combinations_name_the_key(overrides, key):
    with pytest.raises(ConfigError) as err:
        load_config(overrides=[*TINY_VECTOR, *overrides])
    assert str(err.value).startswith(f"{key}:") and "\n" not in str(err.value)


def test_a_model_that_does_not_apply_reg_rejects_the_switch():
    with pytest.raises(ConfigError, match=r"^reg\.gp: model 'cgan'"):
        load_config(overrides=[*TINY_IMAGE, "model=cgan", "reg.gp.weight=10"])


def test_feature_matching_needs_a_d_with_features():
    cfg = load_config(overrides=[*TINY_VECTOR, "objective.name=ebgan", "reg.feature_matching=1"])
    with pytest.raises(ConfigError, match=r"^reg\.feature_matching: this D \(EnergyAutoEncoder\)"):
        build_model(cfg, build_dataset(cfg.data).info, "cpu")


def test_cli_exits_2_with_one_line_naming_the_key(capsys):
    sets = [a for kv in [*TINY_VECTOR, "objective.name=hinge", "reg.label_smoothing=0.2"] for a in ("--set", kv)]
    assert main(["train", *sets]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "reg.label_smoothing" in err and "hinge" in err


def test_weight_clipping_with_spectral_norm_is_allowed_and_clips_the_raw_weights(tmp_path: Path):
    result = train(overrides=[*TINY_VECTOR, *SHORT, "objective.name=wgan", "reg.spectral_norm=true"],
                   run_dir=tmp_path / "run", progress=False)
    originals = [p for n, p in result.model.D.named_parameters() if n.endswith("weight.original")]
    assert originals and all(p.abs().max() <= 0.01 + 1e-7 for p in originals)


def test_build_time_switches_shape_the_discriminator():
    cfg = load_config(overrides=[*TINY_IMAGE, "reg.pack=4", "reg.minibatch_discrimination=3",
                                 "reg.minibatch_kernel_dim=2", "reg.spectral_norm=true"])
    model = build_model(cfg, build_dataset(cfg.data).info, "cpu")
    D = model.D
    assert isinstance(D, Packed) and D.k == 4
    first_conv = next(m for m in D.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == 4                          # 4 packed 1-channel digits
    mbd = D.inner.head[0]
    assert isinstance(mbd, MinibatchDiscrimination) and (mbd.kernels, mbd.kernel_dim) == (3, 2)
    assert all(parametrize.is_parametrized(m, "weight") for m in D.modules() if isinstance(m, NORMALISED))
    assert D(torch.randn(16, 1, 8, 8)).shape == (4,)
    assert model.G(torch.randn(2, 16)).shape == (2, 1, 8, 8)   # G is untouched by packing


def test_d_step_adds_the_penalties_to_the_objective_loss():
    cfg = load_config(overrides=[*TINY_VECTOR, "reg.r1=2", "reg.r2=3"])
    model = build_model(cfg, build_dataset(cfg.data).info, "cpu")
    real = torch.randn(32, 2)
    torch.manual_seed(0)
    d = model.d_step(Batch(x=real))
    assert set(d.stats) >= {"d_loss", "reg_r1", "reg_r2"}
    torch.testing.assert_close(d.loss.detach(), d.stats["d_loss"] + d.stats["reg_r1"] + d.stats["reg_r2"])
    torch.manual_seed(0)
    g = model.g_step(Batch(x=real))
    assert set(g.stats) == {"g_loss"}                            # no G-side switch is on


def test_label_smoothing_changes_the_d_step_loss_only():
    info = build_dataset(load_config(overrides=TINY_VECTOR).data).info
    real = torch.randn(32, 2)
    losses = {}
    for alpha in (0.0, 0.3):
        cfg = load_config(overrides=[*TINY_VECTOR, f"reg.label_smoothing={alpha}"])
        torch.manual_seed(0)
        model = build_model(cfg, info, "cpu")
        torch.manual_seed(1)  # the same z for the step and for the hand-made loss
        with torch.no_grad():
            fake = model.G(model.sample_z(32, "cpu"))
            expected = model.objective.d_loss_smoothed(model.D(real), model.D(fake), alpha)
        torch.manual_seed(1)
        losses[alpha] = model.d_step(Batch(x=real)).loss.detach()
        torch.testing.assert_close(losses[alpha], expected)
    assert not torch.allclose(losses[0.0], losses[0.3])


def test_resume_with_every_build_time_switch_is_bitwise_identical(tmp_path: Path):
    # spectral norm's power-iteration vectors, the packed D and the minibatch layer all live in the
    # checkpoint: stopping at step 2 and resuming to 4 equals training to 4 at once.
    on = ["reg.spectral_norm=true", "reg.pack=2", "reg.minibatch_discrimination=3", "reg.ortho_jacobian.weight=0.1",
          "reg.feature_matching=1", "train.checkpoint_every=2"]
    train(overrides=[*TINY_VECTOR, *on, "train.steps=2"], run_dir=tmp_path / "a", progress=False)
    resumed = train(resume=tmp_path / "a", overrides=["train.steps=4"], progress=False)
    straight = train(overrides=[*TINY_VECTOR, *on, "train.steps=4"], run_dir=tmp_path / "b", progress=False)
    for name in ("G", "D"):
        a, b = resumed.model.nets[name].state_dict(), straight.model.nets[name].state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
