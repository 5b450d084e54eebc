"""FID at several sample counts and its extrapolation to N -> infinity (Chong & Forsyth, CVPR 2020).

FID is biased: E[FID_N] = FID_inf + k / N to first order (Chong & Forsyth, "Effectively Unbiased FID
and Inception Score and where to find them", Sec. 3). So FID is measured on generated subsets of
several sizes N_1 < ... < N_m (against the same real statistics), a line is fitted to FID_N against
1/N by least squares, and its intercept is FID_inf: the value an infinite sample would give, which
makes FIDs taken at different N comparable. The paper uses 15 values of N from 5,000 to 50,000;
here the sizes are fractions of the available generated samples.

Example::

    fit = fid_infinity(real_features, fake_features, ns=[100, 200, 300, 400, 500], seed=0)
    fit.fid_inf, fit.slope, fit.fids
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.metrics.fid import FID


@dataclass
class FIDInfinity:
    """FID_N at each N (``ns``, ``fids``), and the fit FID_N = fid_inf + slope / N."""

    ns: list[int]
    fids: list[float]
    fid_inf: float
    slope: float


def extrapolate(ns: list[int], fids: list[float]) -> tuple[float, float]:
    """Least-squares line through (1/N, FID_N): returns (intercept = FID_inf, slope)."""
    if len(ns) < 2 or len(set(ns)) < 2:
        raise ValueError(f"the extrapolation needs FID at two or more distinct N, got {ns}")
    x = 1.0 / torch.tensor(ns, dtype=torch.float64)
    y = torch.tensor(fids, dtype=torch.float64)
    design = torch.stack([torch.ones_like(x), x], dim=1)
    coef = torch.linalg.lstsq(design, y[:, None]).solution[:, 0]
    return float(coef[0]), float(coef[1])


def fid_infinity(real: torch.Tensor, fake: torch.Tensor, ns: list[int], seed: int = 0) -> FIDInfinity:
    """FID of the first N of a seeded permutation of ``fake`` vs all of ``real``, for each N, and FID_inf."""
    if max(ns) > len(fake):
        raise ValueError(f"largest N {max(ns)} exceeds the {len(fake)} generated features")
    order = torch.randperm(len(fake), generator=torch.Generator().manual_seed(seed))
    fid = FID()
    fid.update(real, real=True)
    fids = []
    for n in sorted(ns):
        fid.reset(keep_real=True)
        fid.update(fake[order[:n]], real=False)
        fids.append(fid.compute())
    intercept, slope = extrapolate(sorted(ns), fids)
    return FIDInfinity(sorted(ns), fids, intercept, slope)


__all__ = ["FIDInfinity", "extrapolate", "fid_infinity"]
