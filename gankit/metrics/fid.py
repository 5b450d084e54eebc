"""Fréchet distance (FID) and kernel distance (KID) between real and generated features.

Both are torchmetrics-style objects: ``update(features, real=...)`` as often as you like,
``compute()``, ``reset()``. They take features, not images, so any extractor fits (see
:mod:`gankit.metrics.extractor`); the caller records which one produced them.

- :class:`FID` keeps only float64 sums (count, sum of features, sum of outer products) for each side,
  so memory does not grow with N and distributed reduction is a plain sum of the states
  (:meth:`FID.merge`); the sum of outer products is one BLAS ``syrk`` per batch. The Fréchet
  distance itself is computed in float64 from a Cholesky factor and one symmetric eigenvalue solve,
  with no general matrix square root.
- :class:`KID` is the unbiased MMD^2 with the cubic polynomial kernel. Unlike FID it needs the
  features themselves, so it stores them (CPU, float32); reduction is concatenation.

FID is biased by N (Chong & Forsyth 2020): compare FIDs only at equal N, and print the real-vs-real
value at the same N beside each (``gankit.metrics.quality`` does). KID is unbiased.

Example::

    fid = FID()
    fid.update(real_features, real=True)
    fid.update(fake_features, real=False)
    fid.compute()   # float
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from gankit.metrics.base import Metric, StoredFeatures
from gankit.metrics.finite import require_finite

ArrayLike = torch.Tensor | np.ndarray


def _f64(x: ArrayLike) -> torch.Tensor:
    return torch.as_tensor(x).detach().to("cpu", torch.float64)


def _features_2d(features: ArrayLike) -> torch.Tensor:
    f = _f64(features)
    if f.ndim != 2:
        raise ValueError(f"features must be a 2D (N, D) tensor, got shape {tuple(f.shape)}")
    return f


# Below this size one thread runs eigh fastest, and it keeps doing so when the cores are shared:
# on a 2-core machine with another process busy, a 128x128 float64 eigh took 0.9 s with 2 threads
# and 2 ms with 1 (LAPACK's worker threads spin waiting for a core).
SINGLE_THREAD_MAX_DIM = 512


@contextmanager
def _lapack_threads(dim: int) -> Iterator[None]:
    if dim > SINGLE_THREAD_MAX_DIM or torch.get_num_threads() == 1:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _gram(f: torch.Tensor) -> torch.Tensor:
    """f^T f for a float64 (N, D) tensor on the CPU, by BLAS ``dsyrk`` (half the work of a matmul).

    dsyrk fills one triangle; the other is mirrored. ``f.numpy().T`` is a Fortran-ordered view, so
    no copy is made.
    """
    from scipy.linalg.blas import dsyrk

    upper = torch.from_numpy(dsyrk(1.0, f.contiguous().numpy().T, trans=0))
    return upper.triu() + upper.triu(1).T


def sqrtm_psd(sigma: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a positive semi-definite matrix (eigenvalues clamped at 0)."""
    with _lapack_threads(sigma.shape[-1]):
        w, v = torch.linalg.eigh(sigma)
    return (v * w.clamp(min=0).sqrt()) @ v.T


