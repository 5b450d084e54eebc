"""``gankit eval`` and its Python twin :func:`evaluate`: fingerprinted metrics of a trained run -> RUN_DIR/eval.json.

(The module is ``evaluation``, not ``evaluate``: a submodule named like the function ``gankit.evaluate``
would replace that function as an attribute of the package as soon as it is imported.)

Default metrics: on images, FID, KID, IS, precision, recall, density, coverage, memorisation and
train/test MRE; on 1D/2D toy data, mode metrics (when the mixture has known centres), the optimal
discriminator check and the k-NN entropy. Every metric prints one line: its figure, the same figure
on real data where one exists (FID beside real-vs-real at the same N), and its fingerprint.

This module only loads the run and writes the report. The metrics themselves are the registry's
(:mod:`gankit.metrics.registry`), run on an :class:`~gankit.metrics.context.EvalContext`, the same
that computes the end-of-training figure, so both print one number per fingerprint. Real images are
drawn by :func:`gankit.metrics.samples.real_subset`; their features are cached on disk under the hash
of their fingerprint (``$GANKIT_CACHE`` or ``~/.cache/gankit``), which names the split by content.

Example::

    import gankit
    report = gankit.evaluate("runs/00000-mnist5k-dcgan-nonsaturating", metrics=["fid", "kid"], n=500)
    report.results["fid"].values["fid"], report.results["fid"].values["fid_real_vs_real"]
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.api import drs_sampler, load_run, pick_generator
from gankit.data import build_dataset
from gankit.devices import resolve_device
from gankit.errors import GankitError
from gankit.limits import excerpt
from gankit.outputs import writing
from gankit.metrics.context import EvalContext
from gankit.metrics.registry import IMAGE_DEFAULTS, METRICS, TOY_DEFAULTS, resolve_metrics, run_metrics
from gankit.metrics.result import MetricResult
from gankit.metrics.samples import GeneratorSampler
from gankit.progress import progress_bar


@dataclass
class EvalReport:
    """The results of :func:`evaluate`, by metric name, and where eval.json was written."""

    run_dir: Path
    step: int
    generator: str
    results: dict[str, MetricResult] = field(default_factory=dict)
    path: Path | None = None

    def lines(self) -> list[str]:
        return [r.line() for r in self.results.values()]

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "step": self.step, "generator": self.generator,
                "results": {k: r.to_dict() for k, r in self.results.items()}}


def run_context(run_dir: Path, n: int | None, split: str, seed: int, ema: bool, device: str,
                cache: str | Path | None, drs: bool = False) -> EvalContext:
    """The :class:`EvalContext` of a trained run: its G (or G_ema), its data, and with ``drs`` its DRS sampler."""
    if split not in ("val", "test"):
        raise GankitError(f"--split: choose val or test, got {excerpt(split)} (train is the real-vs-real baseline)")
    device = resolve_device(device)
    cfg, model, ckpt = load_run(run_dir, device)
    G = GeneratorSampler(pick_generator(model, ckpt, ema), model.source)
    # --drs: the sample metrics score what DRS keeps; mre, jacobian and dstar measure G itself
    sampler = drs_sampler(cfg, model, G.G, device) if drs else G
    return EvalContext(build_dataset(cfg.data), sampler, split, n, seed, device, G_itself=G, cache=cache,
                       generator="G_ema" if ema else "G", step=int(ckpt.meta["step"]), out_dir=run_dir / "eval",
                       D=model.nets["D"] if "D" in model.nets else None, objective=cfg.objective.name, option="cli")


def evaluate(
    run_dir: str | Path,
    metrics: str | list[str] | None = None,
    n: int | None = None,
    split: str = "test",
    seed: int = 0,
    ema: bool = False,
    device: str = "cpu",
    cache: str | Path | None = None,
    log: Callable[[str], None] | None = print,
    drs: bool = False,
) -> EvalReport:
    """Evaluate a trained run, print one fingerprinted line per metric, write RUN_DIR/eval.json.

    ``metrics``: names or a comma-separated string (default: see module docstring); ``n``: generated
    samples and real samples per side (default: the ``split``'s size for images, 2,500 for toy data);
    ``ema``: score G_ema; ``cache``: the real-feature cache directory; ``drs``: the sample metrics score
    the samples discriminator rejection sampling keeps (:mod:`gankit.drs`), each fingerprint then names
    the sampler, while mre, jacobian and dstar still measure G itself. Bad input raises GankitError.
    """
    run_dir = Path(run_dir)
    ctx = run_context(run_dir, n, split, seed, ema, device, cache, drs)
    names = resolve_metrics(metrics, ctx.image, voxel=ctx.info.kind == "voxel")
    if metrics is None and not getattr(ctx.source, "latent", True):  # e.g. pix2pix: G translates images, no G(z)
        names = [m for m in names if m not in ("mre", "jacobian")]
    results: dict[str, MetricResult] = {}
    with progress_bar(len(names), "gankit eval", unit="metric") as bar:
        for name in names:  # one at a time, so that the bar moves after each (run_metrics skips a done PRDC)
            bar.set_postfix_str(name, refresh=True)
            if METRICS[name] is METRICS["precision"] and "prdc" in results:  # the four PRDC names share one result
                bar.update(1)
                continue
            for key, result in run_metrics(ctx, [name]).items():
                if key not in results:
                    results[key] = result
                    if log is not None:
                        log(result.line())
            bar.update(1)
    report = EvalReport(run_dir, ctx.step, ctx.generator, results)
    path = run_dir / "eval.json"
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with writing(path, "eval.json"):
        tmp.write_text(json.dumps(report.to_dict(), indent=1, default=str, allow_nan=False) + "\n")
        os.replace(tmp, path)
    report.path = path
    return report


__all__ = ["IMAGE_DEFAULTS", "METRICS", "TOY_DEFAULTS", "EvalReport", "evaluate", "resolve_metrics", "run_context"]
