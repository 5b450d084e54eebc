"""`gankit eval` / gankit.evaluate on tiny trained runs: eval.json with fingerprints, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gankit
from gankit.cli import main
from gankit.plugins import load_config
from gankit.errors import GankitError
from tests.conftest import TINY_IMAGE, TINY_VECTOR


@pytest.fixture(scope="module")
def image_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("evalrun") / "run"
    gankit.train(load_config(overrides=TINY_IMAGE), run_dir=run)
    return run


def test_cli_eval_writes_eval_json_with_fingerprints(image_run, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    rc = main(["eval", str(image_run), "--metrics", "fid,kid,is,prdc,memorisation", "--n", "60", "--seed", "1"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "real-vs-real" in out and "digit-digits sha256:" in out
    data = json.loads((image_run / "eval.json").read_text())
    assert set(data["results"]) == {"fid", "kid", "is", "prdc", "memorization"}
    fp = data["results"]["fid"]["fingerprint"]
    assert (fp["dataset"], fp["split"], fp["n_generated"], fp["n_real"], fp["seed"]) == ("digits", "test", 60, 60, 1)
    assert len(fp["extractor_sha256"]) == 64 and fp["gankit_version"] == gankit.__version__
    assert data["results"]["fid"]["values"]["fid_real_vs_real"] >= 0
    assert (image_run / "eval" / "memorization_pairs.png").is_file()
    assert len(list((tmp_path / "cache").glob("stats-*.safetensors"))) == 2  # reference and train features


def test_python_twin_is_deterministic_and_reuses_the_cache(image_run, tmp_path) -> None:
    kw = {"metrics": ["fid", "mre", "jacobian"], "n": 40, "cache": tmp_path, "log": None}
    a, b = gankit.evaluate(image_run, **kw), gankit.evaluate(image_run, **kw)
    assert a.results["fid"].values == b.results["fid"].values
    assert a.results["mre"].values == b.results["mre"].values
    assert a.results["mre"].values["gap"] == pytest.approx(
        a.results["mre"].values["test_mre"] - a.results["mre"].values["train_mre"])
    assert a.results["jacobian"].values["full_rank"] == 16  # z_dim of TINY_IMAGE


def test_bad_input_is_one_line_and_exit_2(image_run, capsys) -> None:
    assert main(["eval", str(image_run), "--metrics", "fid,nope"]) == 2
    assert "unknown metric 'nope'" in capsys.readouterr().err
    assert main(["eval", str(image_run), "--n", "100000"]) == 2
    assert "--n" in capsys.readouterr().err
    with pytest.raises(GankitError, match="val or test"):
        gankit.evaluate(image_run, metrics="fid", split="train", log=None)


def test_toy_run_defaults_to_modes_dstar_entropy(tmp_path) -> None:
    run = tmp_path / "toy"
    gankit.train(load_config(overrides=TINY_VECTOR), run_dir=run)
    report = gankit.evaluate(run, n=500, log=None)
    assert list(report.results) == ["modes", "dstar", "entropy"]
    d = report.results["dstar"].values
    assert d["value"] <= d["value_optimal"] + 1e-9 and 0 <= d["mae"] <= 1
    with pytest.raises(GankitError, match="needs image data"):
        gankit.evaluate(run, metrics="fid", log=None)


# ------------------------------------------------------------------ one path: end of training == gankit eval

AGREED = ("fid", "fid_real_vs_real", "kid", "kid_std", "kid_real_vs_real", "kid_real_vs_real_std")


def test_end_of_run_figure_and_gankit_eval_print_the_same_numbers(tmp_path, capsys) -> None:
    cfg = load_config(overrides=[*TINY_IMAGE, "eval.at_end=true", "eval.n=60", "seed=3"])
    result = gankit.train(cfg, run_dir=tmp_path / "run")
    end = result.quality
    assert end.kind == "fid_kid" and end.fingerprint["generator"] == "G_ema"
    report = gankit.evaluate(tmp_path / "run", metrics="fid,kid", n=60, seed=3, split="test", ema=True,
                             cache=tmp_path / "cache", log=None)
    ev = {**report.results["fid"].values, **report.results["kid"].values}
    for key in AGREED:  # exactly: the same subsets, features, samples and KID subsets
        assert ev[key] == end.values[key], key
    fid_fp = report.results["fid"].fingerprint
    for key in ("dataset", "split", "n_generated", "n_real", "seed", "extractor_sha256", "reference_sha256",
                "train_sha256", "real_subsets", "generator"):
        assert fid_fp[key] == end.fingerprint[key], key
    assert len(fid_fp["reference_sha256"]) == 64 and fid_fp["reference_sha256"] != fid_fp["train_sha256"]
    # a second eval reads the cached real features and still agrees
    again = gankit.evaluate(tmp_path / "run", metrics="fid", n=60, seed=3, ema=True, cache=tmp_path / "cache", log=None)
    assert again.results["fid"].values["fid_real_vs_real"] == end.values["fid_real_vs_real"]
    saved = json.loads((tmp_path / "run" / "quality.json").read_text())
    assert saved["values"]["fid_real_vs_real"] == end.values["fid_real_vs_real"]
