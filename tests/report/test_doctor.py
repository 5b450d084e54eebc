"""The doctor's rules: each fires on a crafted run folder with its numbers, and stays silent on a healthy one."""

from __future__ import annotations

import copy
import math

import pytest

import gankit
from gankit.cli import main
from gankit.models.gan import GAN
from gankit.engine.faults import TrainingDiverged
from gankit.engine.trainer import train
from gankit.plugins import load_config
from gankit.report.doctor import RULES, Finding, diagnose, rule_d_wins
from gankit.report.record import read_run
from tests.report.crafted import (HEALTHY_CONFIG, HEALTHY_EVAL, HEALTHY_MEASUREMENTS, HEALTHY_QUALITY, craft,
                                  healthy_metrics)


def findings(folder) -> dict[str, Finding]:
    return {f.rule: f for f in diagnose(read_run(folder))}


def test_a_healthy_run_has_no_finding(tmp_path):
    assert findings(craft(tmp_path / "ok")) == {}
    assert gankit.doctor(tmp_path / "ok", measure_checkpoints=False) == []


def test_every_rule_is_tested_here():
    assert set(RULES) == {"d_wins", "non_finite", "collapse", "memorization", "fid_falling"}


# ---- D wins ---------------------------------------------------------------------------------------------


def pinned(first: int, last: int, n: int = 20) -> list[dict]:
    """Healthy logs with D's accuracy 99 % / 98 % at log indices first..last."""
    metrics = healthy_metrics(n)
    for m in metrics[first:last + 1]:
        m["d_acc_real"], m["d_acc_fake"] = 0.99, 0.98
    return metrics


def test_d_wins_fires_on_a_long_pinned_stretch_and_cites_it(tmp_path):
    f = findings(craft(tmp_path / "r", metrics=pinned(10, 19)))["d_wins"]  # steps 550..1000 of 1000
    assert f.values["first_step"] == 550 and f.values["last_step"] == 1000
    assert f.values["share"] == pytest.approx(0.5)  # from the log before (500) to 1000
    assert "from step 550 to 1000 (10 logs, 50 % of the run): real 99.0 %, fake 98.0 %" in f.evidence
    assert "nonsaturating" not in f.suggestion and "train.lr_d" in f.suggestion


def test_d_wins_with_minimax_suggests_the_non_saturating_loss(tmp_path):
    config = copy.deepcopy(HEALTHY_CONFIG)
    config["objective"]["name"] = "minimax"
    f = findings(craft(tmp_path / "r", metrics=pinned(0, 19), config=config))["d_wins"]
    assert f.values["share"] == 1.0 and "objective.name=nonsaturating" in f.suggestion


def test_d_wins_stays_silent_on_a_short_stretch_or_below_the_threshold(tmp_path):
    assert rule_d_wins(read_run(craft(tmp_path / "a", metrics=pinned(15, 18)))) is None  # 4 logs: 20 % of the run
    assert rule_d_wins(read_run(craft(tmp_path / "b", metrics=pinned(14, 18)))) is not None  # 5 logs: 25 %
    metrics = healthy_metrics(20, acc_real=0.97, acc_fake=0.96)  # mean 96.5 % < 97 %
    assert rule_d_wins(read_run(craft(tmp_path / "c", metrics=metrics))) is None


# ---- non-finite -----------------------------------------------------------------------------------------


def test_non_finite_fires_on_a_logged_nan_and_on_nan_weights(tmp_path):
    metrics = healthy_metrics()
    metrics[7]["g_loss"] = math.nan  # json writes NaN
    f = findings(craft(tmp_path / "a", metrics=metrics))["non_finite"]
    assert f.values == {"first_logged_step": 400} and "g_loss = nan at step 400" in f.evidence
    bad = copy.deepcopy(HEALTHY_MEASUREMENTS)
    bad["weights"]["non_finite"] = 12
    f = findings(craft(tmp_path / "b", doctor=bad))["non_finite"]
    assert f.values == {"non_finite_weights": 12} and "12 of 1000 weights in ckpt-0001000.safetensors" in f.evidence