def _lower_t_sandwich(chol: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """L^T S L for a lower-triangular L, by two BLAS ``trmm`` (half the work of two full matmuls)."""
    from scipy.linalg.blas import dtrmm

    lower = np.asfortranarray(chol.numpy())
    s_l = dtrmm(1.0, lower, np.asfortranarray(s.numpy()), side=1, lower=1)  # S L
    return torch.from_numpy(dtrmm(1.0, lower, s_l, side=0, lower=1, trans_a=1, overwrite_b=1))  # L^T (S L)


def _trace_sqrt_product(s1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
    """tr(sqrtm(S1 S2)) for symmetric PSD S1, S2: the sum of square roots of the eigenvalues of S1 S2.

    S1 S2 has the eigenvalues of any symmetric matrix similar to it. With a Cholesky factor
    S1 = L L^T, S1 S2 = L (L^T S2 L) L^-1, so one Cholesky, two triangular-times-full products (trmm) and one
    ``eigvalsh`` (no eigenvectors) suffice. A singular S1 (fewer samples than dimensions) has no
    Cholesky factor; then S1's symmetric square root R from ``eigh`` gives R S2 R, also similar.
    """
    chol, info = torch.linalg.cholesky_ex(s1)
    if int(info) == 0:
        middle = _lower_t_sandwich(chol, s2)
    else:
        root1 = sqrtm_psd(s1)
        middle = root1 @ s2 @ root1
    eig = torch.linalg.eigvalsh((middle + middle.T) / 2)  # symmetrise away rounding asymmetry
    return eig.clamp(min=0).sqrt().sum()


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

    d^2 = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr(sqrtm(S1 S2)).

    tr(sqrtm(S1 S2)) is computed without a general (non-symmetric) matrix square root:
    S1 S2 is similar to L^T S2 L (S1 = L L^T, Cholesky), which is symmetric PSD, so the trace is the
    sum of the square roots of its eigenvalues (:func:`_trace_sqrt_product`). A Cholesky and one
    ``eigvalsh`` instead of ``scipy.linalg.sqrtm``: faster, real by construction, and stable for
    singular covariances (tiny negative eigenvalues from rounding are clamped to 0).

    Example::

        frechet_distance(torch.zeros(2), torch.eye(2), torch.ones(2), 4 * torch.eye(2))  # 2 + 2 = 4.0
    """
    mu1, mu2, s1, s2 = _f64(mu1), _f64(mu2), _f64(sigma1), _f64(sigma2)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.numel(), mu1.numel()):
        raise ValueError(
            f"shapes do not match: mu1 {tuple(mu1.shape)}, sigma1 {tuple(s1.shape)}, "
            f"mu2 {tuple(mu2.shape)}, sigma2 {tuple(s2.shape)}"
        )
    if not all(torch.isfinite(t).all() for t in (mu1, mu2, s1, s2)):
        raise ValueError("frechet_distance: the means or covariances hold nan or inf")
    with _lapack_threads(s1.shape[-1]):
        tr_covmean = _trace_sqrt_product((s1 + s1.T) / 2, (s2 + s2.T) / 2)
    diff = mu1 - mu2
    return float(diff @ diff + torch.trace(s1) + torch.trace(s2) - 2 * tr_covmean)


class FID(Metric):
    """Fréchet distance between the Gaussians fitted to real and to generated features.

    State (all float64, all sum-reducible): ``n_real``, ``sum_real`` (D,), ``outer_real`` (D, D) and the
    same for fake. Covariances are unbiased (divide by n - 1), as numpy.cov in pytorch-fid.

    Example::

        fid = FID()
        for batch in real_batches:
            fid.update(extractor(batch), real=True)
        fid.update(extractor(fake), real=False)
        score = fid.compute()
        fid.reset(keep_real=True)   # score another generator against the same real statistics
    """

    _sides = ("real", "fake")

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim
        for side in self._sides:  # sum and outer stay None until the first update fixes the dimension
            self.add_state(f"n_{side}", torch.zeros((), dtype=torch.float64))
            self.add_state(f"sum_{side}", None)
            self.add_state(f"outer_{side}", None)

    def reset(self, keep_real: bool = False) -> None:
        """Forget the accumulated features (all, or only the fake ones with ``keep_real=True``)."""
        for side in self._sides if not keep_real else ("fake",):
            for key in ("n", "sum", "outer"):
                self.reset_state(f"{key}_{side}")

    def update(self, features: ArrayLike, real: bool) -> None:
        """Add a batch of features (N, D) to the real or to the fake side."""
        f = require_finite(_features_2d(features), "FID", "real features" if real else "generated features")
        if self.dim is None:
            self.dim = f.shape[1]
        if f.shape[1] != self.dim:
            raise ValueError(f"features have {f.shape[1]} dims, this FID holds {self.dim}-dim features")
        side = "real" if real else "fake"
        s, o = getattr(self, f"sum_{side}"), getattr(self, f"outer_{side}")
        setattr(self, f"n_{side}", getattr(self, f"n_{side}") + f.shape[0])
        setattr(self, f"sum_{side}", f.sum(0) if s is None else s + f.sum(0))
        gram = _gram(f)
        setattr(self, f"outer_{side}", gram if o is None else o + gram)

    def state(self) -> dict[str, torch.Tensor]:
        """The sum-reducible state tensors (what an all-reduce with op=SUM would combine); a side without
        samples has only its count."""
        return {k: v for k, v in super().state().items() if v is not None}

    def merge(self, other: FID) -> FID:
        """Add ``other``'s state into this one (a distributed reduction is exactly this sum)."""
        super().merge(other)
        self.dim = self.dim or other.dim
        return self

    def statistics(self, real: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean (D,), unbiased covariance (D, D)) of one side, float64."""
        side = "real" if real else "fake"
        n = float(getattr(self, f"n_{side}"))
        if n < 2:
            raise ValueError(f"FID needs at least 2 {side} samples, has {int(n)}")
        s, o = getattr(self, f"sum_{side}"), getattr(self, f"outer_{side}")
        mu = s / n
        # sum (x - mu)(x - mu)^T = sum x x^T - n mu mu^T; float64 keeps the cancellation harmless
        # for features whose mean is not huge next to their spread.
        cov = (o - n * torch.outer(mu, mu)) / (n - 1)
        return mu, cov

    def compute(self) -> float:
        """The Fréchet distance between the real and the fake statistics."""
        mu_r, cov_r = self.statistics(real=True)
        mu_f, cov_f = self.statistics(real=False)
        return frechet_distance(mu_r, cov_r, mu_f, cov_f)


def poly_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """k(x, y) = (x . y / d + 1)^3 for all pairs of rows: (M, D), (N, D) -> (M, N)."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased estimate of MMD^2 between the samples x (M, D) and y (N, D) with :func:`poly_kernel`.

    The diagonals k(x_i, x_i) are left out of the within-sample means, which removes the bias:
    E[estimate] = MMD^2 exactly, so it can be negative when the distributions are equal.
    """
    m, n = x.shape[0], y.shape[0]
    if m < 2 or n < 2:
        raise ValueError(f"KID needs at least 2 samples on each side, got {m} and {n}")
    k_xx, k_yy, k_xy = poly_kernel(x, x), poly_kernel(y, y), poly_kernel(x, y)
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return float(within_x + within_y - 2 * k_xy.mean())


class KID(StoredFeatures):
    """Kernel distance: the unbiased MMD^2 with the kernel (x . y / d + 1)^3 (Binkowski et al. 2018).

    Stores the features (CPU, float32): the estimator needs every pair, so unlike FID its state is
    not a fixed-size sum; reduction across processes is concatenation (:meth:`merge`).
    ``compute`` draws ``subsets`` random subsets of ``subset_size`` real and fake features (without
    replacement within a subset) from a generator seeded with ``seed``, and returns the mean and the
    standard deviation (population, as torchmetrics) of the subset estimates.
    ``subset_size`` defaults to min(1000, n_real, n_fake); when it equals both counts every subset
    would hold all the data, so a single subset is used and the std is 0.

    Example::

        kid = KID(subsets=50, seed=0)
        kid.update(real_features, real=True)
        kid.update(fake_features, real=False)
        mean, std = kid.compute()
    """

    def __init__(self, subsets: int = 100, subset_size: int | None = None, seed: int = 0) -> None:
        if subsets < 1:
            raise ValueError(f"subsets must be >= 1, got {subsets}")
        if subset_size is not None and subset_size < 2:
            raise ValueError(f"subset_size must be >= 2, got {subset_size}")
        super().__init__()
        self.subsets = subsets
        self.subset_size = subset_size
        self.seed = seed

    def update(self, features: ArrayLike, real: bool) -> None:
        f = _features_2d(features).to(torch.float32)
        self.store(require_finite(f, "KID", "real features" if real else "generated features"), real)

    @property
    def n_real(self) -> int:
        return sum(len(f) for f in self.real_features)

    @property
    def n_fake(self) -> int:
        return sum(len(f) for f in self.fake_features)

    def resolved_subsets(self) -> tuple[int, int]:
        """(number of subsets, subset size) that :meth:`compute` uses for the features held now."""
        n_real, n_fake = self.n_real, self.n_fake
        size = self.subset_size if self.subset_size is not None else min(1000, n_real, n_fake)
        if size > min(n_real, n_fake):
            raise ValueError(
                f"KID subset_size {size} exceeds the samples held ({n_real} real, {n_fake} fake)"
            )
        return (1 if size == n_real == n_fake else self.subsets), size

    def compute(self) -> tuple[float, float]:
        """(mean, std) of the unbiased MMD^2 over the subsets, computed in float64."""
        real = torch.cat(self.real_features).to(torch.float64) if self.real_features else torch.empty(0, 0)
        fake = torch.cat(self.fake_features).to(torch.float64) if self.fake_features else torch.empty(0, 0)
        if real.shape[1:] != fake.shape[1:]:
            raise ValueError(f"real features have shape {tuple(real.shape)}, fake {tuple(fake.shape)}")
        subsets, size = self.resolved_subsets()
        g = torch.Generator().manual_seed(self.seed)
        scores = []
        for _ in range(subsets):
            r = real if size == len(real) else real[torch.randperm(len(real), generator=g)[:size]]
            f = fake if size == len(fake) else fake[torch.randperm(len(fake), generator=g)[:size]]
            scores.append(mmd2_unbiased(r, f))
        values = torch.tensor(scores, dtype=torch.float64)
        return float(values.mean()), float(values.std(unbiased=False)) if subsets > 1 else 0.0



__all__ = ["FID", "KID", "frechet_distance", "mmd2_unbiased", "poly_kernel", "sqrtm_psd"]
