import math

import pytest
import torch
from torch import nn

from gankit.data.digits import load_mnist5k
from gankit.data.stacked import draw_triples, make_stacked, stack
from gankit.errors import GankitError
from gankit.metrics.extractor import load_extractor
from gankit.metrics.quality import evaluate_generator
from gankit.metrics.stacked import StackedModes, histogram_kl, kl_decomposition, real_stacked_modes, stacked_report
from gankit.sampling import LatentPrior

N = 120


@pytest.fixture(scope="module")
def extractor():
    return load_extractor("digit-mnist5k")


@pytest.fixture(scope="module")
def stacked():
    return make_stacked(load_mnist5k(), n_train=64, n_eval=64)


class Replay(nn.Module):
    """A 'generator' that returns the given images in order, one per input row, whatever z is."""

    def __init__(self, images: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("images", images)
        self.next = 0

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.images[self.next : self.next + len(z)]
        self.next += len(z)
        return out


@pytest.mark.parametrize("k", [1, 8, 250, 1000])
def test_kl_of_k_equally_filled_modes_is_log_1000_over_k(k):
    counts = torch.zeros(1000)
    counts[torch.randperm(1000, generator=torch.Generator().manual_seed(k))[:k]] = 26
    assert histogram_kl(counts) == pytest.approx(math.log(1000 / k), abs=1e-12)
    metric = StackedModes(extractor=object())  # labels only: the classifier is not used
    metric.update_labels(torch.nonzero(counts).flatten().repeat_interleave(26))
    report = metric.compute()
    assert (report.modes_covered, report.n_samples) == (k, 26 * k)
    assert report.kl == pytest.approx(math.log(1000 / k), abs=1e-12)


def test_kl_of_an_unequal_histogram_and_of_nothing():
    counts = torch.zeros(1000)
    counts[:2] = torch.tensor([3.0, 1.0])  # p = (3/4, 1/4)
    assert histogram_kl(counts) == pytest.approx(0.75 * math.log(750) + 0.25 * math.log(250), abs=1e-12)
    assert histogram_kl(torch.zeros(1000)) == math.inf


def _kl_to_uniform(m):
    p = [c / sum(m) for c in m]
    return sum(q * math.log(q * len(p)) for q in p if q > 0)


def test_independent_channels_have_no_dependence_and_kl_is_the_sum_of_marginal_kls():
    m = [torch.tensor(c, dtype=torch.float64) for c in ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5] * 9 + [0],
                                                         [1, 1, 1, 1, 1, 3, 3, 3, 3, 3])]
    counts = (m[0][:, None, None] * m[1][None, :, None] * m[2][None, None, :]).flatten()  # bin d1*100+d2*10+d3
    d = kl_decomposition(counts)
    expected = [_kl_to_uniform(c.tolist()) for c in m]
    assert d.channel_kl == pytest.approx(expected, abs=1e-12)
    assert expected[1] == pytest.approx(math.log(10 / 9), abs=1e-15)
    assert d.dependence == pytest.approx(0.0, abs=1e-12)
    assert d.kl == pytest.approx(sum(expected), abs=1e-12) and d.kl == pytest.approx(histogram_kl(counts), abs=1e-12)
    for c in range(3):
        assert d.marginals[c] == pytest.approx((m[c] / m[c].sum()).tolist(), abs=1e-15)


def test_three_equal_channels_are_all_dependence():
    counts = torch.zeros(1000)
    counts[torch.arange(10) * 111] = 7  # (d, d, d): every channel uniform, the triple fixed by one digit
    d = kl_decomposition(counts)
    assert d.channel_kl == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)
    assert d.dependence == pytest.approx(2 * math.log(10), abs=1e-12)  # H(p1)+H(p2)+H(p3)-H(p) = 3 log 10 - log 10
    assert d.kl == pytest.approx(math.log(100), abs=1e-12) and d.marginal_kl == pytest.approx(0.0, abs=1e-12)


