"""Feature matching: zero when the mean features coincide, the closed form otherwise, G-only gradients."""

import torch
from torch import nn

from gankit.regularizers.feature_matching import feature_matching_loss


class LinearFeatures(nn.Module):
    """f(x) = W x, so E f(real) - E f(fake) = W (mean real - mean fake)."""

    def __init__(self, W: torch.Tensor) -> None:
        super().__init__()
        self.W = nn.Parameter(W)

    def forward(self, x: torch.Tensor, with_features: bool = False):
        f = x @ self.W.T  # the features reach the loss only through forward, as in gankit's D nets
        return (f.sum(1), f) if with_features else f.sum(1)


def test_zero_when_features_coincide():
    D = LinearFeatures(torch.randn(3, 2))
    real = torch.randn(8, 2)
    assert feature_matching_loss(D, real, real.clone(), 2.0).item() == 0.0
    assert feature_matching_loss(D, real, real.flip(0), 2.0).item() < 1e-10  # same mean, other order
    assert feature_matching_loss(D, real, real + 0.1, 2.0).item() > 1e-3


def test_closed_form_on_tiny_inputs():
    W = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    D = LinearFeatures(W)
    real = torch.tensor([[1.0, 2.0], [3.0, 0.0]])     # mean (2, 1) -> f mean (2, 3)
    fake = torch.tensor([[0.0, 0.0], [0.0, 2.0]])     # mean (0, 1) -> f mean (0, 1)
    torch.testing.assert_close(feature_matching_loss(D, real, fake, 0.5), torch.tensor(0.5 * (4.0 + 4.0)))


def test_gradient_reaches_the_fakes_not_the_real_features():
    D = LinearFeatures(torch.eye(2))
    real = torch.tensor([[1.0, 1.0]], requires_grad=True)
    fake = torch.tensor([[0.0, 3.0]], requires_grad=True)
    feature_matching_loss(D, real, fake).backward()
    assert real.grad is None
    torch.testing.assert_close(fake.grad, torch.tensor([[-2.0, 4.0]]))  # d/dfake ||r - f||^2 = -2 (r - f)
