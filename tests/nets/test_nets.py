import pytest
import torch

from gankit.config import NetConfig
from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.nets import build_nets
from gankit.nets.dcgan import stages_for


@pytest.mark.parametrize("size, stages, base", [(8, 1, 4), (28, 2, 7), (32, 3, 4), (64, 4, 4)])
def test_dcgan_depth_follows_image_size(size, stages, base):
    assert stages_for(size) == (stages, base)
    info = DataInfo("x", "image", (3, size, size), 10)
    G, D = build_nets(NetConfig(name="dcgan", width=8, z_dim=10), info)
    x = G(torch.randn(5, 10)).detach()
    assert x.shape == (5, 3, size, size)
    assert float(x.abs().max()) <= 1.0
    assert D(x).shape == (5,)
    n_up = sum(isinstance(m, torch.nn.ConvTranspose2d) for m in G.modules())
    n_down = sum(isinstance(m, torch.nn.Conv2d) for m in D.modules())
    assert n_up == stages and n_down == stages


def test_dcgan_rejects_sizes_it_cannot_build():
    with pytest.raises(ConfigError, match="data.image_size"):
        stages_for(7)
    with pytest.raises(ConfigError, match="dcgan is for images"):
        build_nets(NetConfig(name="dcgan"), DataInfo("ring8", "vector", (2,)))


def test_mlp_pair_shapes():
    info = DataInfo("ring8", "vector", (2,))
    G, D = build_nets(NetConfig(name="mlp", width=16, depth=2, z_dim=3), info)
    assert G(torch.randn(7, 3)).shape == (7, 2) and D(torch.randn(7, 2)).shape == (7,)
    assert sum(isinstance(m, torch.nn.Linear) for m in G.modules()) == 3
    with pytest.raises(ConfigError, match="mlp is for vector data"):
        build_nets(NetConfig(name="mlp"), DataInfo("digits", "image", (1, 8, 8)))
