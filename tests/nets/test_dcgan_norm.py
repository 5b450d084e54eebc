"""net.params.d_norm of the DCGAN pair: a per-sample layer norm in D (WGAN-GP's critic normalisation)."""

import pytest
import torch
from torch import nn

from gankit.config import NetConfig
from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.nets import build_nets
from gankit.plugins import load_config
from gankit.regularizers.grad_norm import grad_norms

MNIST = DataInfo("mnist5k", "image", (1, 28, 28), num_classes=10)


def _d(norm: str) -> nn.Module:
    torch.manual_seed(0)
    return build_nets(NetConfig(name="dcgan", width=4, params={"d_norm": norm}), MNIST)[1]


def test_layer_norm_sits_after_every_conv_but_the_first():
    kinds = [type(m).__name__ for m in _d("layer").body]
    assert kinds == ["Conv2d", "LeakyReLU", "Conv2d", "GroupNorm", "LeakyReLU", "Flatten"]
    gn = _d("layer").body[3]
    assert (gn.num_groups, gn.num_channels) == (1, 8)  # one group: normalised over channels and pixels
    assert [type(m).__name__ for m in _d("none").body] == ["Conv2d", "LeakyReLU", "Conv2d", "LeakyReLU", "Flatten"]


def test_layer_norm_is_per_sample_so_the_gradient_penalty_stays_per_sample():
    D = _d("layer")
    x = torch.randn(5, 1, 28, 28)
    alone = torch.stack([D(x[i:i + 1])[0] for i in range(5)])
    torch.testing.assert_close(D(x), alone, rtol=0, atol=1e-5)  # no batch coupling
    one = torch.stack([grad_norms(D, x[i:i + 1])[0] for i in range(5)])
    torch.testing.assert_close(grad_norms(D, x), one, rtol=0, atol=1e-5)
    # and the layer's output is normalised per sample over (C, H, W) at init (scale 1, shift 0)
    h = D.body[:4](x)
    torch.testing.assert_close(h.mean(dim=(1, 2, 3)), torch.zeros(5), rtol=0, atol=1e-5)
    torch.testing.assert_close(h.var(dim=(1, 2, 3), unbiased=False), torch.ones(5), rtol=0, atol=1e-3)


def test_d_norm_none_is_the_plain_dcgan_d():
    torch.manual_seed(0)
    plain = build_nets(NetConfig(name="dcgan", width=4), MNIST)[1]
    x = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(_d("none")(x), plain(x), rtol=0, atol=0)


def test_bad_d_norm_is_one_line_naming_the_key():
    with pytest.raises(ConfigError, match=r"^net.params.d_norm: Input should be 'none' or 'layer'") as e:
        load_config(preset="mnist5k-wgan-gp", overrides=["net.params.d_norm=batch"])
    assert "\n" not in str(e.value)
    assert load_config(preset="mnist5k-wgan-gp", overrides=["net.params.d_norm=layer"]).net.params == {"d_norm": "layer"}
