"""Tests of gankit/models/pix2pix.py: the losses by hand, the source and grids, config errors, the paired
figures, `gankit translate`, determinism and bitwise resume of a tiny run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gankit.cli import main
from gankit.data import build_dataset
from gankit.data.base import images_to_unit_range
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.metrics.extractor import load_extractor
from gankit.models import build_model
from gankit.models.pix2pix import Pix2Pix, build_pix2pix, psnr, translation_figures
from gankit.plugins import load_config
from tests.conftest import TINY_IMAGE
from tests.models.conditional_helpers import check_determinism, check_resume, tiny

PAIRED = ["data.name=mnist5k-edges", "model=pix2pix", "train.ema=false"]


def tiny_pix2pix(*overrides: str):
    return tiny(*PAIRED, *overrides)


@pytest.fixture(scope="module")
def edges():
    return build_dataset(load_config(overrides=["data.name=mnist5k-edges"]).data)


def _model(edges, *overrides: str) -> Pix2Pix:
    torch.manual_seed(0)
    return build_model(tiny_pix2pix(*overrides), edges.info, "cpu")


def test_the_losses_are_cgan_on_patches_plus_lambda_l1(edges):
    model = _model(edges)
    batch = edges.split("train").batch(torch.arange(6))
    torch.manual_seed(3)
    d = model.d_step(batch)
    torch.manual_seed(3)  # the same dropout masks, drawn as the step draws them
    masks = model.source.masks(6)
    with torch.no_grad():
        fake = model.G(batch["x_a"], masks)
    real_out = model.D(torch.cat([batch["x_a"], batch.x], 1))
    fake_out = model.D(torch.cat([batch["x_a"], fake], 1))
    assert real_out.shape == (6, 1, 12, 12)  # one score per 16x16 patch of the 28x28 pair
    expected = F.softplus(-real_out).mean() + F.softplus(fake_out).mean()  # non-saturating, every patch a sample
    torch.testing.assert_close(d.loss, expected, rtol=0, atol=1e-6)
    torch.manual_seed(4)
    g = model.g_step(batch)
    torch.manual_seed(4)
    fake = model.G(batch["x_a"], model.source.masks(6))
    l1 = (fake - batch.x).abs().mean()
    adv = F.softplus(-model.D(torch.cat([batch["x_a"], fake], 1))).mean()
    torch.testing.assert_close(g.loss, 100.0 * l1 + adv, rtol=1e-6, atol=1e-5)
    torch.testing.assert_close(g.stats["l1"], l1.detach(), rtol=0, atol=1e-7)
    assert model.adversarial


def test_ablation_switches(edges):
    l1_only = _model(edges, "model.params.gan_weight=0")
    assert not l1_only.adversarial  # the trainer runs no D step
    batch = edges.split("train").batch(torch.arange(4))
    torch.manual_seed(0)
    g = l1_only.g_step(batch)
    assert set(g.stats) == {"l1"} and torch.equal(g.loss, 100.0 * g.stats["l1"])
    uncond = _model(edges, "model.params.condition_d=false")
    assert uncond.nets["D"].body[0].in_channels == 1 and _model(edges).nets["D"].body[0].in_channels == 2
    plain = _model(edges, "model.params.generator=encoder-decoder")
    assert not plain.nets["G"].skips and _model(edges).nets["G"].skips
    assert _model(edges, "model.params.dropout=0").source.noise_dim == 0


def test_source_translates_the_reference_inputs(edges):
    model = _model(edges)
    test = edges.split("test")
    x_a, masks = model.source.sample(500, seed=7)
    assert masks.shape == (500, model.nets["G"].noise_dim)
    # n = the split's size: every test input once, in a seeded order
    assert torch.equal(torch.unique(x_a.flatten(1), dim=0), torch.unique(test.extra["x_a"].flatten(1), dim=0))
    again = model.source.sample(500, seed=7)
    assert torch.equal(again[0], x_a) and torch.equal(again[1], masks)
    assert not torch.equal(model.source.sample(500, seed=8)[0], x_a)
    assert model.sample(5, seed=0).shape == (5, 1, 28, 28)
    with pytest.raises(ValueError, match="no class labels"):
        model.source.sample(2, y=torch.tensor([1, 2]))


def test_grid_rows_are_input_output_target_triplets(edges):
    model = _model(edges)
    test = edges.split("test")
    tiles = model.sample_grid(64, seed=0)
    assert tiles.shape == (144, 1, 28, 28)  # 48 pairs, 12 tiles (4 triplets) per row of a square grid
    rows = torch.arange(48) * 500 // 48  # evenly spaced: the test split is sorted by class, so every digit shows
    assert torch.equal(tiles[0::3], test.extra["x_a"][rows]) and torch.equal(tiles[2::3], test.float_x()[rows])
    assert set(test.y[rows].tolist()) == set(range(10))
    x_a, masks = model.source.grid(48, 0)
    assert torch.equal(tiles[1::3], model.nets["G"].eval()(x_a, masks))
    assert math.isqrt(len(tiles)) % 3 == 0


def test_psnr_by_hand():
    black, grey = -torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    torch.testing.assert_close(psnr(black, grey), torch.tensor([10 * math.log10(4.0)], dtype=torch.float64))
    assert psnr(grey, grey).item() == pytest.approx(100.0)


def test_final_figures_on_the_test_pairs(edges):
    model = _model(edges)
    fig = translation_figures(model, edges, "test")
    test = edges.split("test")
    out = model.translate(test.extra["x_a"], seed=0)
    assert fig["values"]["l1"] == pytest.approx(float(((out - test.float_x()).abs() / 2).mean()), rel=1e-6)
    judge = load_extractor("digit-mnist5k")
    acc_target = float((judge.classify(test.float_x()) == test.y).double().mean())
    assert fig["values"]["classifier_acc_target"] == acc_target and acc_target > 0.9
    assert fig["fingerprint"]["extractor_sha256"] == judge.sha256 and fig["fingerprint"]["n"] == 500
    assert all("\n" not in line for line in fig["lines"])


@pytest.mark.parametrize("override,key", [
    ("model.params.l1_weight=-1", "model.params.l1_weight"),
    ("model.params.gan_weight=-0.5", "model.params.gan_weight"),
    ("model.params.generator=resnet", "model.params.generator"),
    ("model.params.dropout=1", "model.params.dropout"),
    ("model.params.d_layers=0", "model.params.d_layers"),
    ("model.params.d_layers=5", "model.params.d_layers"),
    ("model.params.condition_d=maybe", "model.params.condition_d"),
    ("model.params.lambda=3", "model.params.lambda"),
])
def test_every_param_rejects_bad_values_in_one_line(edges, override, key):
    with pytest.raises(ConfigError) as err:
        build_pix2pix(tiny_pix2pix(override), edges.info, "cpu")
    assert str(err.value).startswith(key) and "\n" not in str(err.value)


def test_both_losses_off_and_unpaired_data_are_refused(edges, tmp_path, capsys):
    with pytest.raises(ConfigError, match="^model.params: .*both 0"):
        build_pix2pix(tiny_pix2pix("model.params.l1_weight=0", "model.params.gan_weight=0"), edges.info, "cpu")
    rc = main(["train", "--set", "model=pix2pix", "--set", "data.name=digits", "--runs-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "data.name: model 'pix2pix' needs paired data" in err
    assert not any(tmp_path.iterdir())  # nothing was trained, no run folder left behind


def test_determinism(tmp_path):
    check_determinism(tiny_pix2pix(), tmp_path, {"G", "D"})


def test_bitwise_resume(tmp_path):
    check_resume(tiny_pix2pix(), tmp_path)


def _grey_pngs(folder: Path, n: int, side: int = 28) -> list[Path]:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        paths.append(folder / f"e{i}.png")
        Image.fromarray((rng.random((side, side)) > 0.8).astype(np.uint8) * 255, "L").save(paths[-1])
    return paths


def test_translate_writes_one_png_per_input_and_rejects_bad_input(tmp_path, capsys, monkeypatch):
    run = train(tiny_pix2pix("train.steps=2"), run_dir=tmp_path / "run", progress=False)
    paths = _grey_pngs(tmp_path / "in", 3)
    assert main(["translate", str(run.run_dir), "--input", str(tmp_path / "in"), "--out", str(tmp_path / "out")]) == 0
    assert "wrote 3 translations" in capsys.readouterr().out
    x_a = torch.cat([images_to_unit_range(np.asarray(Image.open(p))[None, None], 255) for p in paths])
    want = ((run.model.translate(x_a, seed=0).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    for p, w in zip(paths, want):
        got = np.asarray(Image.open(tmp_path / "out" / p.name))
        assert np.array_equal(got, w[0].numpy())
    import gankit.api

    monkeypatch.setattr(gankit.api, "TRANSLATE_CHUNK", 2)  # a folder in chunks: the same masks, the same files
    assert main(["translate", str(run.run_dir), "--input", str(tmp_path / "in"), "--out", str(tmp_path / "out2")]) == 0
    for p in paths:
        chunked, whole = (np.asarray(Image.open(tmp_path / d / p.name)) for d in ("out2", "out"))
        assert np.array_equal(chunked, whole)
    assert main(["translate", str(run.run_dir), "--input", str(paths[0]), "--out", str(tmp_path / "one")]) == 0
    assert (tmp_path / "one" / "e0.png").exists()
    Image.fromarray(np.zeros((28, 28, 3), np.uint8), "RGB").save(tmp_path / "colour.png")
    plain = train(tiny("train.steps=2"), run_dir=tmp_path / "gan", progress=False)
    capsys.readouterr()
    for argv, message in [
        ([str(run.run_dir), "--input", str(tmp_path / "nope")], "does not exist"),
        ([str(run.run_dir), "--input", str(tmp_path / "out" / "nothing")], "does not exist"),
        ([str(run.run_dir), "--input", str(tmp_path / "colour.png")], "3-channel image, but this run's G takes 1"),
        ([str(plain.run_dir), "--input", str(paths[0])], "translate applies the G of a pix2pix run"),
    ]:
        assert main(["translate", *argv, "--out", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    Image.open(paths[1]).save(tmp_path / "in" / "e1.jpg")  # e1.png and e1.jpg: one output name, nothing written
    assert main(["translate", str(run.run_dir), "--input", str(tmp_path / "in"), "--out", str(tmp_path / "clash")]) == 2
    assert "e1.jpg and e1.png would both be written as e1.png" in capsys.readouterr().err
    assert not (tmp_path / "clash").exists()
    (tmp_path / "empty").mkdir()
    assert main(["translate", str(run.run_dir), "--input", str(tmp_path / "empty"), "--out", str(tmp_path / "bad")]) == 2
    assert "holds no images" in capsys.readouterr().err


def test_sample_draws_the_triplet_grid_and_eval_skips_latent_metrics(tmp_path):
    run = train(tiny_pix2pix("train.steps=2"), run_dir=tmp_path / "run", progress=False)
    assert main(["sample", str(run.run_dir), "--n", "12", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size[0] >= 6 * 28  # 6 tiles (2 triplets) per row
    from gankit.evaluation import evaluate

    report = evaluate(run.run_dir, n=40, cache=tmp_path / "cache", log=None)  # the default metrics
    assert "fid" in report.results and "mre" not in report.results  # MRE needs a G(z) to invert
