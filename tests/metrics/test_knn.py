"""Chunked nearest-neighbour distances equal torch.cdist brute force, whatever the chunk size."""

from __future__ import annotations

import pytest
import torch

from gankit.metrics.knn import kth_neighbour_distance, nearest_neighbour


@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_kth_and_nearest_match_cdist(chunk: int) -> None:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(23, 6, generator=g, dtype=torch.float64), torch.randn(17, 6, generator=g, dtype=torch.float64)
    full = torch.cdist(x, x)
    want_kth = full.sort(dim=1).values[:, 3]  # column 0 is the point itself
    assert torch.allclose(kth_neighbour_distance(x, 3, chunk), want_kth, atol=1e-10)
    d, idx = nearest_neighbour(x, y, chunk)
    cross = torch.cdist(x, y)
    assert torch.allclose(d, cross.min(1).values, atol=1e-10)
    assert torch.equal(idx, cross.argmin(1))


def test_k_out_of_range_is_an_error() -> None:
    with pytest.raises(ValueError, match="k must be"):
        kth_neighbour_distance(torch.zeros(4, 2), 4)
