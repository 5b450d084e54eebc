"""One-sided label smoothing for the sigmoid cross-entropy objectives."""

import pytest
import torch
import torch.nn.functional as F

from gankit.objectives.gan import Minimax, NonSaturating
from gankit.regularizers.label_smoothing import (
    smoothed_logistic_d_loss,
    supports_label_smoothing,
)


@pytest.mark.parametrize("objective", [Minimax(), NonSaturating()])
def test_smoothed_d_loss_matches_the_formula(objective):
    real, fake = torch.tensor([-2.0, 0.0, 3.0]), torch.tensor([1.0, -1.0])
    a = 0.1
    expected = ((1 - a) * F.softplus(-real) + a * F.softplus(real)).mean() + F.softplus(fake).mean()
    torch.testing.assert_close(objective.d_loss_smoothed(real, fake, a), expected, rtol=0, atol=1e-7)
    # The same thing written as a cross-entropy with target 1 - a on reals, 0 on fakes:
    bce = F.binary_cross_entropy_with_logits(real, torch.full_like(real, 1 - a)) + \
        F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    torch.testing.assert_close(objective.d_loss_smoothed(real, fake, a), bce, rtol=0, atol=1e-6)


def test_alpha_zero_is_the_plain_loss_and_alpha_changes_it():
    real, fake = torch.randn(7), torch.randn(5)
    torch.testing.assert_close(smoothed_logistic_d_loss(real, fake, 0.0), NonSaturating().d_loss(real, fake),
                               rtol=0, atol=1e-7)
    assert not torch.allclose(smoothed_logistic_d_loss(real, fake, 0.2), NonSaturating().d_loss(real, fake))


def test_optimal_real_logit_is_the_smoothed_target():
    # On reals alone the loss is minimised where sigmoid(l) = 1 - a: the gradient vanishes there.
    a = 0.2
    l = torch.logit(torch.tensor([1 - a])).requires_grad_(True)
    real_term = (1 - a) * F.softplus(-l) + a * F.softplus(l)
    real_term.sum().backward()
    assert abs(l.grad.item()) < 1e-6


def test_support_is_explicit():
    assert supports_label_smoothing(NonSaturating) and supports_label_smoothing(Minimax())
    assert not supports_label_smoothing(object())
