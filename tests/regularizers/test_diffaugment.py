"""DiffAugment: each transformation against an independent by-hand computation, the wrapper's train/eval
behaviour, G's gradient through T, the build-time switch, and a run that resumes bitwise."""

import pytest
import torch

from gankit.engine.checkpoint import load_latest
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.nets.dcgan import DCGANDiscriminator
from gankit.plugins import load_config
from gankit.regularizers import apply_to_nets
from gankit.regularizers.diffaugment import Augmented, color, cutout, diff_augment, translate, unwrap
from gankit.nets import build_nets
from gankit.data.base import DataInfo


def test_translate_moves_every_image_by_its_own_shift_and_fills_zeros():
    x = torch.randn(3, 2, 5, 6)
    ty, tx = torch.tensor([0, 2, -1]), torch.tensor([0, -3, 1])
    out = translate(x, ty, tx)
    for n in range(3):
        want = torch.zeros(2, 5, 6)
        for i in range(5):
            for j in range(6):
                si, sj = i - int(ty[n]), j - int(tx[n])
                if 0 <= si < 5 and 0 <= sj < 6:
                    want[:, i, j] = x[n, :, si, sj]
        torch.testing.assert_close(out[n], want, rtol=0, atol=0)


def test_cutout_zeros_exactly_the_square_and_may_cross_the_border():
    x = torch.ones(2, 1, 6, 6)
    out = cutout(x, torch.tensor([3, 0]), torch.tensor([3, 5]), (2, 4))
    want0 = torch.ones(6, 6)
    want0[2:4, 1:5] = 0                      # rows 3-1 .. 3-1+2, cols 3-2 .. 3-2+4
    want1 = torch.ones(6, 6)
    want1[0:1, 3:6] = 0                      # rows -1 .. 1 and cols 3 .. 7, clipped to the image
    torch.testing.assert_close(out[0, 0], want0, rtol=0, atol=0)
    torch.testing.assert_close(out[1, 0], want1, rtol=0, atol=0)


def test_color_is_brightness_then_saturation_then_contrast():
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    u = torch.tensor([[0.7, 0.2, 0.9], [0.1, 0.5, 0.3]], dtype=torch.float64)
    out = color(x, u)
    for n in range(2):
        b, s, c = u[n].tolist()
        y = x[n] + (b - 0.5)
        m = y.mean(dim=0)
        y = m + (y - m) * 2 * s
        y = y.mean() + (y - y.mean()) * (c + 0.5)
        torch.testing.assert_close(out[n], y, rtol=0, atol=1e-12)
    # u = (0.5, 0.5, 0.5): brightness +0, saturation x1, contrast x1, the identity
    torch.testing.assert_close(color(x, torch.full((2, 3), 0.5, dtype=torch.float64)), x, rtol=0, atol=1e-12)


def test_diff_augment_shapes_ranges_and_determinism():
    x = torch.randn(16, 1, 28, 28)
    torch.manual_seed(3)
    a = diff_augment(x, ["translation", "cutout"])
    torch.manual_seed(3)
    b = diff_augment(x, ["translation", "cutout"])
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert a.shape == x.shape and not torch.equal(a, x)
    # the 14 x 14 hole (half of each side) centred in [0, 28]: at least its 7 x 7 corner lies in the image
    assert ((a == 0).flatten(1).sum(1) >= 7 * 7).all()


def test_augmented_d_transforms_in_training_mode_only_and_passes_gradients():
    torch.manual_seed(0)
    inner = DCGANDiscriminator(1, 8, 8)
    D = Augmented(inner, ["translation", "cutout"])
    x = torch.randn(8, 1, 8, 8, requires_grad=True)
    D.eval()
    torch.testing.assert_close(D(x), inner(x), rtol=0, atol=0)
    torch.testing.assert_close(D.features(x), inner.features(x), rtol=0, atol=0)
    D.train()
    torch.manual_seed(1)
    out = D(x)
    torch.manual_seed(1)
    torch.testing.assert_close(out, inner(diff_augment(x, ["translation", "cutout"])), rtol=0, atol=0)
    assert not torch.allclose(out, inner(x))
    out.sum().backward()                       # G's gradient reaches the image through T
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert D.head is inner.head and unwrap(D) is inner and unwrap(inner) is inner
    with pytest.raises(AttributeError):
        D.head = torch.nn.Linear(4, 1)
    with pytest.raises(ValueError, match="policy"):
        Augmented(inner, ["flip"])


def test_switch_wraps_d_outermost_and_rejects_vector_data():
    cfg = load_config(overrides=["data.name=digits", "reg.diffaugment=[translation]", "reg.pack=2"])
    info = DataInfo("digits", "image", (1, 8, 8), 10)
    G, D = apply_to_nets(cfg, info, *build_nets(cfg.net, info))
    assert isinstance(D, Augmented) and D.policy == ("translation",) and type(D.inner).__name__ == "Packed"
    vec = load_config(preset="ring8", overrides=["reg.diffaugment=[cutout]"])
    vinfo = DataInfo("ring8", "vector", (2,))
    with pytest.raises(ConfigError, match="reg.diffaugment"):
        apply_to_nets(vec, vinfo, *build_nets(vec.net, vinfo))


def test_a_diffaugment_run_is_deterministic_and_resumes_bitwise(tiny_image_config, tmp_path):
    cfg = load_config(base=tiny_image_config.to_dict(),
                      overrides=["reg.diffaugment=[color,translation,cutout]", "train.checkpoint_every=5"])
    full = train(cfg, run_dir=tmp_path / "full", progress=False)
    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == 7)
    resumed = train(resume=part.run_dir, progress=False)
    a, b = load_latest(full.run_dir / "checkpoints").tensors, load_latest(resumed.run_dir / "checkpoints").tensors
    assert a.keys() == b.keys() and any(k.startswith("D.inner.") for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)
    plain = train(tiny_image_config, run_dir=tmp_path / "plain", progress=False)
    c = load_latest(plain.run_dir / "checkpoints").tensors
    assert not torch.equal(a["G.project.0.weight"], c["G.project.0.weight"])  # the augmentation changed training