def test_a_run_that_diverged_in_training_is_diagnosed(tmp_path, monkeypatch):
    g_step, calls = GAN.g_step, {"n": 0}

    def diverging(self, batch):
        out = g_step(self, batch)
        calls["n"] += 1
        if calls["n"] >= 7:
            out.loss = out.loss * float("nan")
        return out

    monkeypatch.setattr(GAN, "g_step", diverging)
    cfg = load_config(overrides=["data.name=ring8", "data.n_train=256", "net.name=mlp", "net.width=8", "net.depth=2",
                                 "net.z_dim=2", "train.steps=10", "train.batch_size=16", "train.checkpoint_every=5",
                                 "train.log_every=4", "train.tensorboard=false", "train.sample_every=0"])
    with pytest.raises(TrainingDiverged):
        train(cfg, run_dir=tmp_path / "r", progress=False)
    f = findings(tmp_path / "r")["non_finite"]
    assert f.values == {"diverged_step": 8}  # found at the log of step 8; the first bad step (7) is in the message
    assert "the run stopped at step 8: step 7: g_loss is not finite" in f.evidence


# ---- collapse -------------------------------------------------------------------------------------------


def test_collapse_fires_on_few_classes_and_names_the_dominant_one(tmp_path):
    bad = copy.deepcopy(HEALTHY_MEASUREMENTS)
    bad["classes"]["counts"] = [10, 600, 24, 25, 200, 26, 30, 24, 40, 21]  # >= 25 of 1000: classes 1, 3, 4, 5, 6, 8
    f = findings(craft(tmp_path / "r", doctor=bad))["collapse"]
    assert f.values == {"classes_present": 6, "classes": 10}
    assert "finds 6 of 10 classes with >= 2.5 % of 1000 samples; class 1 takes 60 %" in f.evidence
    bad["classes"]["counts"] = [10, 600, 24, 25, 200, 26, 30, 25, 40, 20]  # 7 of 10 present: 70 %, not below
    assert "collapse" not in findings(craft(tmp_path / "seven", doctor=bad))


def test_collapse_fires_on_toy_modes_and_low_entropy(tmp_path):
    quality = {"kind": "modes", "values": {"modes_covered": 5, "n_modes": 8, "true_modes_covered": 8},
               "fingerprint": {}}
    f = findings(craft(tmp_path / "a", quality=quality))["collapse"]
    assert f.values == {"modes_covered": 5, "n_modes": 8} and "5 of 8 modes covered (real data: 8/8)" in f.evidence
    quality["values"]["modes_covered"] = 6  # 6 >= 0.75 * 8
    assert "collapse" not in findings(craft(tmp_path / "b", quality=quality))
    low = copy.deepcopy(HEALTHY_EVAL)
    low["results"]["entropy"]["values"] = {"entropy": 39.0, "entropy_real": 40.5}  # 1.5 >= log 4 = 1.386
    f = findings(craft(tmp_path / "c", eval=low))["collapse"]
    assert f.values == {"entropy": 39.0, "entropy_real": 40.5} and "(1.50 below, >= log 4 = 1.39)" in f.evidence
    low["results"]["entropy"]["values"] = {"entropy": 39.2, "entropy_real": 40.5}  # 1.3 < log 4
    assert "collapse" not in findings(craft(tmp_path / "d", eval=low))


def test_collapse_fires_on_few_stacked_mnist_modes(tmp_path):
    quality = {"kind": "stacked_modes", "values": {"modes_covered": 480, "n_modes": 1000, "real_modes_covered": 1000,
                                                   "kl": 1.2, "real_kl": 0.02}, "fingerprint": {}}
    f = findings(craft(tmp_path / "a", quality=quality))["collapse"]
    assert f.values == {"stacked_modes_covered": 480} and "Stacked MNIST: 480 of 1000 modes (real data 1000)" in f.evidence
    quality["values"]["modes_covered"] = 500  # half of the real data's: not below
    assert "collapse" not in findings(craft(tmp_path / "b", quality=quality))


