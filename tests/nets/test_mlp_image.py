import pytest
import torch
from torch import nn

from gankit.config import NetConfig
from gankit.plugins import load_config
from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.classifier import build_classifier
from gankit.nets import build_nets
from gankit.nets.encoder import feature_body
from gankit.nets.layers import GaussianNoise, data_dependent_init, is_weight_normed, linear
from gankit.nets.mlp_image import MLPImageParams

DIGITS = DataInfo("digits", "image", (1, 8, 8), 10)
SMALL = {"d_hidden": [32, 16, 8], "g_hidden": [24, 12]}


def _net(**params) -> NetConfig:
    return NetConfig(name="mlp-image", z_dim=5, params={**SMALL, **params})


def _linears(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def test_defaults_are_the_paper_mnist_model():
    p = MLPImageParams()
    assert p.d_hidden == [1000, 500, 250, 250, 250] and p.g_hidden == [500, 500]
    assert p.d_noise == 0.5 and p.weight_norm and not p.train_hidden_scale and p.g_output == "tanh"
    G, D = build_nets(NetConfig(name="mlp-image"), DataInfo("mnist", "image", (1, 28, 28), 10))
    assert [m.out_features for m in _linears(D)] == [1000, 500, 250, 250, 250, 1]
    assert [m.out_features for m in _linears(G)] == [500, 500, 784]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in G.modules()) == 2


def test_shapes_follow_the_dataset():
    info = DataInfo("rgb", "image", (3, 6, 4), 5)  # not square: an MLP does not care
    G, D = build_nets(_net(), info)
    x = G(torch.randn(7, 5)).detach()
    assert x.shape == (7, 3, 6, 4) and float(x.abs().max()) <= 1.0
    assert D(x).shape == (7,) and D.features(x).shape == (7, 8)
    assert _linears(D)[0].in_features == 72 and _linears(G)[-1].out_features == 72


def test_weight_norm_on_every_d_layer_and_g_output_with_fixed_hidden_scales():
    G, D = build_nets(_net(), DIGITS)
    assert all(is_weight_normed(m) for m in _linears(D))
    assert [is_weight_normed(m) for m in _linears(G)] == [False, False, True]
    scales = [m.parametrizations.weight.original0 for m in _linears(D)]
    assert [g.requires_grad for g in scales] == [False, False, False, True]  # the head trains its scale
    _, D2 = build_nets(_net(train_hidden_scale=True), DIGITS)
    assert all(m.parametrizations.weight.original0.requires_grad for m in _linears(D2))
    _, D3 = build_nets(_net(weight_norm=False), DIGITS)
    assert not any(is_weight_normed(m) for m in _linears(D3))
    # w = g v / ||v|| row by row
    layer = _linears(D)[1]
    g, v = layer.parametrizations.weight.original0, layer.parametrizations.weight.original1
    torch.testing.assert_close(layer.weight, g * v / v.norm(dim=1, keepdim=True))


def test_noise_only_in_training_mode():
    torch.manual_seed(0)
    _, D = build_nets(_net(d_noise=0.5), DIGITS)
    x = torch.rand(6, 1, 8, 8) * 2 - 1
    D.eval()
    assert torch.equal(D(x), D(x)) and torch.equal(D.features(x), D.features(x))
    D.train()
    assert not torch.equal(D(x), D(x))
    noises = [m for m in D.modules() if isinstance(m, GaussianNoise)]
    assert [m.std for m in noises] == [0.5, 0.5, 0.5]  # before hidden layers 2 and 3, and before the head
    _, quiet = build_nets(_net(d_noise=0.0), DIGITS)
    quiet.train()
    state = torch.get_rng_state()
    assert torch.equal(quiet(x), quiet(x)) and torch.equal(torch.get_rng_state(), state)  # draws nothing


def test_gaussian_noise_layer():
    noise, x = GaussianNoise(0.3), torch.zeros(20000)
    assert torch.equal(noise.eval()(x), x)
    y = noise.train()(x)
    assert abs(float(y.std()) - 0.3) < 0.01 and abs(float(y.mean())) < 0.01


def test_same_seed_same_nets_and_outputs():
    def make():
        torch.manual_seed(3)
        G, D = build_nets(_net(), DIGITS)
        z = torch.randn(4, 5)
        return G, D, G(z), D(G(z))

    a, b = make(), make()
    assert all(torch.equal(p, q) for p, q in zip(a[0].state_dict().values(), b[0].state_dict().values()))
    assert all(torch.equal(p, q) for p, q in zip(a[1].state_dict().values(), b[1].state_dict().values()))
    assert torch.equal(a[2], b[2]) and torch.equal(a[3], b[3])


