"""Tests of gankit/nets/unet.py: shapes, the skip wiring (probed by zeroing the bottleneck), dropout as noise."""

from __future__ import annotations

import pytest
import torch

from gankit.nets.unet import UNetGenerator


@pytest.mark.parametrize("side,stages", [(28, 2), (32, 3), (8, 1)])
def test_output_shape_and_depth_follow_the_image(side, stages):
    G = UNetGenerator(1, 3, side, width=4)
    assert len(G.down) == stages == len(G.up) == len(G.noise_shapes)
    x = torch.rand(2, 1, side, side) * 2 - 1
    out = G(x)
    assert out.shape == (2, 3, side, side) and out.abs().max() <= 1
    assert G.noise_dim == sum(c * h * w for c, h, w in G.noise_shapes)


def _zeroed_bottleneck(G: UNetGenerator, x: torch.Tensor) -> torch.Tensor:
    handle = G.bottleneck.register_forward_hook(lambda module, inputs, output: torch.zeros_like(output))
    try:
        return G(x)
    finally:
        handle.remove()


@torch.no_grad()
def test_skips_carry_the_input_past_a_zeroed_bottleneck_and_nothing_else_does():
    torch.manual_seed(0)
    x1, x2 = torch.rand(2, 1, 28, 28) * 2 - 1, torch.rand(2, 1, 28, 28) * 2 - 1
    unet = UNetGenerator(1, 1, 28, width=8, skips=True).eval()
    plain = UNetGenerator(1, 1, 28, width=8, skips=False).eval()
    # Intact, both nets depend on their input.
    assert (unet(x1) - unet(x2)).abs().max() > 1e-3 and (plain(x1) - plain(x2)).abs().max() > 1e-3
    # Bottleneck zeroed: the U-Net still sees its input through the skips; the encoder-decoder sees nothing.
    assert (_zeroed_bottleneck(unet, x1) - _zeroed_bottleneck(unet, x2)).abs().max() > 1e-3
    assert torch.equal(_zeroed_bottleneck(plain, x1), _zeroed_bottleneck(plain, x2))
    # The decoder's first layer reads bottleneck + deepest encoder channels with skips, the bottleneck alone without.
    assert unet.up[0][0].in_channels == 2 * 16 + 16 and plain.up[0][0].in_channels == 2 * 16


@torch.no_grad()
def test_dropout_masks_are_the_noise():
    torch.manual_seed(0)
    G = UNetGenerator(1, 1, 28, width=4, dropout=0.5).eval()
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    m1 = G.draw_masks(3, torch.Generator().manual_seed(1))
    m2 = G.draw_masks(3, torch.Generator().manual_seed(2))
    assert set(m1.unique().tolist()) == {0.0, 2.0} and m1.shape == (3, G.noise_dim)
    assert torch.equal(G(x, m1), G(x, m1))  # a mask fixes the translation, in eval mode too
    assert (G(x, m1) - G(x, m2)).abs().max() > 1e-3
    assert torch.equal(G(x), G(x, torch.ones(3, G.noise_dim)))  # eval without masks: no dropout
    G.train()
    torch.manual_seed(5)
    a = G(x)
    torch.manual_seed(5)
    assert torch.equal(a, G(x))  # training draws its masks from the global RNG
    assert UNetGenerator(1, 1, 28, width=4, dropout=0.0).noise_dim == 0
    with pytest.raises(ValueError, match=r"shape \(N, "):
        G(x, torch.ones(3, 5))
