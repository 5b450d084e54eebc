"""Tests of gankit/nets/patchgan.py: the receptive field measured by probing gradients."""

from __future__ import annotations

import pytest
import torch

from gankit.nets.patchgan import PatchDiscriminator


def probed_receptive_field(D: torch.nn.Module, channels: int, side: int) -> tuple[int, int]:
    """(height, width) of the input pixels whose gradient reaches the centre output score."""
    x = torch.randn(1, channels, side, side, dtype=torch.float64, requires_grad=True)
    out = D(x)
    h, w = out.shape[-2:]
    out[0, 0, h // 2, w // 2].backward()
    hit = x.grad[0].abs().sum(0) > 0
    rows, cols = hit.any(1).nonzero().flatten(), hit.any(0).nonzero().flatten()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


@pytest.mark.parametrize("n_down,documented", [(1, 16), (2, 34), (3, 70)])
def test_receptive_field_equals_its_documented_size(n_down, documented):
    torch.manual_seed(0)
    D = PatchDiscriminator(2, width=4, n_down=n_down).double()
    assert probed_receptive_field(D, 2, 160) == (documented, documented)
    assert D.receptive_field == documented  # the property computes the same from the layers


def test_one_score_per_patch_on_28_pixel_pairs():
    D = PatchDiscriminator(2, width=4, n_down=1)
    assert D(torch.randn(3, 2, 28, 28)).shape == (3, 1, 12, 12)
    with pytest.raises(ValueError, match="n_down"):
        PatchDiscriminator(2, n_down=0)
