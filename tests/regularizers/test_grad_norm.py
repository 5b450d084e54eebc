"""Gradient penalty, R1 and R2 against their closed forms on linear and quadratic critics."""

import pytest
import torch

from gankit.regularizers.grad_norm import (
    grad_norms,
    gradient_penalty,
    interpolates,
    r1_penalty,
    r2_penalty,
)

pytestmark = pytest.mark.usefixtures("float64")  # closed forms are compared to ~1e-12


def linear_critic(w: torch.Tensor):
    return lambda x: x @ w


def quadratic_critic(A: torch.Tensor):
    return lambda x: torch.einsum("ni,ij,nj->n", x, A, x)


def test_grad_norms_of_linear_critic_are_norm_w():
    w = torch.tensor([3.0, 4.0])
    norms = grad_norms(linear_critic(w), torch.randn(7, 2))
    assert norms.shape == (7,)
    torch.testing.assert_close(norms, torch.full((7,), 5.0), rtol=0, atol=1e-12)


@pytest.mark.parametrize("at", ["interpolates", "real", "fake"])
@pytest.mark.parametrize("w,center", [([3.0, 4.0], 1.0), ([0.3, 0.4], 1.0), ([1.0, 2.0, 2.0], 2.0)])
def test_two_sided_penalty_of_linear_critic_is_exact(w, center, at):
    w = torch.tensor(w)
    real, fake = torch.randn(16, len(w)), torch.randn(16, len(w))
    gp = gradient_penalty(linear_critic(w), real, fake, weight=10.0, center=center, at=at)
    expected = 10.0 * (w.norm() - center) ** 2
    torch.testing.assert_close(gp, expected, rtol=0, atol=1e-12)


def test_one_sided_penalty_is_zero_below_center_and_two_sided_above():
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    small, big = torch.tensor([0.3, 0.4]), torch.tensor([3.0, 4.0])
    assert gradient_penalty(linear_critic(small), real, fake, 1.0, one_sided=True).item() == 0.0
    assert gradient_penalty(linear_critic(small), real, fake, 1.0, one_sided=False).item() == pytest.approx(0.25)
    assert gradient_penalty(linear_critic(big), real, fake, 1.0, one_sided=True).item() == pytest.approx(16.0)


def test_penalty_back_propagates_into_the_critic_weights():
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||: the double backward reaches w.
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    gradient_penalty(linear_critic(w), torch.randn(4, 2), torch.randn(4, 2), weight=1.0).backward()
    torch.testing.assert_close(w.grad, 2 * 4.0 * torch.tensor([0.6, 0.8]), rtol=0, atol=1e-12)


def test_interpolates_lie_on_the_segments_with_one_eps_per_sample():
    real, fake = torch.randn(50, 3, 2, 2), torch.randn(50, 3, 2, 2)
    torch.manual_seed(0)
    x_hat = interpolates(real, fake)
    # x_hat - fake = eps (real - fake) with one eps per sample, in [0, 1]
    eps = ((x_hat - fake).flatten(1) / (real - fake).flatten(1))
    torch.testing.assert_close(eps, eps[:, :1].expand_as(eps), rtol=0, atol=1e-9)
    assert 0 <= eps.min() and eps.max() <= 1 and eps[:, 0].std() > 0.1
    torch.manual_seed(0)
    torch.testing.assert_close(interpolates(real, fake), x_hat, rtol=0, atol=0)  # global RNG: reproducible


def test_r1_and_r2_of_quadratic_critic_have_closed_form():
    # D(x) = x^T A x, A symmetric: grad = 2 A x, so R1 = gamma/2 E ||2 A x||^2.
    B = torch.randn(3, 3)
    A = B + B.T
    real, fake = torch.randn(10, 3), torch.randn(12, 3)
    gamma = 0.7
    closed = lambda x: gamma / 2 * (2 * x @ A).pow(2).sum(1).mean()
    torch.testing.assert_close(r1_penalty(quadratic_critic(A), real, gamma), closed(real), rtol=1e-12, atol=0)
    torch.testing.assert_close(r2_penalty(quadratic_critic(A), fake, gamma), closed(fake), rtol=1e-12, atol=0)
    assert not torch.allclose(closed(real), closed(fake))  # the two really use different samples


def test_packed_scores_group_their_samples_gradients():
    # A packed critic scores pairs: D(x_2i, x_2i+1) = w.x_2i + v.x_2i+1 -> norm sqrt(||w||^2 + ||v||^2).
    w, v = torch.tensor([1.0, 2.0]), torch.tensor([2.0, 4.0])
    D = lambda x: x.reshape(len(x) // 2, 4) @ torch.cat([w, v])
    norms = grad_norms(D, torch.randn(6, 2))
    torch.testing.assert_close(norms, torch.full((3,), 5.0), rtol=0, atol=1e-12)
