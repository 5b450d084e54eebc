import math

import pytest
import torch

from gankit.objectives import build_objective
from gankit.objectives.gan import Minimax, NonSaturating, gan_value
from gankit.config import ObjectiveConfig


def logit(p: torch.Tensor) -> torch.Tensor:
    return torch.log(p) - torch.log1p(-p)


@pytest.mark.parametrize("obj", [Minimax(), NonSaturating()])
def test_half_everywhere_gives_minus_log4(obj):
    zeros = torch.zeros(17, dtype=torch.float64)
    assert abs(float(gan_value(zeros, zeros)) + math.log(4)) < 1e-12
    assert abs(float(obj.d_loss(zeros, zeros)) - math.log(4)) < 1e-12


def test_optimal_discriminator_gives_minus_log4_plus_2jsd():
    # Two discrete distributions on 6 points; expectations are exact weighted sums.
    p = torch.tensor([0.05, 0.10, 0.20, 0.30, 0.25, 0.10], dtype=torch.float64)
    q = torch.tensor([0.30, 0.25, 0.15, 0.10, 0.10, 0.10], dtype=torch.float64)
    d_star = p / (p + q)
    l = logit(d_star)
    # V = sum p log D* + sum q log(1 - D*), written with the objective's own terms per point.
    v = sum(p[i] * gan_value(l[i : i + 1], torch.tensor([-1e9], dtype=torch.float64)) for i in range(6)) + sum(
        q[i] * (gan_value(torch.tensor([1e9], dtype=torch.float64), l[i : i + 1])) for i in range(6)
    )
    m = (p + q) / 2
    jsd = 0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum()
    assert abs(float(v) - (-math.log(4) + 2 * float(jsd))) < 1e-9


def test_minimax_generator_loss_is_the_fake_term_of_v():
    f = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64)
    expected = torch.log1p(-torch.sigmoid(f)).mean()  # E log(1 - D(G(z)))
    assert torch.allclose(Minimax().g_loss(f), expected)
    assert torch.allclose(NonSaturating().g_loss(f), -torch.log(torch.sigmoid(f)).mean())


def test_losses_are_finite_for_extreme_logits():
    big = torch.tensor([-1e4, 1e4])
    for obj in (Minimax(), NonSaturating()):
        assert torch.isfinite(obj.d_loss(big, big)) and torch.isfinite(obj.g_loss(big))


@pytest.mark.parametrize("obj", [Minimax(), NonSaturating()])
def test_gradients_push_outputs_the_right_way(obj):
    real = torch.zeros(4, requires_grad=True)
    fake = torch.zeros(4, requires_grad=True)
    obj.d_loss(real, fake).backward()
    assert (real.grad < 0).all()  # descending raises D's score on real data
    assert (fake.grad > 0).all()  # and lowers it on fakes
    fake_g = torch.zeros(4, requires_grad=True)
    obj.g_loss(fake_g).backward()
    assert (fake_g.grad < 0).all()  # G wants D to call its samples real


def test_saturation_is_the_difference_between_the_two_forms():
    # When D confidently rejects fakes (logit -10), the minimax G gradient all but vanishes.
    f1 = torch.tensor([-10.0], requires_grad=True)
    Minimax().g_loss(f1).backward()
    f2 = torch.tensor([-10.0], requires_grad=True)
    NonSaturating().g_loss(f2).backward()
    assert abs(float(f1.grad)) < 1e-4 and abs(float(f2.grad)) > 0.99


def test_build_by_name():
    assert isinstance(build_objective(ObjectiveConfig(name="minimax")), Minimax)
    assert isinstance(build_objective(ObjectiveConfig(name="nonsaturating")), NonSaturating)
