"""The metric registry: metric names -> runners, the default sets, aliases, and running a list of them.

Both the end-of-training figure (:func:`gankit.metrics.evaluate_generator`) and ``gankit eval``
(:func:`gankit.evaluate`) run metrics through :func:`run_metrics`, so a fingerprint has one number.

Example::

    results = run_metrics(ctx, resolve_metrics("fid,kid", image=True))
    results["fid"].values["fid_real_vs_real"]
"""

from __future__ import annotations

from collections.abc import Callable

from gankit.errors import GankitError
from gankit.metrics.context import EvalContext
from gankit.metrics.result import MetricResult
from gankit.metrics.runners import (
    PRDC_NAMES,
    run_cas,
    run_dstar,
    run_entropy,
    run_fid,
    run_fid_inf,
    run_is,
    run_jacobian,
    run_kid,
    run_memorization,
    run_modes,
    run_mre,
    run_prdc,
)
from gankit.metrics.voxels import run_voxel_iou

IMAGE_DEFAULTS = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "memorization", "mre")
TOY_DEFAULTS = ("modes", "dstar", "entropy")
VOXEL_DEFAULTS = ("voxel_iou",)
VOXEL_ONLY = {"voxel_iou"}  # and the only metrics that apply to voxel grids (the others need images or 1D/2D points)
ALIASES = {"memorisation": "memorization", "prdc": PRDC_NAMES, "inception_score": "is", "fid_infinity": "fid_inf"}
IMAGE_ONLY = {"fid", "kid", "is", "fid_inf", "memorization", "mre", "cas", *PRDC_NAMES}

METRICS: dict[str, Callable[[EvalContext], MetricResult]] = {
    "fid": run_fid, "kid": run_kid, "is": run_is, "fid_inf": run_fid_inf, "precision": run_prdc, "recall": run_prdc,
    "density": run_prdc, "coverage": run_prdc, "memorization": run_memorization, "mre": run_mre,
    "jacobian": run_jacobian, "cas": run_cas, "modes": run_modes, "dstar": run_dstar, "entropy": run_entropy,
    "voxel_iou": run_voxel_iou,
}


def resolve_metrics(metrics: str | list[str] | tuple[str, ...] | None, image: bool, voxel: bool = False) -> list[str]:
    """Metric names in order, aliases expanded; unknown or inapplicable names raise one GankitError line.
    ``voxel``: the data are voxel grids, for which only :data:`VOXEL_ONLY` apply."""
    if metrics is None:
        return list(VOXEL_DEFAULTS if voxel else IMAGE_DEFAULTS if image else TOY_DEFAULTS)
    names = [m.strip().lower() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    out: list[str] = []
    for name in names:
        alias = ALIASES.get(name, name)
        for m in (alias,) if isinstance(alias, str) else alias:
            if m not in METRICS:
                raise GankitError(f"--metrics: unknown metric {name!r}; choose from {', '.join(sorted(METRICS))}")
            if voxel and m not in VOXEL_ONLY:
                raise GankitError(f"--metrics: {m!r} does not apply to voxel grids; on voxel data gankit eval "
                                  f"computes: {', '.join(sorted(VOXEL_ONLY))}")
            if m in VOXEL_ONLY and not voxel:
                raise GankitError(f"--metrics: {m!r} needs voxel grids; this run's data are not voxels")
            if m in IMAGE_ONLY and not image:
                raise GankitError(f"--metrics: {m!r} needs image data; this run's data is not images")
            if m not in out:
                out.append(m)
    if not out:
        raise GankitError("--metrics: no metric named")
    return out


def run_metrics(ctx: EvalContext, names: list[str],
                log: Callable[[MetricResult], None] | None = None) -> dict[str, MetricResult]:
    """The results of the metrics ``names`` (resolved) on ``ctx``, by result name (the four PRDC names share
    one result, "prdc"); ``log`` sees each result as soon as it is computed."""
    results: dict[str, MetricResult] = {}
    for name in names:
        runner = METRICS[name]
        key = "prdc" if runner is run_prdc else name
        if key in results:
            continue
        results[key] = runner(ctx)
        if log is not None:
            log(results[key])
    return results


__all__ = ["ALIASES", "IMAGE_DEFAULTS", "IMAGE_ONLY", "METRICS", "TOY_DEFAULTS", "VOXEL_DEFAULTS", "VOXEL_ONLY", "resolve_metrics", "run_metrics"]
