import pytest
import torch

from gankit.objectives.hinge import Hinge
from tests.objectives.helpers import expect, per_point, two_gaussians


def test_losses_in_closed_form():
    real = torch.tensor([2.0, 0.5, -1.0])   # hinge terms 0, 0.5, 2
    fake = torch.tensor([-3.0, 0.0, 0.5])   # hinge terms 0, 1, 1.5
    assert float(Hinge().d_loss(real, fake)) == pytest.approx(2.5 / 3 + 2.5 / 3, abs=1e-7)
    assert float(Hinge().g_loss(fake)) == pytest.approx(2.5 / 3, abs=1e-7)


def test_optimal_d_is_the_sign_and_the_minimum_is_two_minus_two_tv():
    # pointwise min over D of p (1 - D)_+ + q (1 + D)_+ is 2 min(p, q), at D = sign(p - q)
    _, p, q = two_gaussians()
    one = torch.ones(1, dtype=torch.float64)

    def d_objective(d: torch.Tensor) -> torch.Tensor:
        return expect(p, per_point(lambda o: Hinge().d_loss(o, -one), d)) + expect(
            q, per_point(lambda o: Hinge().d_loss(one, o), d))

    d_star = torch.sign(p - q)
    tv = 0.5 * (p - q).abs().sum()
    assert abs(float(d_objective(d_star)) - float(2 - 2 * tv)) < 1e-12
    assert float(d_objective(0.9 * d_star)) > float(d_objective(d_star)) + 1e-6