# ---- memorisation ---------------------------------------------------------------------------------------


def test_memorization_fires_on_many_near_copies(tmp_path):
    ev = copy.deepcopy(HEALTHY_EVAL)
    ev["results"]["memorization"]["values"].update(near_copy_share=0.05, test_near_copy_share=0.01, ratio=0.61)
    f = findings(craft(tmp_path / "a", eval=ev))["memorization"]
    assert f.values == {"near_copy_share": 0.05, "test_near_copy_share": 0.01}
    assert "5.0 % of generated images" in f.evidence and "(real test images: 1.0 %)" in f.evidence
    ev["results"]["memorization"]["values"].update(near_copy_share=0.029)  # under the 3 % floor
    assert "memorization" not in findings(craft(tmp_path / "b", eval=ev))


# ---- FID still falling ----------------------------------------------------------------------------------


def test_fid_falling_fires_when_the_last_checkpoints_still_improve(tmp_path):
    m = copy.deepcopy(HEALTHY_MEASUREMENTS)
    m["fid_trend"]["points"] = [{"step": 800, "fid": 30.0, "fid_real_vs_real": 1.5},
                                {"step": 900, "fid": 25.0, "fid_real_vs_real": 1.5},
                                {"step": 1000, "fid": 20.0, "fid_real_vs_real": 1.5}]
    f = findings(craft(tmp_path / "a", doctor=m))["fid_falling"]
    assert f.values == {"steps": [800, 900, 1000], "fid": [30.0, 25.0, 20.0], "last_drop": 0.2}
    assert "FID 30.00 -> 25.00 -> 20.00 at steps 800, 900, 1000 (last drop 20 %; real-vs-real 1.50)" in f.evidence
    assert f"gankit train --resume {tmp_path / 'a'} --set train.steps=1500" in f.suggestion
    m["fid_trend"]["points"][2]["fid"] = 24.0  # a 4 % drop: flattening out
    assert "fid_falling" not in findings(craft(tmp_path / "b", doctor=m))
    m["fid_trend"]["points"][1]["fid"] = 35.0  # not falling at every checkpoint
    m["fid_trend"]["points"][2]["fid"] = 20.0
    assert "fid_falling" not in findings(craft(tmp_path / "c", doctor=m))


def test_gankit_doctor_prints_each_finding_with_numbers_and_a_suggestion(tmp_path, capsys):
    craft(tmp_path / "r", metrics=pinned(0, 19), quality={**HEALTHY_QUALITY})
    assert main(["doctor", str(tmp_path / "r"), "--no-measure"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{tmp_path / 'r'}: 1 finding"
    assert out[1] == "- D wins: its accuracy is pinned near 100 %"
    assert out[2].startswith("  measured: D's accuracy >= 97 % from step 50 to 1000") and out[3].startswith("  try: ")
    craft(tmp_path / "ok")
    assert main(["doctor", str(tmp_path / "ok"), "--no-measure"]) == 0
    assert "no problem found" in capsys.readouterr().out


def test_doctor_measures_fid_per_checkpoint_and_classes_on_a_real_run(image_run):
    findings_ = gankit.doctor(image_run)
    m = read_run(image_run).measurements
    steps = [p["step"] for p in m["fid_trend"]["points"]]
    assert steps == [2, 4, 6] and m["checkpoints"] == ["ckpt-0000002.safetensors", "ckpt-0000004.safetensors",
                                                       "ckpt-0000006.safetensors"]
    quality = read_run(image_run).quality["values"]
    assert m["fid_trend"]["points"][-1]["fid"] == pytest.approx(quality["fid"], rel=1e-9)  # the same figure
    assert sum(m["classes"]["counts"]) == 1000 and len(m["classes"]["counts"]) == 10
    assert m["weights"]["non_finite"] == 0
    assert all(isinstance(f, Finding) for f in findings_)
