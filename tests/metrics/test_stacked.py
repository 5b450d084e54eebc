import math

import pytest
import torch
from torch import nn

from gankit.data.digits import load_mnist5k
from gankit.data.stacked import draw_triples, make_stacked, stack
from gankit.errors import GankitError
from gankit.metrics.extractor import load_extractor
from gankit.metrics.quality import evaluate_generator
from gankit.metrics.stacked import StackedModes, histogram_kl, real_stacked_modes, stacked_report
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
