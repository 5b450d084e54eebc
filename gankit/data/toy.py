"""Toy datasets in 1D and 2D that know their true density and their mode centres.

- ``ring8``: 8 Gaussians at (cos 2 pi i/8, sin 2 pi i/8), i = 0..7, std 0.01 (PacGAN's protocol; note
  i runs over 8 distinct angles, unlike samplers built on ``np.linspace(0, 2 pi, 8)`` that repeat one).
- ``grid25``: 25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05.
- ``spiral``: a two-turn Archimedean spiral blurred by isotropic Gaussian noise (std 0.05); its
  density is the noise kernel integrated along the curve, evaluated by quadrature.
- ``gauss1d``: N(0, 1) in 1D; ``mog1d``: three 1D Gaussians at -3, 0, 3 with std 0.3 (equal weights).
"""

from __future__ import annotations

import math

import torch

from gankit.data.base import DataInfo, Dataset, Split

TOY_DATA_SEED = 1234  # the toy datasets are the same in every run; the run's seed moves the model only.


class GaussianMixture:
    """An equal-weight mixture of isotropic Gaussians with a known density.

    ``means`` is (K, D); ``std`` is the per-coordinate standard deviation of every component.
    """

    def __init__(self, means: torch.Tensor, std: float) -> None:
        self.means = means.to(torch.float64)
        self.std = float(std)

    @property
    def centres(self) -> torch.Tensor:
        return self.means.to(torch.float32)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        k = torch.randint(len(self.means), (n,), generator=generator)
        noise = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return (self.means[k] + self.std * noise).to(torch.float32)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) for x of shape (N, D), in float64."""
        x = x.to(torch.float64)
        d2 = torch.cdist(x, self.means).pow(2)  # (N, K)
        log_norm = -0.5 * self.dim * math.log(2 * math.pi * self.std**2)
        return torch.logsumexp(-d2 / (2 * self.std**2), dim=1) + log_norm - math.log(len(self.means))


class Spiral:
    """Points r(t) (cos th(t), sin th(t)) with t ~ U(0, 1), th = 4 pi t, r = 0.5 + 2.5 t, plus N(0, std^2 I)."""

    centres = None  # a continuous curve has no discrete modes

    def __init__(self, std: float = 0.05, quadrature_points: int = 4000) -> None:
        self.std = std
        self.dim = 2
        t = (torch.arange(quadrature_points, dtype=torch.float64) + 0.5) / quadrature_points
        self._curve = self._point(t)

    @staticmethod
    def _point(t: torch.Tensor) -> torch.Tensor:
        r, th = 0.5 + 2.5 * t, 4 * math.pi * t
        return torch.stack([r * torch.cos(th), r * torch.sin(th)], dim=1)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        t = torch.rand(n, generator=generator, dtype=torch.float64)
        noise = torch.randn(n, 2, generator=generator, dtype=torch.float64)
        return (self._point(t) + self.std * noise).to(torch.float32)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) by midpoint quadrature over t (uniform weights 1/M)."""
        log_norm = -math.log(2 * math.pi * self.std**2) - math.log(len(self._curve))
        # Chunked: an (N, M) distance matrix for large N would not fit in memory.
        parts = [
            torch.logsumexp(-torch.cdist(chunk, self._curve).pow(2) / (2 * self.std**2), dim=1)
            for chunk in x.to(torch.float64).split(2048)
        ]
        return torch.cat(parts) + log_norm


def ring8() -> GaussianMixture:
    i = torch.arange(8, dtype=torch.float64)
    means = torch.stack([torch.cos(2 * math.pi * i / 8), torch.sin(2 * math.pi * i / 8)], dim=1)
    return GaussianMixture(means, std=0.01)


def grid25() -> GaussianMixture:
    axis = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0], dtype=torch.float64)
    means = torch.cartesian_prod(axis, axis)
    return GaussianMixture(means, std=0.05)


def gauss1d() -> GaussianMixture:
    return GaussianMixture(torch.zeros(1, 1, dtype=torch.float64), std=1.0)


def mog1d() -> GaussianMixture:
    return GaussianMixture(torch.tensor([[-3.0], [0.0], [3.0]], dtype=torch.float64), std=0.3)


class ToyDataset(Dataset):
    """A Dataset whose samples come from a known distribution (``self.distribution``)."""

    distribution: GaussianMixture | Spiral

    @property
    def centres(self) -> torch.Tensor | None:
        return self.distribution.centres

    @property
    def std(self) -> float:
        return self.distribution.std

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return self.distribution.log_prob(x)


def make_toy(name: str, distribution: GaussianMixture | Spiral, n_train: int, n_eval: int = 5000) -> ToyDataset:
    """Draw fixed train / val / test splits from ``distribution`` (same in every run)."""
    from gankit.limits import check_memory

    # the samples, float32, and the mixture's draws beside them (component indices, noise): about 4 copies
    check_memory(4.0 * (n_train + 2 * n_eval) * distribution.dim * 4, "data.n_train", f"{n_train:,} points of {name}")
    g = torch.Generator().manual_seed(TOY_DATA_SEED)
    splits = {
        "train": Split(distribution.sample(n_train, g)),
        "val": Split(distribution.sample(n_eval, g)),
        "test": Split(distribution.sample(n_eval, g)),
    }
    ds = ToyDataset(DataInfo(name=name, kind="vector", shape=(distribution.dim,)), splits)
    ds.distribution = distribution
    return ds


TOY_DISTRIBUTIONS = {
    "ring8": ring8,
    "grid25": grid25,
    "spiral": Spiral,
    "gauss1d": gauss1d,
    "mog1d": mog1d,
}
