"""Safety net for `gankit eval` / `gankit sample` before the core refactor: what they score, pinned.

Everything goes through the public entry points (``gankit.cli.main``, ``gankit.evaluate``,
``gankit.api.load_run`` / ``load_generator``, ``gankit.sampling.generate``, the prior's ``sample``,
the metric functions in ``gankit.metrics``) and is compared with an independent recomputation:
scipy's sqrtm for FID, numpy for the Inception Score, the PNG's own pixels for sample grids.

Independence from the seeding rule of the real subsets: every exact comparison here uses N = the
whole reference split (180 digits images), so the reference side is a permutation of the split
and FID / PRDC do not depend on which permutation it is.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import torch
from PIL import Image

import gankit
from gankit.api import load_generator, load_run
from gankit.cli import main
from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.metrics.extractor import load_extractor
from gankit.metrics.fid_inf import extrapolate
from gankit.metrics.prdc import prdc
from gankit.sampling import generate
from tests.conftest import TINY_IMAGE
from tests.references import sqrtm_fid

N_TEST = 180  # the digits test (and val) split
# rampup off: G_ema stays near its start (half-life 10,000 images, 192 seen) while G moves, so the
# two generators differ clearly and a test that scored the wrong one would fail.
RUN = [*TINY_IMAGE, "train.ema.rampup=null"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("safety-eval") / "run"
    gankit.train(load_config(overrides=RUN), run_dir=path, progress=False)
    return path


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def digits():
    return build_dataset(load_config(overrides=RUN).data)


@pytest.fixture(scope="module")
def extractor():
    return load_extractor("digit-digits")


# ----------------------------------------------------------------------------- references


def fake_of(run: Path, ema: bool, n: int, seed: int) -> torch.Tensor:
    """What G (or G_ema) makes of the prior's seeded rows, loaded through the public API."""
    _, G, _ = load_generator(run, ema=ema)
    return generate(G, load_run(run)[1].prior.sample(n, seed=seed))


def unscaled_logits(extractor, images: torch.Tensor) -> torch.Tensor:
    """The digit classifier's logits with its feature scale switched off: what its head was trained on."""
    net = copy.deepcopy(extractor.net)
    net.feature_scale.fill_(1.0)
    with torch.no_grad():
        return net(images).double()


