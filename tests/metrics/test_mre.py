"""MRE: ~0 when G contains the target exactly, positive when it cannot; protocol is deterministic."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.metrics.mre import MREConfig, invert, mre_report, reconstruction_errors
from gankit.sampling import LatentPrior


def _linear_G(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Unflatten(1, (2, 4)))


def test_targets_in_the_range_of_G_are_reconstructed_almost_exactly() -> None:
    G = _linear_G()
    z_true = torch.randn(6, 3, generator=torch.Generator().manual_seed(1)) * 0.5
    with torch.no_grad():
        x = G(z_true)
    errs = reconstruction_errors(G, 3, x, MREConfig(steps=300, lr=0.05, restarts=2, seed=0))
    assert errs.shape == (6,)
    assert float(errs.max()) < 1e-3


def test_targets_off_the_range_keep_their_distance_and_the_gap_is_test_minus_train() -> None:
    G = _linear_G()
    cfg = MREConfig(steps=150, lr=0.05, restarts=2)
    with torch.no_grad():
        train = G(torch.randn(4, 3, generator=torch.Generator().manual_seed(2)))
    test = torch.full((4, 2, 4), 3.0)  # tanh output lies in (-1, 1)
    rep = mre_report(G, 3, train, test, cfg)
    assert rep.train_mre < 1e-2
    assert rep.test_mre > 2 * 8 ** 0.5 - 1e-6  # every pixel is at least 3 - 1 = 2 away
    assert rep.gap == pytest.approx(rep.test_mre - rep.train_mre)


def test_deterministic_and_leaves_G_untouched() -> None:
    G = _linear_G().train()
    before = [p.clone() for p in G.parameters()]
    x = torch.rand(5, 2, 4)
    cfg = MREConfig(steps=20, restarts=3, batch_size=2, seed=7)
    a, b = reconstruction_errors(G, 3, x, cfg), reconstruction_errors(G, 3, x, cfg)
    assert torch.equal(a, b)
    assert G.training and all(p.requires_grad for p in G.parameters())
    assert all(torch.equal(p, q) for p, q in zip(G.parameters(), before))


def test_invert_returns_the_z_that_reaches_each_reported_error() -> None:
    G = _linear_G()
    x = torch.rand(7, 2, 4) * 2 - 1
    cfg = MREConfig(steps=40, lr=0.05, restarts=3, batch_size=3, seed=1)
    z, errs = invert(G, 3, x, cfg)
    assert z.shape == (7, 3) and torch.equal(errs, reconstruction_errors(G, 3, x, cfg))
    with torch.no_grad():
        direct = (G(z) - x).flatten(1).norm(dim=1)
    torch.testing.assert_close(direct, errs, rtol=1e-5, atol=1e-6)
    # the best over steps and restarts: never worse than any restart's starting point
    starts = LatentPrior(3).sample(3 * 3, seed=1)[:3]  # the first batch's first restart
    with torch.no_grad():
        assert bool(((G(starts) - x[:3]).flatten(1).norm(dim=1) >= errs[:3] - 1e-6).all())