def test_decomposition_adds_up_on_any_histogram_and_refuses_other_sizes():
    counts = torch.randint(0, 50, (1000,), generator=torch.Generator().manual_seed(0)).double()
    counts[:300] = 0
    d = kl_decomposition(counts)
    assert d.kl == pytest.approx(histogram_kl(counts), abs=1e-12)
    assert d.marginal_kl + d.dependence == pytest.approx(d.kl, abs=1e-12) and d.dependence > 0
    # d1 is the hundreds digit: the channel-0 marginal sums blocks of 100 bins
    assert d.marginals[0][0] == pytest.approx(0.0) and d.marginals[0][9] == pytest.approx(
        float(counts[900:].sum() / counts.sum()), abs=1e-15)
    assert kl_decomposition(torch.zeros(1000)).kl == math.inf
    with pytest.raises(ValueError, match="1000 bins"):
        kl_decomposition(torch.ones(999))


def test_labels_out_of_range_are_refused():
    with pytest.raises(ValueError, match="0..999"):
        StackedModes(extractor=object()).update_labels(torch.tensor([1000]))


def test_real_reference_equals_classifying_every_channel(stacked, extractor):
    report, accuracy = real_stacked_modes(stacked, "test", N, seed=3, extractor=extractor)
    idx = draw_triples(len(stacked.digits["test"]), N, torch.Generator().manual_seed(3))
    images = stack(stacked.digits["test"], idx)
    metric = StackedModes(extractor)
    metric.update(images.float_x())
    assert metric.compute() == report
    assert report.n_samples == N and 0.9 < accuracy <= 1.0
    # The classifier's labels agree with the true triple labels where all three channels are right.
    assert (metric.classify(images.float_x()) == images.y).double().mean() >= accuracy**3 - 0.05


def test_replaying_real_samples_covers_what_the_data_covers(stacked, extractor):
    seed = 5
    real, _ = real_stacked_modes(stacked, "test", N, seed, extractor)
    idx = draw_triples(len(stacked.digits["test"]), N, torch.Generator().manual_seed(seed))
    G = Replay(stack(stacked.digits["test"], idx).float_x())
    report = stacked_report(G, LatentPrior(4), stacked, "test", N, seed, extractor=extractor)
    v = report.values
    assert v["modes_covered"] == v["real_modes_covered"] == real.modes_covered
    assert v["kl"] == v["real_kl"] == real.kl
    assert v["kl_marginal"] == v["real_kl_marginal"] and v["kl_dependence"] == v["real_kl_dependence"]
    assert v["kl_marginal"] + v["kl_dependence"] == pytest.approx(v["kl"], abs=1e-12)
    assert len(v["digit_shares"]) == 30 and sum(v["digit_shares"][10:20]) == pytest.approx(1.0)
    assert f"= marginal {v['kl_marginal']:.4f}" in report.lines()[0]
    assert report.fingerprint["extractor_sha256"] == extractor.sha256 and report.fingerprint["n_generated"] == N


def test_quality_dispatch_reports_modes_and_kl(stacked, extractor):
    G = Replay(stacked.split("val").float_x())
    report = evaluate_generator(G, 4, stacked, split="val", n=64, seed=0)
    assert report.kind == "stacked_modes"
    assert set(report.fingerprint["metrics"]) == {"modes_covered", "kl"}
    assert report.fingerprint["extractor_sha256"] == extractor.sha256 and report.fingerprint["seed"] == 0
    line = report.lines()[0]
    assert line.startswith(f"modes {report.values['modes_covered']}/1000") and "stacked-mnist" in line
    predicted = StackedModes(extractor).classify(stacked.split("val").float_x())
    assert report.values["modes_covered"] == len(torch.unique(predicted))


def test_a_sampler_standing_in_for_g_is_scored_on_its_draws(stacked, extractor):
    class Drawer:  # what gankit.drs.RejectionSampler offers: draw(n, seed, device) and fingerprint()
        def __init__(self, images):
            self.images, self.asked = images, []

        def draw(self, n, seed=0, device="cpu"):
            self.asked.append((n, seed))
            return self.images[:n]

        def fingerprint(self):
            return {"sampler": "replay"}

    images = stacked.split("val").float_x()
    sampler = Drawer(images)
    report = evaluate_generator(sampler, 4, stacked, split="val", n=64, seed=3)
    plain = evaluate_generator(Replay(images), 4, stacked, split="val", n=64, seed=3)
    assert sampler.asked == [(64, 3)] and report.values == plain.values
    assert report.fingerprint["sampler"] == {"sampler": "replay"} and "sampler" not in plain.fingerprint
    with pytest.raises(GankitError, match="generator output has shape"):
        evaluate_generator(Drawer(images[:, :1]), 4, stacked, split="val", n=64, seed=3)
