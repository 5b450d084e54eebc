"""Tests of gankit/data/base.py's storage: uint8 codes give the very floats the float path gave."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.data.base import Split, codes_to_unit_range, images_to_unit_range, store_images


@pytest.mark.parametrize("top", [255, 16, 1])
def test_codes_convert_bit_identically_to_the_float_path(top: int) -> None:
    codes = np.arange(top + 1, dtype=np.uint8)
    old = images_to_unit_range(codes.astype(np.float64), float(top))  # what the loaders stored before
    new = codes_to_unit_range(torch.from_numpy(codes), float(top))
    assert new.dtype == torch.float32 and torch.equal(new, old)
    assert new[0] == -1.0 and new[-1] == 1.0


def test_conversion_of_images_equals_the_float_path() -> None:
    codes = torch.randint(0, 256, (5, 3, 7, 7), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    floats = codes_to_unit_range(codes, 255.0)
    assert floats.shape == codes.shape and torch.equal(floats, images_to_unit_range(codes.numpy(), 255.0))
    assert torch.equal(codes_to_unit_range(codes[:, 1:2, 2:5], 255.0), floats[:, 1:2, 2:5])  # strided views too


def test_split_of_codes_hands_out_floats() -> None:
    codes = torch.tensor([[[[0, 255]]], [[[128, 64]]], [[[1, 2]]]], dtype=torch.uint8)  # (3, 1, 1, 2)
    split = Split(codes, torch.tensor([0, 1, 2]), x_max=255.0)
    assert split.nbytes == 6 and not split.streamed
    idx = torch.tensor([2, 0])
    batch = split.batch(idx)
    assert torch.equal(batch.x, images_to_unit_range(codes.numpy()[[2, 0]], 255.0)) and batch.y.tolist() == [2, 0]
    assert torch.equal(split.float_x(), images_to_unit_range(codes.numpy(), 255.0))
    assert torch.equal(split.float_x(slice(1, 2)), split.float_x()[1:2])
    assert torch.equal(split.to("cpu").float_x(idx), batch.x)
    floats = Split(torch.zeros(2, 3))
    assert floats.float_x() is floats.x and floats.nbytes == 24  # float storage is handed out as is


def test_split_refuses_codes_without_their_scale() -> None:
    with pytest.raises(ValueError, match="uint8 x needs x_max"):
        Split(torch.zeros(2, 1, dtype=torch.uint8))
    with pytest.raises(ValueError, match="x_max=255.0 marks uint8 pixel codes, but x is torch.float32"):
        Split(torch.zeros(2, 1), x_max=255.0)


def test_store_images_keeps_codes_unless_a_resize_averages() -> None:
    pixels = np.arange(2 * 1 * 4 * 6, dtype=np.uint8).reshape(2, 1, 4, 6)
    kept, x_max = store_images(pixels, 255.0, None)
    assert x_max == 255.0 and kept.dtype == torch.uint8 and torch.equal(kept, torch.from_numpy(pixels))
    cropped, x_max = store_images(pixels, 255.0, 4)  # only a center crop: still codes
    assert x_max == 255.0 and torch.equal(cropped, torch.from_numpy(pixels[..., 1:5]))
    resized, x_max = store_images(pixels, 255.0, 2)  # area averages lie between codes: float32
    assert x_max is None and resized.dtype == torch.float32 and resized.shape == (2, 1, 2, 2)
