import pytest
import torch

from gankit.objectives.lsgan import LeastSquares
from tests.objectives.helpers import expect, per_point, two_gaussians


def test_losses_in_closed_form():
    obj = LeastSquares(a=-1, b=1, c=0)
    real = torch.tensor([1.0, 0.0, 3.0])
    fake = torch.tensor([-1.0, 1.0])
    # 1/2 mean((r - 1)^2) = 1/2 * (0 + 1 + 4) / 3; 1/2 mean((f + 1)^2) = 1/2 * (0 + 4) / 2
    assert float(obj.d_loss(real, fake)) == pytest.approx(5 / 6 + 1.0, abs=1e-7)
    assert float(obj.g_loss(fake)) == pytest.approx(0.5 * (1 + 1) / 2, abs=1e-7)
    assert float(LeastSquares().g_loss(torch.tensor([1.0, 1.0]))) == 0.0  # 0-1 coding: c = 1


def test_optimal_d_and_pearson_chi2_of_the_paper():
    # Mao et al. Eq. 4: D*(x) = (b p + a q) / (p + q); with b - c = 1, b - a = 2 (a=-1, b=1, c=0),
    # 2 C(G) = chi^2_Pearson(p + q || 2q) = sum (2q - (p + q))^2 / (p + q)  (Eq. 8).
    _, p, q = two_gaussians()
    obj = LeastSquares(a=-1, b=1, c=0)
    d_star = (obj.b * p + obj.a * q) / (p + q)
    c_of_g = expect(p, per_point(obj.g_loss, d_star)) + expect(q, per_point(obj.g_loss, d_star))
    chi2 = ((q - p) ** 2 / (p + q)).sum()
    assert abs(float(2 * c_of_g) - float(chi2)) < 1e-12 and float(chi2) > 0.1

    def v_d(d: torch.Tensor) -> torch.Tensor:  # D's objective as exact expectations over the grid
        at_a = torch.full((1,), float(obj.a), dtype=torch.float64)
        at_b = torch.full((1,), float(obj.b), dtype=torch.float64)
        return expect(p, per_point(lambda o: obj.d_loss(o, at_a), d)) + expect(
            q, per_point(lambda o: obj.d_loss(at_b, o), d))

    best = float(v_d(d_star))
    for shift in (1e-2, -1e-2):
        assert float(v_d(d_star + shift)) > best + 1e-6


def test_says_real_is_nearer_to_b():
    assert LeastSquares().says_real(torch.tensor([0.4, 0.6])).tolist() == [False, True]
    assert LeastSquares(a=1, b=0, c=0).says_real(torch.tensor([0.4, 0.6])).tolist() == [True, False]


def test_equal_targets_are_rejected():
    with pytest.raises(ValueError, match="a=1: must differ from b=1"):
        LeastSquares(a=1, b=1)
