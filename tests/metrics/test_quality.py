"""The end-of-training quality figure: values, real-vs-real beside them, and the fingerprint."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from gankit.data.base import DataInfo, Dataset, Split
from gankit.data.digits import load_digits_dataset
from gankit.data.toy import Spiral, make_toy, ring8
from gankit.errors import ConfigError, GankitError
from gankit.metrics.extractor import load_extractor
from gankit.metrics.fid import mmd2_unbiased
from gankit.metrics.quality import QualityReport, evaluate_generator
from gankit.sampling import latent
from gankit.version import gankit_version
from tests.references import sqrtm_fid


class Replay(nn.Module):
    """A "generator" that ignores z's values and returns the rows of a stored tensor in order, cycling.

    It records the z it was given, so tests can check which latents the evaluation drew.
    """

    def __init__(self, rows: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("rows", rows)
        self.position = 0
        self.seen_z: list[torch.Tensor] = []

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        self.seen_z.append(z.clone())
        idx = (torch.arange(len(z)) + self.position) % len(self.rows)
        self.position += len(z)
        return self.rows[idx]


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_digits_dataset()


@pytest.fixture(scope="module")
def ring() -> Dataset:
    return make_toy("ring8", ring8(), n_train=1000)


# ------------------------------------------------------------------------------------ FID / KID


def test_generator_replaying_the_test_split_scores_fid_zero(digits):
    test = digits.split("test")
    report = evaluate_generator(Replay(test.float_x()), 3, dataset=digits, split="test", seed=0)
    v, fp = report.values, report.fingerprint
    assert report.kind == "fid_kid"
    # The same 180 images on both sides (in another order): FID 0 up to rounding.
    assert abs(v["fid"]) < 1e-6 * v["fid_real_vs_real"]
    # (the real-vs-real value itself is recomputed independently in the next test)
    # KID of a set with itself is the unbiased estimate's small negative value, order-independent.
    feats = load_extractor("digit-digits")(test.float_x()).double()
    assert v["kid"] == pytest.approx(mmd2_unbiased(feats, feats), rel=1e-6)
    assert v["kid"] < 0
    assert fp["n_generated"] == fp["n_real"] == len(test) == 180
    assert fp["dataset"] == "digits" and fp["split"] == "test" and fp["seed"] == 0
    assert fp["extractor"] == "digit-digits"
    assert fp["extractor_sha256"] == load_extractor("digit-digits").sha256
    assert fp["kid_subsets"] == 1 and fp["kid_subset_size"] == 180  # subset size = both n: one subset
    assert fp["gankit_version"] == gankit_version() != "unknown"


def test_real_vs_real_is_the_sqrtm_fid_of_the_two_real_feature_sets(digits):
    # A train split of exactly N = 180 images: whatever permutation draws the real subsets, they are the
    # whole train and test splits, so the real-vs-real figures are fixed numbers we can recompute.
    train = digits.split("train")
    small = Dataset(digits.info, {"train": Split(train.x[:180], train.y[:180], x_max=train.x_max),
                                  "val": digits.split("val"), "test": digits.split("test")})
    report = evaluate_generator(Replay(torch.flip(digits.split("test").float_x(), [0])), 3, dataset=small)
    extractor = load_extractor("digit-digits")
    ref, rr = extractor(digits.split("test").float_x()), extractor(train.float_x(slice(0, 180)))
    v = report.values
    # Measured: 1e-11 relative to scipy (the singular covariances cost scipy's sqrtm some digits).
    assert v["fid_real_vs_real"] == pytest.approx(sqrtm_fid(ref, rr), rel=1e-9)
    assert v["fid_real_vs_real"] == pytest.approx(4.4594, abs=1e-3)  # today's figure with the shipped weights
    # the test split against itself, reversed: 0 up to rounding (measured 1.3e-9 of the real-vs-real value)
    assert abs(v["fid"]) < 2e-8 * v["fid_real_vs_real"]
    # KID with one subset of all 180: the unbiased MMD^2 of the two sets.
    assert report.fingerprint["kid_subsets"] == 1
    assert v["kid_real_vs_real"] == pytest.approx(mmd2_unbiased(ref.double(), rr.double()), rel=1e-6)


def test_report_lines_carry_the_fingerprint(digits):
    report = evaluate_generator(Replay(digits.split("test").float_x()), 3, dataset=digits)
    text = "\n".join(report.lines())
    sha = load_extractor("digit-digits").sha256
    for part in ("FID", "KID", "real-vs-real", "digit-digits", f"sha256:{sha[:12]}", "N=180", "digits test", "seed 0"):
        assert part in text, part
    restored = json.loads(json.dumps(report.to_dict()))
    assert restored["kind"] == "fid_kid"
    assert restored["values"]["fid"] == pytest.approx(report.values["fid"])


def test_noise_generator_scores_far_above_real_vs_real(digits):
    noise = torch.rand(180, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    report = evaluate_generator(Replay(noise), 3, dataset=digits)
    assert report.values["fid"] > 10 * report.values["fid_real_vs_real"]
    assert report.values["kid"] > 10 * abs(report.values["kid_real_vs_real"])


def test_latents_come_from_the_seeded_sampler_and_results_are_deterministic(digits):
    G = Replay(digits.split("test").float_x())
    first = evaluate_generator(G, 5, dataset=digits, n=100, seed=7)
    torch.testing.assert_close(torch.cat(G.seen_z), latent(100, 5, seed=7), rtol=0, atol=0)
    second = evaluate_generator(Replay(digits.split("test").float_x()), 5, dataset=digits, n=100, seed=7)
    assert first.to_dict() == second.to_dict()
    assert first.fingerprint["n_generated"] == first.fingerprint["n_real"] == 100
    assert "N=100 generated vs 100 real" in first.lines()[0]


def test_generator_mode_is_restored(digits):
    G = Replay(digits.split("test").float_x()).train()
    evaluate_generator(G, 3, dataset=digits, n=50)
    assert G.training


def test_bad_requests_are_one_line_errors(digits):
    G = Replay(digits.split("test").float_x())
    with pytest.raises(ConfigError, match="eval.n"):
        evaluate_generator(G, 3, dataset=digits, n=181)
    with pytest.raises(GankitError, match="shape"):
        evaluate_generator(Replay(torch.zeros(10, 1, 28, 28)), 3, dataset=digits, n=10)
    with pytest.raises(ConfigError, match="extractor"):
        evaluate_generator(G, 3, dataset=digits, extractor=load_extractor("digit-mnist5k"))


def test_non_finite_generator_output_is_reported_not_raised(digits):
    images = digits.split("test").float_x().clone()
    images[3] = float("nan")
    report = evaluate_generator(Replay(images), 3, dataset=digits)
    assert math.isnan(report.values["fid"]) and report.values["non_finite_generated"] == 1
    assert math.isfinite(report.values["fid_real_vs_real"])
    assert any("non-finite" in line for line in report.lines())
    assert json.dumps(report.to_dict())  # nan becomes a string, the JSON stays strict


# ---------------------------------------------------------------------------------------- modes


def test_generator_on_the_ring8_centres(ring):
    report = evaluate_generator(Replay(ring.centres), 2, dataset=ring)
    v, fp = report.values, report.fingerprint
    assert report.kind == "modes"
    assert v["modes_covered"] == 8 == v["n_modes"]
    assert v["hq_fraction"] == 1.0
    # 2,500 = 8 x 312 + 4: four modes hold 313 samples, four hold 312.
    p = torch.tensor([313.0] * 4 + [312.0] * 4, dtype=torch.float64) / 2500
    assert v["reverse_kl"] == pytest.approx(float((p * torch.log(p * 8)).sum()), rel=1e-9)
    # The physical limit, from 2,500 samples of the true mixture (the test split's rows).
    assert v["true_modes_covered"] == 8
    assert abs(v["true_hq_fraction"] - (1 - math.exp(-4.5))) < 0.01
    assert 0 < v["true_reverse_kl"] < 0.01
    assert fp["n_generated"] == fp["n_real"] == 2500 and fp["dataset"] == "ring8"
    line = report.lines()[0]
    assert "modes 8/8" in line and "HQ 100.0 %" in line and "N=2500" in line


def test_collapsed_generator_on_ring8(ring):
    report = evaluate_generator(Replay(ring.centres[:1]), 2, dataset=ring, n=500)
    assert report.values["modes_covered"] == 1
    assert report.values["reverse_kl"] == pytest.approx(math.log(8), rel=1e-12)
    assert report.fingerprint["n_generated"] == 500


# ----------------------------------------------------------------------------------- no figure


def test_data_without_a_figure_says_why(digits):
    spiral = make_toy("spiral", Spiral(), n_train=100, n_eval=100)
    report = evaluate_generator(Replay(torch.zeros(4, 2)), 2, dataset=spiral)
    assert report.kind == "none" and report.values == {}
    assert report.lines()[0].startswith("no quality figure: spiral")
    colour = Dataset(DataInfo("cifar-like", "image", (3, 32, 32), 10), {"test": Split(torch.zeros(4, 3, 32, 32))})
    report = evaluate_generator(Replay(torch.zeros(4, 3, 32, 32)), 2, dataset=colour)
    assert report.kind == "none" and "(3, 32, 32)" in report.lines()[0]
    assert isinstance(report, QualityReport) and report.to_dict()["fingerprint"]["dataset"] == "cifar-like"


def test_non_finite_generator_on_a_mixture_is_kind_none_not_an_error(ring):
    rows = ring.centres.repeat(400, 1)
    rows[7] = float("inf")
    report = evaluate_generator(Replay(rows), 2, dataset=ring, n=500)
    assert report.kind == "none" and report.values == {"non_finite_generated": 1}
    assert report.lines() == ["no quality figure: G produced 1 non-finite samples of 500 (a diverged generator): "
                              "no mode figure"]


def test_true_samples_are_the_shared_reference_subset(ring):
    from gankit.metrics.modes import mode_metrics
    from gankit.metrics.samples import real_subset

    report = evaluate_generator(Replay(ring.centres), 2, dataset=ring, n=300, seed=4)
    true = mode_metrics(real_subset(ring.split("test").x, 300, 4, "reference"), ring.centres, float(ring.std), 3.0)
    assert report.values["true_reverse_kl"] == true.reverse_kl and report.values["true_hq_fraction"] == true.hq_fraction
    assert report.fingerprint["reference_sha256"] == ring.split("test").content_sha256()