def numpy_is(logits: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """IS = exp(E_x KL(p(y|x) || p(y))) per split (sample i in split i mod splits); mean, population std."""
    logp = scipy.special.log_softmax(logits.numpy(), axis=1)
    scores = []
    for s in range(splits):
        lp = logp[s::splits]
        p = np.exp(lp)
        marginal = p.mean(0)
        scores.append(math.exp(float((p * (lp - np.log(marginal))).sum(1).mean())))
    return float(np.mean(scores)), float(np.std(scores))


def grid_pixels(png: Path, n: int, side: int, pad: int = 2) -> np.ndarray:
    """The n (side x side) uint8 cells of a sample-grid PNG, undoing its nearest-neighbour enlargement."""
    nrow = math.ceil(math.sqrt(n))
    width = nrow * (side + pad) + pad
    img = np.asarray(Image.open(png))
    scale = img.shape[1] // width
    height = math.ceil(n / nrow) * (side + pad) + pad
    assert scale >= 1 and img.shape == (height * scale, width * scale)  # grey (mode L), square enlargement
    small = img[::scale, ::scale]
    assert np.array_equal(np.repeat(np.repeat(small, scale, 0), scale, 1), img)  # really a plain enlargement
    cells = []
    for i in range(n):
        r, c = divmod(i, nrow)
        y, x = pad + r * (side + pad), pad + c * (side + pad)
        cells.append(small[y:y + side, x:x + side])
    return np.stack(cells)


def as_pixels(images: torch.Tensor) -> np.ndarray:
    """(N, 1, H, W) in [-1, 1] -> (N, H, W) uint8, the grid's rounding."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[:, 0].numpy()


# ------------------------------------------------------------------------------- --ema


def test_the_run_has_a_g_ema_that_differs_from_g(run):
    _, G, step = load_generator(run, ema=False)
    _, G_ema, step_ema = load_generator(run, ema=True)
    assert step == step_ema == 12
    g, e = dict(G.named_parameters()), dict(G_ema.named_parameters())
    assert g.keys() == e.keys()
    assert all(not torch.equal(g[k], e[k]) for k in g)


@pytest.mark.parametrize("ema", [True, False])
def test_eval_scores_exactly_the_chosen_generator(run, digits, extractor, ema):
    argv = ["eval", str(run), "--metrics", "fid,is", "--seed", "3"] + (["--ema"] if ema else [])
    assert main(argv) == 0
    data = json.loads((run / "eval.json").read_text())
    assert data["generator"] == ("G_ema" if ema else "G") and data["step"] == 12
    fid, is_ = data["results"]["fid"], data["results"]["is"]
    assert fid["fingerprint"]["generator"] == is_["fingerprint"]["generator"] == data["generator"]

    fake = fake_of(run, ema, N_TEST, seed=3)
    other = fake_of(run, not ema, N_TEST, seed=3)
    # FID: the whole test split vs G's (or G_ema's) 180 samples at the prior's rows of seed 3.
    # Measured agreement with scipy's sqrtm: 1.5e-11 relative.
    want = sqrtm_fid(extractor(digits.split("test").float_x()), extractor(fake))
    assert fid["values"]["fid"] == pytest.approx(want, rel=1e-9)
    assert fid["values"]["fid"] != pytest.approx(sqrtm_fid(extractor(digits.split("test").float_x()), extractor(other)),
                                                 rel=1e-3)
    # IS: the classifier's head on the UNSCALED features (feature_scale divided out), 10 splits dealt i mod 10.
    mean, std = numpy_is(unscaled_logits(extractor, fake))
    assert is_["values"]["is"] == pytest.approx(mean, rel=1e-6)
    assert is_["values"]["is_std"] == pytest.approx(std, rel=1e-5, abs=1e-9)
    assert is_["values"]["is"] != pytest.approx(numpy_is(unscaled_logits(extractor, other))[0], rel=1e-4)


def test_is_divides_the_feature_scale_out(run, extractor):
    """Without the division the head sees features x0.40 and the score drops: the test above would notice."""
    report = gankit.evaluate(run, metrics="is", seed=3, log=None)
    fake = fake_of(run, False, N_TEST, seed=3)
    with torch.no_grad():
        scaled = extractor.net(fake).double()  # forward() = head(features * feature_scale)
    assert float(extractor.net.feature_scale) == extractor.metadata["feature_scale"] < 0.5  # the sidecar's figure
    assert report.results["is"].values["is"] == pytest.approx(numpy_is(unscaled_logits(extractor, fake))[0], rel=1e-6)
    assert abs(numpy_is(scaled)[0] - report.results["is"].values["is"]) > 1e-3


@pytest.mark.parametrize("ema", [True, False])
def test_sample_grid_holds_exactly_the_chosen_generators_images(run, tmp_path, ema, capsys):
    out = tmp_path / "grid.png"
    assert main(["sample", str(run), "--n", "16", "--seed", "5", "--out", str(out)] + (["--ema"] if ema else [])) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    cells = grid_pixels(out, 16, 8)
    assert np.array_equal(cells, as_pixels(fake_of(run, ema, 16, seed=5)))
    assert not np.array_equal(cells, as_pixels(fake_of(run, not ema, 16, seed=5)))


# ------------------------------------------------------------------ default list, splits


def test_default_image_metrics_and_their_values(run, digits, extractor):
    assert main(["eval", str(run)]) == 0  # defaults: test split, N = its size, seed 0, G
    data = json.loads((run / "eval.json").read_text())
    results = data["results"]
    assert list(results) == ["fid", "kid", "is", "prdc", "memorization", "mre"]
    assert {k: set(r["values"]) for k, r in results.items()} == {
        "fid": {"fid", "fid_real_vs_real"},
        "kid": {"kid", "kid_std", "kid_real_vs_real", "kid_real_vs_real_std"},
        "is": {"is", "is_std", "is_real", "is_real_std"},
        "prdc": {"precision", "recall", "density", "coverage", "precision_real_vs_real", "recall_real_vs_real",
                 "density_real_vs_real", "coverage_real_vs_real"},
        "memorization": {"gen_median_distance", "test_median_distance", "ratio", "near_copy_threshold",
                         "near_copy_share", "test_near_copy_share"},
        "mre": {"train_mre", "test_mre", "gap", "train_mre_std", "test_mre_std"},
    }
    for name in ("fid", "kid", "is", "prdc"):
        fp = results[name]["fingerprint"]
        assert (fp["dataset"], fp["split"], fp["n_generated"], fp["n_real"], fp["seed"], fp["generator"],
                fp["step"]) == ("digits", "test", N_TEST, N_TEST, 0, "G", 12), name
        assert (fp["extractor"], fp["extractor_sha256"]) == ("digit-digits", extractor.sha256)
    assert results["memorization"]["fingerprint"]["n_real"] == N_TEST
    assert results["memorization"]["fingerprint"]["train_images"] == len(digits.split("train")) == 1437
    assert (results["mre"]["fingerprint"]["images_per_split"], results["mre"]["fingerprint"]["n_real"]) == (32, 32)
    assert results["mre"]["values"]["gap"] == pytest.approx(
        results["mre"]["values"]["test_mre"] - results["mre"]["values"]["train_mre"], rel=1e-12)

    fake = fake_of(run, False, N_TEST, seed=0)
    ref_feats, fake_feats = extractor(digits.split("test").float_x()), extractor(fake)
    assert results["fid"]["values"]["fid"] == pytest.approx(sqrtm_fid(ref_feats, fake_feats), rel=1e-9)
    assert results["is"]["values"]["is"] == pytest.approx(numpy_is(unscaled_logits(extractor, fake))[0], rel=1e-6)
    want = prdc(ref_feats, fake_feats, k=5)
    for key in ("precision", "recall", "density", "coverage"):
        assert results["prdc"]["values"][key] == pytest.approx(want[key], abs=1e-12), key


def test_fid_inf_and_cas_agree_with_fid_and_with_their_definitions(run):
    report = gankit.evaluate(run, metrics="fid,fid_inf,cas", n=60, seed=2, log=None)
    fid, inf, cas = (report.results[k] for k in ("fid", "fid_inf", "cas"))
    v = inf.values
    assert v["ns"] == inf.fingerprint["ns"] == [12, 24, 36, 48, 60]  # N * i // 5, i = 1..5
    assert len(v["fids"]) == len(v["fids_real_vs_real"]) == 5
    # At the largest N the subset is all 60 samples: the plain FID of the same run, seed and N, up to the
    # order of the sums. 60 samples in 128 dims give singular covariances, where the square roots of
    # rounding-level eigenvalues (~sqrt(1e-16)) move the value: measured 2.3e-8 relative, hence 1e-6.
    assert v["fids"][-1] == pytest.approx(fid.values["fid"], rel=1e-6)
    assert v["fids_real_vs_real"][-1] == pytest.approx(fid.values["fid_real_vs_real"], rel=1e-6)
    # The fit FID_N = FID_inf + k / N, by numpy's least squares.
    slope, intercept = np.polyfit(1.0 / np.array(v["ns"]), np.array(v["fids"]), 1)
    assert (v["fid_inf"], v["slope"]) == (pytest.approx(intercept, rel=1e-9), pytest.approx(slope, rel=1e-9))
    assert v["fid_inf_real_vs_real"] == pytest.approx(extrapolate(v["ns"], v["fids_real_vs_real"])[0], rel=1e-12)

    c = cas.values
    assert set(c) == {"cas", "real_train_accuracy", "gan_test"} and c["gan_test"] is None  # unconditional G
    for acc in (c["cas"], c["real_train_accuracy"]):  # accuracies on the 180 test images: k / 180 exactly
        assert 0 <= acc <= 1 and acc * N_TEST == pytest.approx(round(acc * N_TEST), abs=1e-9)
    fp = cas.fingerprint
    assert (fp["split"], fp["n_generated"], fp["n_real"], fp["seed"]) == ("test", 60, N_TEST, 2)
    assert fp["labels"] == "predicted by the digit-digits classifier"
    again = gankit.evaluate(run, metrics="cas", n=60, seed=2, log=None).results["cas"].values
    assert again == c  # deterministic under its seed


def test_split_val_scores_against_the_val_split(run, digits, extractor):
    assert main(["eval", str(run), "--metrics", "fid", "--split", "val"]) == 0
    data = json.loads((run / "eval.json").read_text())
    fp = data["results"]["fid"]["fingerprint"]
    assert (fp["split"], fp["n_generated"], fp["n_real"]) == ("val", len(digits.split("val")), len(digits.split("val")))
    fake = fake_of(run, False, N_TEST, seed=0)
    want = sqrtm_fid(extractor(digits.split("val").float_x()), extractor(fake))
    assert data["results"]["fid"]["values"]["fid"] == pytest.approx(want, rel=1e-9)
    assert want != pytest.approx(sqrtm_fid(extractor(digits.split("test").float_x()), extractor(fake)), rel=1e-3)

    assert main(["eval", str(run), "--metrics", "fid", "--split", "val", "--n", "50"]) == 0
    fp = json.loads((run / "eval.json").read_text())["results"]["fid"]["fingerprint"]
    assert (fp["split"], fp["n_generated"], fp["n_real"]) == ("val", 50, 50)
