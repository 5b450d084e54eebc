import pytest
import torch
from torch import nn

from gankit.config import NetConfig
from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.nets import build_nets
from gankit.nets.conditional import feature_dim

MNIST = DataInfo("mnist5k", "image", (1, 28, 28), 10)


def test_infogan_mnist_nets_have_the_papers_layers():
    G, D = build_nets(NetConfig(name="infogan-mnist", z_dim=74), MNIST)
    linear_g = [m.out_features for m in G.modules() if isinstance(m, nn.Linear)]
    assert linear_g == [1024, 7 * 7 * 128]
    assert [m.out_channels for m in G.modules() if isinstance(m, nn.ConvTranspose2d)] == [64, 1]
    assert [m.out_channels for m in D.modules() if isinstance(m, nn.Conv2d)] == [64, 128]
    assert feature_dim(D) == 1024  # Q reads the shared FC-1024 trunk
    assert sum(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in D.modules()) == 2
    x = G(torch.randn(5, 74))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    score, f = D(x, with_features=True)
    assert score.shape == (5,) and f.shape == (5, 1024)
    assert torch.equal(score, D.head(f).squeeze(1))


def test_infogan_mnist_rejects_sides_not_divisible_by_4():
    with pytest.raises(ConfigError, match="infogan-mnist"):
        build_nets(NetConfig(name="infogan-mnist"), DataInfo("x", "image", (1, 30, 30)))
