"""Statistics the studies share: paired tests over seeds, multiple-comparison correction, bootstrap CIs.

- :func:`wilcoxon` - the Wilcoxon signed-rank test of paired differences, two-sided, zeros dropped
  (Wilcoxon's own rule, scipy's default ``zero_method="wilcox"``), ties given mid-ranks. Its p-value is
  EXACT: the null distribution of the positive rank sum, conditional on the observed ranks, is the
  distribution of a sum of independent ``rank_i * Bernoulli(1/2)`` terms, counted by a small dynamic
  programme over doubled (integer) mid-ranks. That is the exhaustive sign-flip permutation test scipy
  runs with ``method=PermutationMethod(n_resamples=inf)`` (and, without ties, ``method="exact"``).
  With ``n`` non-zero pairs the smallest two-sided p-value is ``2 / 2**n``: ten seeds can never reach
  below 0.00195, whatever the effect, so a study must size its seeds to its number of comparisons
  (:func:`min_p_value`).
- :func:`holm` - Holm's step-down adjusted p-values (Holm 1979), family-wise error control across all
  comparisons of a study (= ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]``).
- :func:`bootstrap_ci` - the percentile bootstrap interval of a statistic (default: the mean).
- :func:`paired_effect` - mean difference, its bootstrap CI, the p-values, Cohen's d_z (mean / sd of the
  differences) and the matched-pairs rank-biserial correlation (T+ - T-) / (T+ + T-).

Example::

    d = acc_augmented - acc_baseline            # one difference per seed, paired
    e = paired_effect(d, seed=0)                # e["mean"], e["ci95"], e["p"], e["d_z"], e["rank_biserial"]
    p_holm = holm([e["p"] for e in effects])
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np


def _ranks(a: np.ndarray) -> np.ndarray:
    """Mid-ranks (1-based; ties share the mean of their ranks) of ``a``."""
    from scipy.stats import rankdata

    return rankdata(a, method="average")


def signed_rank_sums(d: Sequence[float]) -> tuple[float, float, np.ndarray]:
    """(T+, T-, mid-ranks of |d|) of the non-zero differences."""
    d = np.asarray(d, dtype=np.float64)
    d = d[d != 0]
    r = _ranks(np.abs(d))
    return float(r[d > 0].sum()), float(r[d < 0].sum()), r


def _exact_upper_tail(ranks: np.ndarray, t_plus: float) -> tuple[float, float]:
    """P(T+ >= t) and P(T+ <= t) under the sign-flip null, given the (mid-)ranks."""
    twice = np.rint(2 * ranks).astype(np.int64)  # mid-ranks are multiples of 1/2
    total = int(twice.sum())
    dist = np.zeros(total + 1, dtype=np.float64)
    dist[0] = 1.0
    top = 0
    for w in twice:  # one more rank: its sign is + (shift by w) or - (stay), each with probability 1/2
        new = dist.copy()
        new[w:top + w + 1] += dist[:top + 1]
        dist, top = 0.5 * new, top + w
    t = int(round(2 * t_plus))
    return float(dist[t:].sum()), float(dist[: t + 1].sum())


def wilcoxon(d: Sequence[float], exact_limit: int = 400) -> dict[str, float]:
    """Two-sided Wilcoxon signed-rank test of paired differences ``d`` (zeros dropped, ties mid-ranked).

    Returns ``{"statistic": min(T+, T-), "p": p, "n": pairs used, "t_plus", "t_minus", "method"}``; the
    p-value is exact for up to ``exact_limit`` non-zero pairs, else the tie-corrected normal approximation.
    No non-zero difference gives ``p = 1``.
    """
    t_plus, t_minus, r = signed_rank_sums(d)
    n = len(r)
    if n == 0:
        return {"statistic": 0.0, "p": 1.0, "n": 0, "t_plus": 0.0, "t_minus": 0.0, "method": "exact"}
    if n <= exact_limit:
        upper, lower = _exact_upper_tail(r, t_plus)
        p, method = min(1.0, 2 * min(upper, lower)), "exact"
    else:
        from scipy.stats import norm

        mean = n * (n + 1) / 4
        _, counts = np.unique(r, return_counts=True)
        var = n * (n + 1) * (2 * n + 1) / 24 - float((counts**3 - counts).sum()) / 48
        z = (t_plus - mean) / math.sqrt(var) if var > 0 else 0.0
        p, method = float(min(1.0, 2 * norm.sf(abs(z)))), "normal"
    return {"statistic": min(t_plus, t_minus), "p": p, "n": n, "t_plus": t_plus, "t_minus": t_minus,
            "method": method}


def min_p_value(n: int) -> float:
    """The smallest two-sided exact signed-rank p-value ``n`` non-zero pairs can reach: 2 / 2**n."""
    return min(1.0, 2.0 / 2.0**n)


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the input order: reject where adjusted p <= alpha."""
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def bootstrap_ci(x: Sequence[float], level: float = 0.95, n_boot: int = 2000, seed: int = 0,
                 stat: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat`` (default: the mean) of ``x``; reproducible by ``seed``.

    ``stat`` maps a (n_boot, n) array of resamples to (n_boot,) values."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    samples = x[rng.integers(0, len(x), size=(n_boot, len(x)))]
    values = samples.mean(axis=1) if stat is None else np.asarray(stat(samples))
    alpha = (1 - level) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return (float(lo), float(hi))


def paired_effect(d: Sequence[float], seed: int = 0, n_boot: int = 2000) -> dict[str, float | list[float] | None]:
    """The summary of one paired comparison (``d`` = treatment - baseline, one per seed).

    ``d_z`` (mean / sd of the differences) is 0 when every difference is 0 and None where it is undefined:
    fewer than two seeds, or every difference the same non-zero value (sd 0). Every value is a finite
    float or None, so a summary is plain JSON.
    """
    d = np.asarray(d, dtype=np.float64)
    w = wilcoxon(d)
    sd = float(d.std(ddof=1)) if len(d) > 1 else math.nan
    mean = float(d.mean())
    tiny = 1e-12 * max(1.0, abs(mean))  # differences equal up to rounding have no spread
    d_z = mean / sd if sd > tiny else (0.0 if abs(mean) <= tiny and len(d) > 1 else None)
    total = w["t_plus"] + w["t_minus"]
    return {"mean": mean, "ci95": list(bootstrap_ci(d, n_boot=n_boot, seed=seed)), "p": w["p"],
            "n": int(len(d)), "n_nonzero": w["n"], "d_z": d_z,
            "rank_biserial": (w["t_plus"] - w["t_minus"]) / total if total > 0 else 0.0}


def verdict(mean: float, p_adjusted: float, alpha: float = 0.05) -> str:
    """'helps' / 'hurts' when the adjusted p is at most ``alpha``, else 'no significant difference'."""
    if p_adjusted <= alpha and mean != 0:
        return "helps" if mean > 0 else "hurts"
    return "no significant difference"


__all__ = ["bootstrap_ci", "holm", "min_p_value", "paired_effect", "signed_rank_sums", "verdict", "wilcoxon"]