def test_feature_body_and_classifier_keep_noise_and_weight_normed_head():
    torch.manual_seed(0)
    body = feature_body(_net(), DIGITS)
    assert body.dim == 8 and isinstance(body.head_input, GaussianNoise) and body.head_weight_normed
    clf = build_classifier(_net(), DIGITS, noise_std=0.3)
    assert is_weight_normed(clf.head) and clf.head.out_features == 10
    assert clf.head.parametrizations.weight.original0.requires_grad
    x = torch.rand(5, 1, 8, 8) * 2 - 1
    clf.eval()
    assert torch.equal(clf(x), clf(x)) and clf(x).shape == (5, 10)
    clf.train()
    assert not torch.equal(clf(x), clf(x))
    # a DCGAN body has no head_input and a plain head
    dc = feature_body(NetConfig(name="dcgan", width=4, z_dim=5), DIGITS)
    assert isinstance(dc.head_input, nn.Identity) and not dc.head_weight_normed


def test_data_dependent_init_gives_unit_preactivations():
    torch.manual_seed(0)
    clf = build_classifier(_net(), DIGITS)
    x = torch.rand(200, 1, 8, 8) * 2 - 1
    pre: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: pre.append(out)) for m in _linears(clf)]
    state = torch.get_rng_state()
    assert data_dependent_init(clf, x) == 4 and torch.equal(torch.get_rng_state(), state)
    assert clf.training  # mode restored
    pre.clear()
    with torch.no_grad():
        clf.eval()(x)
    for out in pre:  # every layer, measured after the init: mean 0, std 1 per unit
        torch.testing.assert_close(out.mean(0), torch.zeros(out.shape[1]), atol=1e-4, rtol=0)
        torch.testing.assert_close(out.std(0), torch.ones(out.shape[1]), atol=1e-4, rtol=0)
    for h in hooks:
        h.remove()
    assert data_dependent_init(nn.Sequential(linear(3, 2)), torch.randn(4, 3)) == 0  # nothing weight-normed


def test_bad_params_name_the_key():
    with pytest.raises(ConfigError, match=r"net.params.d_hidden.1: .*greater than or equal to 1"):
        build_nets(_net(d_hidden=[8, 0]), DIGITS)
    with pytest.raises(ConfigError, match=r"net.params.width: .*takes: d_hidden"):
        build_nets(NetConfig(name="mlp-image", params={"width": 3}), DIGITS)
    with pytest.raises(ConfigError, match="mlp-image is for images"):
        build_nets(_net(), DataInfo("ring8", "vector", (2,)))
    with pytest.raises(ConfigError, match="net.params: net 'mlp' takes no parameters, got d_noise"):
        build_nets(NetConfig(name="mlp", params={"d_noise": 0.1}), DataInfo("ring8", "vector", (2,)))
    # and already when the config is loaded (so `gankit train --dry-run` reports it)
    with pytest.raises(ConfigError, match=r"net.params.g_output: Input should be 'tanh' or 'linear'"):
        load_config(preset="mnist5k-ssgan-mlp", overrides=["net.params.g_output=sigmoid"])
    with pytest.raises(ConfigError, match=r"net.params.d_noise: .*net 'dcgan' takes: d_norm"):
        load_config(overrides=["net.params.d_noise=0.1"])


def test_params_from_overrides_and_preset():
    cfg = load_config(preset="mnist5k-ssgan-mlp", overrides=["net.params.d_noise=0.3"])
    assert cfg.net.name == "mlp-image" and cfg.net.params == {"g_output": "linear", "d_noise": 0.3}


def test_linear_output_is_unbounded_tanh_is_not():
    torch.manual_seed(0)
    G, _ = build_nets(_net(g_output="linear"), DIGITS)
    with torch.no_grad():
        G.net[-2].parametrizations.weight.original0.mul_(100.0)  # a large output scale
        x = G(torch.randn(50, 5))
    assert float(x.abs().max()) > 1.0 and isinstance(G.net[-1], nn.Identity)
    torch.manual_seed(0)
    T, _ = build_nets(_net(), DIGITS)
    assert isinstance(T.net[-1], nn.Tanh)
