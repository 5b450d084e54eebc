"""Chunked Euclidean nearest-neighbour distances, shared by PRDC, memorisation and the k-NN entropy.

A full (N, M) distance matrix of 10,000 x 10,000 float64 is 800 MB; these helpers never hold more
than ``chunk`` rows of it at once, so memory is O(chunk * M) whatever N is. Distances are computed
in float64 as sqrt(max(|x|^2 + |y|^2 - 2 x.y, 0)), the same expansion scikit-learn uses.

Example::

    radii = kth_neighbour_distance(real, k=5)          # (N,), self excluded
    d, idx = nearest_neighbour(fake, train)            # (M,), (M,)
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

DEFAULT_CHUNK = 1024


def _f64_rows(x: torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(x).detach().to("cpu", torch.float64)
    return x.flatten(1) if x.ndim > 2 else x


def distance_chunks(x: torch.Tensor, y: torch.Tensor, chunk: int = DEFAULT_CHUNK) -> Iterator[tuple[int, torch.Tensor]]:
    """Yield (start row, distances (c, M)) for consecutive chunks of rows of x against all rows of y."""
    x, y = _f64_rows(x), _f64_rows(y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"points have {x.shape[1]} and {y.shape[1]} dimensions")
    y_sq = (y * y).sum(1)
    for start in range(0, len(x), chunk):
        xc = x[start : start + chunk]
        sq = (xc * xc).sum(1, keepdim=True) + y_sq - 2 * xc @ y.T
        yield start, sq.clamp_(min=0).sqrt_()


def kth_neighbour_distance(x: torch.Tensor, k: int, chunk: int = DEFAULT_CHUNK) -> torch.Tensor:
    """Distance (N,) float64 from each row of x to its k-th nearest OTHER row of x.

    As in the reference ``prdc`` package, this is the (k+1)-th smallest distance including the point
    itself (distance 0), so exact duplicates count as neighbours.
    """
    n = len(x)
    if not 1 <= k < n:
        raise ValueError(f"k must be in [1, {n - 1}] for {n} points, got {k}")
    out = torch.empty(n, dtype=torch.float64)
    for start, d in distance_chunks(x, x, chunk):
        # topk of a few smallest is ~10x faster than kthvalue on CPU for the same value
        out[start : start + len(d)] = d.topk(k + 1, dim=1, largest=False).values[:, -1]
    return out


def nearest_neighbour(x: torch.Tensor, y: torch.Tensor, chunk: int = DEFAULT_CHUNK) -> tuple[torch.Tensor, torch.Tensor]:
    """(distance (N,) float64, index (N,) int64) of the nearest row of y for each row of x."""
    dist, idx = torch.empty(len(x), dtype=torch.float64), torch.empty(len(x), dtype=torch.int64)
    for start, d in distance_chunks(x, y, chunk):
        m = d.min(dim=1)
        dist[start : start + len(d)], idx[start : start + len(d)] = m.values, m.indices
    return dist, idx


__all__ = ["DEFAULT_CHUNK", "distance_chunks", "kth_neighbour_distance", "nearest_neighbour"]
