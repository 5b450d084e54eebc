"""Rank correlations with confidence intervals, for the studies that relate two measurements.

- :func:`spearman`: Spearman's rho (the Pearson correlation of mid-ranks; = ``scipy.stats.spearmanr``).
- :func:`spearman_ci`: its percentile bootstrap interval, resampling the (x, y) pairs together
  (= ``scipy.stats.bootstrap((x, y), stat, paired=True, method="percentile")`` up to resampling noise);
  resamples whose ranks are constant (rho undefined) are dropped and counted.
- :func:`fisher_ci`: the normal-theory interval tanh(atanh(rho) +- z / sqrt(n - 3)) with the
  Bonett-Wright (2000) variance (1 + rho^2 / 2) for Spearman's rho; a cross-check of the bootstrap.
- :func:`lagged_spearman`: rho between x[t] and y[t + lag] of two series (does x move before y?).

Example::

    r = spearman_ci(accuracy_gap, quality, seed=0)   # {"rho", "ci95", "n", "n_boot_used", "fisher95"}
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def _rank(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(a, method="average", axis=-1)


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(-1) / np.where(den > 0, den, 1), np.nan)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho of paired samples (nan when either side is constant or n < 2)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"spearman: x and y must be 1D and of equal length, got {x.shape} and {y.shape}")
    if len(x) < 2:
        return math.nan
    return float(_pearson_rows(_rank(x), _rank(y)))


def fisher_ci(rho: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """tanh(atanh(rho) -+ z sqrt((1 + rho^2 / 2) / (n - 3))): Bonett-Wright's interval for Spearman's rho."""
    from scipy.stats import norm

    if n < 4 or not math.isfinite(rho):
        return (math.nan, math.nan)
    r = min(max(rho, -0.999999), 0.999999)
    half = norm.ppf(0.5 + level / 2) * math.sqrt((1 + r * r / 2) / (n - 3))
    return (math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half))


def spearman_ci(x: Sequence[float], y: Sequence[float], level: float = 0.95, n_boot: int = 2000,
                seed: int = 0) -> dict[str, object]:
    """rho, its percentile bootstrap interval over resampled pairs, and the Fisher-z interval beside it."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    rho = spearman(x, y)
    n = len(x)
    out: dict[str, object] = {"rho": rho, "n": n, "ci95": [math.nan, math.nan], "n_boot_used": 0,
                              "fisher95": list(fisher_ci(rho, n, level))}
    if n < 3 or not math.isfinite(rho):
        return out
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    values = _pearson_rows(_rank(x[idx]), _rank(y[idx]))
    values = values[np.isfinite(values)]
    if len(values):
        alpha = (1 - level) / 2
        lo, hi = np.quantile(values, [alpha, 1 - alpha])
        out["ci95"] = [float(lo), float(hi)]
    out["n_boot_used"] = int(len(values))
    return out


def lagged_spearman(x: Sequence[float], y: Sequence[float], lag: int) -> float:
    """rho(x[t], y[t + lag]) over the t where both exist; lag > 0: does x now go with y later?"""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if lag > 0:
        x, y = x[:-lag], y[lag:]
    elif lag < 0:
        x, y = x[-lag:], y[:lag]
    return spearman(x, y) if len(x) >= 3 else math.nan


__all__ = ["fisher_ci", "lagged_spearman", "spearman", "spearman_ci"]
