"""Spectral normalisation: every weight of D ends with largest singular value 1."""

import torch
from torch import nn
from torch.nn.utils import parametrize

from gankit.nets.dcgan import DCGANDiscriminator
from gankit.nets.mlp import MLPDiscriminator
from gankit.regularizers.minibatch import add_minibatch_discrimination
from gankit.regularizers.spectral import NORMALISED, spectral_normalize


def layers(D: nn.Module) -> list[nn.Module]:
    return [m for m in D.modules() if isinstance(m, NORMALISED)]


def run_power_iterations(D: nn.Module, x: torch.Tensor, n: int = 60) -> None:
    D.train()
    with torch.no_grad():
        for _ in range(n):  # each train-mode forward runs one power iteration per layer
            D(x)


def sigma(weight: torch.Tensor) -> torch.Tensor:
    return torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2)


def test_every_dcgan_and_mlp_weight_has_unit_spectral_norm():
    torch.manual_seed(0)
    for D, x in [(DCGANDiscriminator(1, 28, 8), torch.randn(4, 1, 28, 28)),
                 (add_minibatch_discrimination(MLPDiscriminator((2,), 16, 2), 3, 2), torch.randn(8, 2))]:
        with torch.no_grad():
            for i, m in enumerate(layers(D)):
                m.weight.mul_(3.0 + i)  # push every sigma well away from 1 first
        before = [sigma(m.weight.detach()) for m in layers(D)]
        spectral_normalize(D)
        run_power_iterations(D, x)
        assert len(layers(D)) >= 3 and all(parametrize.is_parametrized(m, "weight") for m in layers(D))
        for m, s0 in zip(layers(D), before):
            assert abs(s0.item() - 1) > 0.05                      # it was not 1 by chance
            torch.testing.assert_close(sigma(m.weight.detach()), torch.tensor(1.0), rtol=0, atol=1e-3)


def test_normalised_weight_is_original_divided_by_its_sigma():
    torch.manual_seed(1)
    lin = nn.Linear(5, 3)
    spectral_normalize(lin)
    run_power_iterations(lin, torch.randn(2, 5))
    W = lin.parametrizations.weight.original.detach()
    torch.testing.assert_close(lin.weight.detach(), W / sigma(W), rtol=0, atol=1e-5)


def test_applying_twice_changes_nothing():
    D = MLPDiscriminator((2,), 8, 2)
    spectral_normalize(D)
    keys = sorted(D.state_dict())
    spectral_normalize(D)
    assert sorted(D.state_dict()) == keys
