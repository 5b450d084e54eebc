import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from gankit.data.toy import Spiral, gauss1d, grid25, make_toy, mog1d, ring8


def test_ring8_has_eight_distinct_unit_modes():
    r = ring8()
    c = r.centres.double()
    assert c.shape == (8, 2)
    assert torch.allclose(c.norm(dim=1), torch.ones(8, dtype=torch.float64), atol=1e-7)
    assert len({(round(x, 6), round(y, 6)) for x, y in c.tolist()}) == 8  # not 7 (the linspace pitfall)
    angles = sorted(math.atan2(y, x) % (2 * math.pi) for x, y in c.tolist())
    assert np.allclose(np.diff(angles), 2 * math.pi / 8)
    assert r.std == 0.01


def test_grid25_centres():
    g = grid25()
    expected = {(float(a), float(b)) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    assert {tuple(map(float, p)) for p in g.centres.tolist()} == expected
    assert g.std == 0.05


@pytest.mark.parametrize("mix", [ring8(), grid25(), mog1d(), gauss1d()])
def test_log_prob_matches_scipy(mix):
    x = mix.sample(200, torch.Generator().manual_seed(0)).double()
    ours = mix.log_prob(x)
    dens = sum(multivariate_normal(mean=m.numpy(), cov=mix.std**2).pdf(x.numpy()) for m in mix.means) / len(mix.means)
    assert np.allclose(ours.numpy(), np.log(dens), rtol=1e-9, atol=1e-9)


def test_mog1d_density_integrates_to_one():
    x = torch.linspace(-8, 8, 160001, dtype=torch.float64)[:, None]
    total = torch.trapezoid(mog1d().log_prob(x).exp(), x[:, 0])
    assert abs(float(total) - 1.0) < 1e-9


def test_spiral_density_integrates_to_one_and_samples_lie_on_it():
    s = Spiral(std=0.2, quadrature_points=1000)  # wider noise so that a coarse grid integrates it
    xs = torch.linspace(-4, 4, 161, dtype=torch.float64)
    grid = torch.cartesian_prod(xs, xs)
    p = s.log_prob(grid).exp().reshape(161, 161)
    total = float(p.sum() * (xs[1] - xs[0]) ** 2)
    assert abs(total - 1.0) < 2e-3
    x = Spiral().sample(1000, torch.Generator().manual_seed(1))
    assert float(Spiral().log_prob(x).mean()) > float(Spiral().log_prob(torch.zeros(1, 2)).mean()) + 3


def test_mixture_samples_have_the_right_moments():
    x = ring8().sample(40000, torch.Generator().manual_seed(0)).double()
    d = torch.cdist(x, ring8().means).min(dim=1).values
    # distance to the nearest centre is Rayleigh(0.01): mean 0.01 * sqrt(pi / 2)
    assert abs(float(d.mean()) - 0.01 * math.sqrt(math.pi / 2)) < 2e-4


def test_toy_dataset_is_fixed_and_split():
    a, b = make_toy("ring8", ring8(), n_train=1000), make_toy("ring8", ring8(), n_train=1000)
    assert torch.equal(a.train.float_x(), b.train.float_x())
    assert [len(a.split(s)) for s in ("train", "val", "test")] == [1000, 5000, 5000]
    assert a.info.kind == "vector" and a.info.shape == (2,) and a.info.num_classes == 0
    assert not torch.equal(a.split("val").float_x()[:1000], a.train.float_x())
