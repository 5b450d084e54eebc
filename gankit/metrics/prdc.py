"""Precision and recall (Kynkaanniemi et al. 2019) and density and coverage (Naeem et al. 2020).

Each real (fake) feature vector x gets a k-NN ball: radius r(x) = distance to its k-th nearest other
real (fake) vector. With strict inequalities, as in the reference ``prdc`` package (Naeem et al.'s code):

- precision = share of fakes inside at least one real ball        (Kynkaanniemi Eq. 1-2)
- recall    = share of reals inside at least one fake ball
- density   = (1 / kM) sum_j sum_i 1[f_j in B(x_i, r(x_i))]       (Naeem Eq. 3; may exceed 1)
- coverage  = share of reals whose ball holds at least one fake   (Naeem Eq. 4)

Distances are computed in chunks of rows (:mod:`gankit.metrics.knn`), so memory is O(chunk * N)
rather than N^2: the reference package builds all three N x N matrices at once.

Example::

    metric = PRDC(k=5)
    metric.update(real_features, real=True)
    metric.update(fake_features, real=False)
    metric.compute()   # {'precision': .., 'recall': .., 'density': .., 'coverage': ..}
"""

from __future__ import annotations

import torch

from gankit.metrics.base import StoredFeatures
from gankit.metrics.finite import require_finite
from gankit.metrics.knn import DEFAULT_CHUNK, distance_chunks, kth_neighbour_distance


def prdc(real: torch.Tensor, fake: torch.Tensor, k: int = 5, chunk: int = DEFAULT_CHUNK) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` (M, D) against ``real`` (N, D)."""
    # a nan row has nan distances: it would lie in no ball and silently lower precision and coverage
    require_finite(real, "PRDC", "real features")
    require_finite(fake, "PRDC", "generated features")
    real_radii = kth_neighbour_distance(real, k, chunk)  # (N,)
    fake_radii = kth_neighbour_distance(fake, k, chunk)  # (M,)
    in_real_balls = torch.zeros(len(fake), dtype=torch.float64)  # per fake: how many real balls hold it
    real_in_fake_ball = torch.zeros(len(real), dtype=torch.bool)
    real_ball_has_fake = torch.zeros(len(real), dtype=torch.bool)
    for start, d in distance_chunks(real, fake, chunk):  # d: (c reals, M fakes)
        rows = slice(start, start + len(d))
        inside = d < real_radii[rows, None]
        in_real_balls += inside.sum(0)
        real_ball_has_fake[rows] = inside.any(1)
        real_in_fake_ball[rows] = (d < fake_radii[None, :]).any(1)
    return {
        "precision": float((in_real_balls > 0).double().mean()),
        "recall": float(real_in_fake_ball.double().mean()),
        "density": float(in_real_balls.mean() / k),
        "coverage": float(real_ball_has_fake.double().mean()),
    }


class PRDC(StoredFeatures):
    """Precision / recall / density / coverage as an update / compute / reset object.

    It needs every feature vector (each ball depends on all the others), so it stores them
    (float32, CPU) and reduces across processes by concatenation (:meth:`merge`), like KID.
    """

    def __init__(self, k: int = 5, chunk: int = DEFAULT_CHUNK) -> None:
        super().__init__()
        self.k, self.chunk = k, chunk

    def update(self, features: torch.Tensor, real: bool) -> None:
        self.store(torch.as_tensor(features).detach().to("cpu", torch.float32).flatten(1), real)

    def compute(self) -> dict[str, float]:
        if not self.real_features or not self.fake_features:
            raise ValueError("PRDC needs real and fake features; call update(..., real=True/False) first")
        return prdc(torch.cat(self.real_features), torch.cat(self.fake_features), self.k, self.chunk)


__all__ = ["PRDC", "prdc"]
