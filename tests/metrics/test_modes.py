"""Mode metrics (BENCHMARKS.md section 1): exact cases, the 3-std boundary, the physical limit."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.data.toy import grid25, ring8
from gankit.metrics.modes import mode_metrics

HQ_LIMIT = 1 - math.exp(-4.5)  # mass of a 2D isotropic Gaussian within 3 std of its mean: 98.89 %


def test_one_sample_on_each_ring8_centre():
    ring = ring8()
    report = mode_metrics(ring.centres, ring.centres, ring.std)
    assert report.modes_covered == 8 == report.n_modes
    assert report.hq_fraction == 1.0
    assert report.reverse_kl == 0.0
    assert report.n_samples == 8
    assert report.counts == (1,) * 8


def test_all_samples_on_one_mode_give_log_k():
    ring = ring8()
    report = mode_metrics(ring.centres[3].repeat(100, 1), ring.centres, ring.std)
    assert report.modes_covered == 1
    assert report.hq_fraction == 1.0
    assert report.reverse_kl == pytest.approx(math.log(8), rel=1e-12)
    assert report.counts[3] == 100 and sum(report.counts) == 100


def test_half_the_modes_balanced_give_log_2():
    grid = grid25()
    samples = grid.centres[[0, 5, 10, 15, 20]].repeat(7, 1)  # 5 of 25 modes, 7 samples each
    report = mode_metrics(samples, grid.centres, grid.std)
    assert report.modes_covered == 5
    assert report.reverse_kl == pytest.approx(math.log(5), rel=1e-12)  # p = 1/5 on 5 of 25: log(25/5)


def test_the_three_std_boundary():
    ring = ring8()
    centre = ring.centres[0].to(torch.float64)
    direction = torch.tensor([0.6, 0.8], dtype=torch.float64)  # unit vector, not along an axis
    inside = centre + 2.99 * ring.std * direction
    outside = centre + 3.01 * ring.std * direction
    assert mode_metrics(inside[None], ring.centres, ring.std).hq_fraction == 1.0
    report = mode_metrics(outside[None], ring.centres, ring.std)
    assert report.hq_fraction == 0.0
    assert report.modes_covered == 0
    assert report.reverse_kl == math.inf  # no HQ sample: the histogram is undefined
    # n_std moves the boundary: at 4 std the same point is HQ.
    assert mode_metrics(outside[None], ring.centres, ring.std, n_std=4.0).hq_fraction == 1.0


def test_non_hq_samples_do_not_cover_modes():
    ring = ring8()
    far = ring.centres * 1.5  # each nearest its own centre, but 50 std away
    samples = torch.cat([ring.centres[:2], far])
    report = mode_metrics(samples, ring.centres, ring.std)
    assert report.modes_covered == 2
    assert report.hq_fraction == pytest.approx(2 / 10)
    assert report.reverse_kl == pytest.approx(math.log(4), rel=1e-12)  # p = 1/2 on 2 of 8 modes


@pytest.mark.parametrize("make,max_rkl", [(ring8, 0.01), (grid25, 0.02)])
def test_samples_of_the_true_mixture_reach_the_physical_limit(make, max_rkl):
    mixture = make()
    samples = mixture.sample(2500, torch.Generator().manual_seed(0))
    report = mode_metrics(samples, mixture.centres, mixture.std)
    assert report.modes_covered == len(mixture.centres)
    assert abs(report.hq_fraction - HQ_LIMIT) < 0.01
    assert 0 < report.reverse_kl < max_rkl


def test_hq_spread_of_known_offsets():
    ring = ring8()
    # every sample 1 std from its centre along one axis: RMS per-coordinate distance = 1/sqrt(2) std
    offsets = torch.tensor([[1.0, 0.0], [0.0, -1.0]]).repeat(4, 1) * ring.std
    report = mode_metrics(ring.centres + offsets, ring.centres, ring.std)
    assert report.hq_spread == pytest.approx(1 / math.sqrt(2), rel=1e-5)  # float32 centres + offsets
    assert math.isnan(mode_metrics(ring.centres * 2, ring.centres, ring.std).hq_spread)  # no HQ sample


def test_hq_spread_of_the_true_mixture_is_the_truncated_chi2_value():
    # r^2 / std^2 ~ chi2 with 2 dof; E[chi2_2 | chi2_2 <= 9] = (2 - 11 e^-4.5) / (1 - e^-4.5)
    expected = math.sqrt((2 - 11 * math.exp(-4.5)) / (1 - math.exp(-4.5)) / 2)
    assert expected == pytest.approx(0.9744, abs=1e-4)
    mixture = grid25()
    samples = mixture.sample(200_000, torch.Generator().manual_seed(1))
    assert mode_metrics(samples, mixture.centres, mixture.std).hq_spread == pytest.approx(expected, abs=0.004)


def test_mixtures_have_distinct_centres():
    ring, grid = ring8(), grid25()
    assert len(torch.unique(ring.centres.round(decimals=6), dim=0)) == 8  # not 7 (linspace endpoint bug)
    assert len(torch.unique(grid.centres.round(decimals=6), dim=0)) == 25
    # Neighbours are far apart compared with 3 std, so "nearest centre" is never ambiguous.
    ring_gap = torch.pdist(ring.centres).min().item()
    assert ring_gap == pytest.approx(2 * math.sin(math.pi / 8), rel=1e-6)
    assert torch.pdist(grid.centres).min().item() == pytest.approx(2.0)


def test_shape_errors():
    with pytest.raises(ValueError, match="centres"):
        mode_metrics(torch.zeros(5, 3), ring8().centres, 0.01)
    with pytest.raises(ValueError, match="positive"):
        mode_metrics(torch.zeros(5, 2), ring8().centres, 0.0)
