"""Tests of gankit/data/resize.py."""

from __future__ import annotations

import torch

from gankit.data.resize import resize_images


def test_resize_images_modes_and_crop() -> None:
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4) / 100 - 0.5
    assert resize_images(x, None) is x
    torch.testing.assert_close(resize_images(x, 2), x.reshape(2, 3, 2, 2, 2, 2).mean(dim=(3, 5)))  # area
    up = resize_images(x, 8)  # bilinear, align_corners=False: a constant image stays constant
    assert up.shape == (2, 3, 8, 8) and up.min() >= x.min() and up.max() <= x.max()
    torch.testing.assert_close(resize_images(torch.full((1, 1, 5, 5), 0.25), 9), torch.full((1, 1, 9, 9), 0.25))
    wide = torch.zeros(1, 1, 4, 8)
    wide[..., 2:6] = 1.0  # the centre 4x4 square is all ones, the margins zeros
    assert torch.equal(resize_images(wide, 4), torch.ones(1, 1, 4, 4))
