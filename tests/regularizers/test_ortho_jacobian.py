"""The orthonormal-Jacobian penalty: zero for an orthonormal linear G, the closed form for G = A z,
autograd and finite differences agree, and gradients reach G's weights."""

import pytest
import torch
from torch import nn

from gankit.regularizers.ortho_jacobian import (
    jacobian_along,
    ortho_jacobian_penalty,
    random_axes,
)

pytestmark = pytest.mark.usefixtures("float64")  # closed forms are compared to ~1e-12


def linear_G(A: torch.Tensor) -> nn.Linear:
    G = nn.Linear(A.shape[1], A.shape[0], bias=True)
    with torch.no_grad():
        G.weight.copy_(A)
        G.bias.normal_()  # a bias does not change the Jacobian
    return G


@pytest.mark.parametrize("method", ["autograd", "fd"])
def test_zero_for_orthonormal_linear_G(method):
    torch.manual_seed(0)
    Q, _ = torch.linalg.qr(torch.randn(7, 4))  # Q^T Q = I
    pen = ortho_jacobian_penalty(linear_G(Q), torch.randn(5, 4), n_dirs=3, method=method, eps=1e-3)
    assert abs(pen.item()) < 1e-12


@pytest.mark.parametrize("method", ["autograd", "fd"])
def test_closed_form_for_linear_G(method):
    torch.manual_seed(1)
    A = torch.randn(6, 4)
    P = torch.eye(4)[:, [2, 0]]                       # two chosen latent axes
    expected = (P.T @ A.T @ A @ P - torch.eye(2)).pow(2).sum()
    pen = ortho_jacobian_penalty(linear_G(A), torch.randn(3, 4), method=method, eps=1e-3, weight=0.5, P=P)
    torch.testing.assert_close(pen, 0.5 * expected, rtol=1e-9, atol=1e-9)


def test_autograd_and_finite_differences_agree_on_a_nonlinear_G():
    torch.manual_seed(2)
    G = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 5))
    z, P = torch.randn(8, 3), random_axes(3, 2)
    exact = jacobian_along(G, z, P, "autograd")
    fd = jacobian_along(G, z, P, "fd", eps=1e-5)
    assert exact.shape == (8, 5, 2)
    torch.testing.assert_close(fd, exact, rtol=1e-7, atol=1e-8)
    # and the Jacobian itself is right: compare with torch.autograd.functional.jacobian per sample
    full = torch.stack([torch.autograd.functional.jacobian(G, z[i]) for i in range(8)])  # (8, 5, 3)
    torch.testing.assert_close(exact, full @ P, rtol=1e-12, atol=1e-12)


def test_gradient_reaches_G_weights_like_the_closed_form():
    torch.manual_seed(3)
    A = torch.randn(5, 3)
    P = torch.eye(3)[:, [1, 2]]
    G = linear_G(A)
    ortho_jacobian_penalty(G, torch.randn(4, 3), P=P).backward()
    A_ref = A.clone().requires_grad_(True)
    (P.T @ A_ref.T @ A_ref @ P - torch.eye(2)).pow(2).sum().backward()
    torch.testing.assert_close(G.weight.grad, A_ref.grad, rtol=1e-10, atol=1e-10)


def test_random_axes_are_distinct_latent_coordinates():
    torch.manual_seed(4)
    P = random_axes(12, 4, n_latent=10)              # e.g. 10 noise dims + 2 code dims
    assert P.shape == (12, 4)
    torch.testing.assert_close(P.T @ P, torch.eye(4))
    assert P[10:].abs().sum() == 0                    # the code part is never perturbed
    assert random_axes(3, 8).shape == (3, 3)          # at most as many axes as there are


def test_batchnorm_G_uses_running_stats_and_keeps_its_state():
    torch.manual_seed(5)
    G = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    G.train()
    G(torch.randn(32, 3))                             # some running statistics
    state = {k: v.clone() for k, v in G.state_dict().items()}
    z, P = torch.randn(6, 3), torch.eye(3)[:, :2]
    J = jacobian_along(G, z, P)
    assert G.training and all(m.training for m in G.modules())
    for k, v in G.state_dict().items():
        torch.testing.assert_close(v, state[k], rtol=0, atol=0)
    G.eval()
    full = torch.stack([torch.autograd.functional.jacobian(G, z[i : i + 1])[0, :, 0] for i in range(6)])
    torch.testing.assert_close(J, full @ P, rtol=1e-12, atol=1e-12)
    assert J.abs().sum() > 0                          # train-mode BN would have cancelled the shift
