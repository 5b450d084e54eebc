"""Memorisation: copies are found, fresh samples are not, and the pairs grid is written."""

from __future__ import annotations

import pytest
import torch

from gankit.metrics.memorization import memorization, save_closest_pairs


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(300, 1, 4, 4, generator=g) * 2 - 1, torch.rand(100, 1, 4, 4, generator=g) * 2 - 1


def test_copies_of_training_images_are_near_copies() -> None:
    train, test = _data()
    fake = train[:40] + 1e-4  # memorised samples
    rep = memorization(fake, train, test)
    assert rep.near_copy_share == 1.0
    assert torch.equal(rep.gen_nearest, torch.arange(40))
    assert rep.ratio < 1e-3


def test_fresh_samples_of_the_same_law_look_like_test_data(tmp_path) -> None:
    train, test = _data()
    fake = torch.rand(100, 1, 4, 4, generator=torch.Generator().manual_seed(9)) * 2 - 1
    rep = memorization(fake, train, test, copy_quantile=0.05)
    assert rep.test_near_copy_share == pytest.approx(0.05, abs=0.011)
    assert rep.near_copy_share < 0.2
    assert 0.7 < rep.ratio < 1.3
    path = save_closest_pairs(rep, fake, train, tmp_path / "pairs.png", n_pairs=8)
    assert path.is_file() and path.stat().st_size > 100


def test_bad_quantile_is_an_error() -> None:
    train, test = _data()
    with pytest.raises(ValueError, match="copy_quantile"):
        memorization(test, train, test, copy_quantile=1.0)
