import math

import pytest
import torch

from gankit.objectives.fgan import DIVERGENCES, FGAN
from gankit.objectives.gan import NonSaturating
from tests.objectives.helpers import jsd, two_gaussians

X, P, Q = two_gaussians()
KEEP = (P > 1e-30) & (Q > 1e-30)  # drop points where a ratio under- or overflows (mass < 1e-25 in all)
X, P, Q = X[KEEP], P[KEEP] / P[KEEP].sum(), Q[KEEP] / Q[KEEP].sum()

# Each divergence D_f(P || Q) computed directly from its definition, independently of f.
DIRECT = {
    "kl": lambda p, q: (p * (p / q).log()).sum(),
    "reverse-kl": lambda p, q: (q * (q / p).log()).sum(),
    "pearson": lambda p, q: ((p - q) ** 2 / q).sum(),
    "hellinger": lambda p, q: ((p.sqrt() - q.sqrt()) ** 2).sum(),
    "js": lambda p, q: 2 * jsd(p, q),                     # the paper's f gives twice the JSD
    "gan": lambda p, q: 2 * jsd(p, q) - math.log(4),
    "total-variation": lambda p, q: 0.5 * (p - q).abs().sum(),
}


def test_the_table_covers_the_required_divergences():
    assert set(DIRECT) == set(DIVERGENCES)


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_variational_bound_is_tight_at_the_optimal_T_and_lower_elsewhere(name):
    div = DIVERGENCES[name]
    ratio = P / Q
    true = float(DIRECT[name](P, Q))
    assert abs(float((Q * div.f(ratio)).sum()) - true) < 1e-9  # D_f = E_Q f(p/q) agrees with the direct form

    def bound(T: torch.Tensor) -> float:  # E_P[T] - E_Q[f*(T)] as exact sums over the grid
        return float((P * T).sum() - (Q * div.f_star(T)).sum())

    assert abs(bound(div.f_prime(ratio)) - true) < 1e-6
    for wobble in (0.3 * torch.sin(3 * X), -0.2 * torch.ones_like(X)):
        other = div.f_prime(ratio * torch.exp(wobble))  # another T in the range of f'
        assert bound(other) < true - 1e-6
    assert bound(torch.zeros_like(X) + div.f_prime(torch.tensor(1.0, dtype=torch.float64))) < true - 1e-6


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_conjugate_identity_and_activation(name):
    div = DIVERGENCES[name]
    u = torch.linspace(0.05, 6.0, 200, dtype=torch.float64)
    u = u[(u - 1).abs() > 1e-3]  # total variation's f' jumps at u = 1
    t = div.f_prime(u)
    # Fenchel-Young with equality at t = f'(u): f*(f'(u)) = u f'(u) - f(u)
    assert torch.allclose(div.f_star(t), u * t - div.f(u), atol=1e-12, rtol=0)
    v = torch.linspace(-3.0, 3.0, 61, dtype=torch.float64)
    assert torch.allclose(div.conj_of_act(v), div.f_star(div.act(v)), atol=1e-12, rtol=1e-12)
    assert (div.act(v[1:]) > div.act(v[:-1])).all()  # g_f is increasing: a higher output means "more real"


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_losses_are_the_saddle_objective_and_the_alternative_g_loss(name):
    obj, div = FGAN(divergence=name), DIVERGENCES[name]
    real, fake = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64), torch.tensor([-0.4, 0.8], dtype=torch.float64)
    saddle = div.act(real).mean() - div.f_star(div.act(fake)).mean()
    assert abs(float(obj.d_loss(real, fake) + saddle)) < 1e-12
    assert abs(float(obj.g_loss(fake) + div.act(fake).mean())) < 1e-15


def test_the_gan_divergence_is_the_original_gan_and_says_real_agrees():
    real, fake = torch.tensor([0.3, -1.2, 2.0]), torch.tensor([-0.4, 0.8])
    assert torch.allclose(FGAN("gan").d_loss(real, fake), NonSaturating().d_loss(real, fake), atol=1e-6)
    assert torch.allclose(FGAN("gan").g_loss(fake), NonSaturating().g_loss(fake), atol=1e-6)
    # The paper's js f is the same game shifted by constants (D: -log 4, G: -log 2), so it trains identically.
    assert abs(float(FGAN("js").d_loss(real, fake) - NonSaturating().d_loss(real, fake)) + math.log(4)) < 1e-6
    assert abs(float(FGAN("js").g_loss(fake) - NonSaturating().g_loss(fake)) + math.log(2)) < 1e-6
    v = torch.tensor([-0.1, 0.1])
    assert FGAN("gan").says_real(v).tolist() == [False, True] == FGAN("js").says_real(v).tolist()
    assert FGAN("kl").says_real(torch.tensor([0.9, 1.1])).tolist() == [False, True]  # f'(1) = 1


def test_unknown_divergence_is_rejected():
    with pytest.raises(ValueError, match="divergence='chi': choose one of kl, reverse-kl, pearson"):
        FGAN(divergence="chi")
