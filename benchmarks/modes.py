"""Mode-collapse benchmark on ring8 and grid25 (../shared/BENCHMARKS.md section 1), every objective, 10 seeds.

Protocol (PacGAN's): score 2,500 samples of the trained G; HQ = within 3 std of the nearest mode centre;
a mode is covered when one HQ sample is nearest to it; reverse KL = KL(HQ mode histogram || uniform).
Each configuration trains once per seed through ``gankit.train`` and is scored by the trainer's own
end-of-training figure (:func:`gankit.metrics.quality.evaluate_generator`, seed = the training seed).

Configurations (labels in the table):

- ``<objective>``: every registered objective (``gankit.registry.OBJECTIVES``), from preset
  ``<dataset>-<objective>`` when one exists, else preset ``<dataset>`` (the non-saturating GAN) with
  ``objective.name`` overridden. One that cannot train on 2D vectors (its config check fails) is
  skipped, and the table says why.
- ``best``: preset ``<dataset>-best`` (gankit/presets/ring8-best.yaml, grid25-best.yaml).
- ``best+pack2``, ``best+pack4``: that preset with ``reg.pack`` (PacGAN, Lin et al. 2018).
- ``best+ortho``: that preset with ``reg.ortho_jacobian.weight`` (Localized GAN's orthonormal penalty).

Per-seed results are appended to ``benchmarks/results/modes.jsonl`` keyed by the resolved config, so
partial runs add up; the table is rebuilt from every stored seed whose config still matches.

    OMP_NUM_THREADS=1 python benchmarks/modes.py                                  # everything, 10 seeds
    OMP_NUM_THREADS=1 python benchmarks/modes.py --configs best,nonsaturating --datasets ring8 --seeds 3
    OMP_NUM_THREADS=1 python benchmarks/modes.py --report-only                     # table from stored seeds

Writes the section "modes" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing as mp
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "modes.jsonl"
DATASETS = ("ring8", "grid25")
CPU_BUDGET_S = 120.0  # the limit: each seed at most 2 CPU minutes
QUIET = ["train.tensorboard=false", "train.checkpoint_every=0", "train.sample_every=0", "train.log_every=1000000",
         "eval.at_end=true", "eval.split=test", "train.device=cpu"]
# The variants were measured with DRS calibrated for 1,000 steps (before grid25-best's 5,000, issue 18): they
# keep that setting, so their stored seeds still match their config.
_CAL1000 = ["eval.drs.calibration_steps=1000"]
VARIANTS = {  # label -> overrides on top of the <dataset>-best preset
    "best": [],
    "best+pack2": ["reg.pack=2"] + _CAL1000,  # DRS scores a sample as the pack of copies of it (gankit/drs.py)
    "best+pack4": ["reg.pack=4"] + _CAL1000,
    "best+ortho": ["reg.ortho_jacobian.weight=0.1"] + _CAL1000,
}
DRS = "+drs"  # a run with eval.drs on also gives the row '<label>+drs': the same G, samples kept by DRS

# ../shared/BENCHMARKS.md section 1, copied with their sources: (label, ring8 modes, %HQ, rKL, grid25 ...).
PUBLISHED = [
    ("GAN (VEEGAN Table 1)", "1", "99.3", "", "3.3", "0.5", ""),
    ("Unrolled GAN (VEEGAN Table 1)", "7.6", "35.6", "", "23.6", "16", ""),
    ("VEEGAN (VEEGAN Table 1)", "8", "52.9", "", "24.6", "40", ""),
    ("WGAN-GP (GDPP Table 1)", "6.8", "59.6", "", "24.2", "28.7", ""),
    ("GDPP-GAN (GDPP Table 1)", "8.0", "71.7", "", "24.8", "68.5", ""),
    ("GAN (PacGAN Table 1)", "6.3", "98.2", "0.45", "17.3", "94.8", "0.70"),
    ("PacGAN2 (PacGAN Table 1)", "7.9", "95.6", "0.07", "23.8", "91.3", "0.13"),
    ("PacGAN4 (PacGAN Table 1)", "7.8", "95.9", "0.07", "24.8", "93.6", "0.04"),
]


@dataclass(frozen=True)
class Job:
    label: str
    dataset: str
    seed: int
    config: dict[str, Any]  # the resolved config, ready for gankit.train
    key: str  # hash of the resolved config without its seed: which stored seeds still count


def config_for(label: str, dataset: str, steps: int | None) -> tuple[dict[str, Any] | None, str]:
    """The resolved config of a table row on ``dataset`` (seed 0), or (None, why it cannot run)."""
    from gankit import plugins
    from gankit.config import list_presets
    from gankit.plugins import load_config
    from gankit.errors import ConfigError

    presets = list_presets()
    extra = [f"train.steps={steps}"] if steps else []
    if label in VARIANTS:
        preset, overrides = f"{dataset}-best", VARIANTS[label]
        if preset not in presets:
            return None, f"no preset {preset}"
    elif f"{dataset}-{label}" in presets:
        preset, overrides = f"{dataset}-{label}", []
    else:
        from gankit.registry import OBJECTIVES

        preset, overrides = dataset, [f"objective.name={label}"]  # ring8.yaml / grid25.yaml: non-saturating
        if getattr(OBJECTIVES.get(label), "needs_gradient_penalty", False):
            overrides.append("reg.gp.weight=10")  # WGAN-GP's lambda (Gulrajani et al. 2017, Algorithm 1)
    try:
        cfg = load_config(preset=preset, overrides=overrides + QUIET + extra)
        plugins.check(cfg)
    except ConfigError as e:
        return None, str(e)
    return cfg.to_dict(), f"preset {preset}" + (f" + {' '.join(overrides)}" if overrides else "")


# Config keys added after seeds were stored, with the default that leaves a run unchanged: a key at that
# default is left out of the hash, so the stored seeds of every other configuration still count.
def later_defaults() -> dict[tuple[str, str], Any]:
    from gankit.config import DRSConfig

    return {("train", "lr_decay"): "none", ("net", "params"): {}, ("eval", "drs"): DRSConfig().model_dump(),
            # added 2026-12-04 (data streaming, precision, compile, run report): none changes a toy run
            ("data", "memory_budget_mb"): 4096.0, ("data", "workers"): 2, ("train", "precision"): "fp32",
            ("train", "compile"): False, ("train", "report"): True}


def config_key(config: dict[str, Any]) -> str:
    body = {k: v for k, v in config.items() if k not in ("seed", "description")}
    for (section, key), default in later_defaults().items():
        if body.get(section, {}).get(key) == default:
            body[section] = {k: v for k, v in body[section].items() if k != key}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def run_job(job: Job) -> list[dict[str, Any]]:
    """Train one seed in this (worker) process; returns its scores and its wall and CPU time, and a
    second record (label '<label>+drs') for the samples DRS keeps when the config has eval.drs on."""
    import torch

    torch.set_num_threads(1)
    import gankit

    config = dict(job.config, seed=job.seed)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        result = gankit.train(config, run_dir=Path(tmp) / "run", progress=False)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    def run_fields(label: str) -> dict[str, Any]:
        return {"label": label, "dataset": job.dataset, "seed": job.seed, "key": job.key,
                "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}

    def record(label: str, report) -> dict[str, Any]:
        v = report.values
        return {**run_fields(label), "modes": v["modes_covered"], "n_modes": v["n_modes"], "hq": v["hq_fraction"],
                "rkl": v["reverse_kl"], "true_hq": v["true_hq_fraction"], "true_rkl": v["true_reverse_kl"],
                "spread": v["hq_spread"], "true_spread": v["true_hq_spread"],
                "steps": config["train"]["steps"],
                "generator": report.fingerprint.get("generator"), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}

    out = [record(job.label, result.quality)]
    drs = result.quality_drs
    if drs is not None:
        sampler = drs.fingerprint["sampler"]
        extra = {"acceptance": sampler["drs_acceptance"], "calibration_accuracy": sampler["calibration"]["final_accuracy"]}
        if drs.kind == "none":  # D rejected nearly all of G's samples: a seed without a DRS figure
            out.append({**run_fields(job.label + DRS), "failed": drs.fingerprint["reason"], **extra})
        else:
            out.append({**record(job.label + DRS, drs), **extra})
    return out


def _quiet_run(job: Job) -> list[dict[str, Any]]:
    # The trainer prints its log and figure; a worker keeps the terminal for the benchmark's own lines.
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return run_job(job)


def load_results() -> list[dict[str, Any]]:
    if not RESULTS.exists():
        return []
    return [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error (sample std / sqrt(n)); SE is nan for one value."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan
    var = sum((x - mean) ** 2 for x in values) / (n - 1)
    return mean, math.sqrt(var / n)


def _cell(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    m, se = mean_se([scale * x for x in values])
    return f"{m:.{digits}f}" if math.isnan(se) else f"{m:.{digits}f} +- {se:.{digits}f}"


def _rkl_cell(values: list[float]) -> str:
    """Reverse KL over the seeds that had an HQ sample; a seed with none (KL undefined) is counted apart."""
    finite = [x for x in values if math.isfinite(x)]
    none = len(values) - len(finite)
    cell = _cell(finite, digits=3) if finite else "undefined"
    return cell + (f" ({none} seed{'s' if none > 1 else ''} without HQ samples)" if none else "")


TARGETS = {"ring8": (8, 0.98, 0.02), "grid25": (25, 0.95, 0.03)}  # modes, HQ fraction, reverse KL (issue 3)


def _verdict(label: str, rows: dict[tuple[str, str], list[dict[str, Any]]]) -> str:
    """'- `best+drs`: ring8 met (8.0 modes, 98.4 % HQ, rKL 0.004); grid25 missed rKL (...)', or '' when not run."""
    parts = []
    for ds, (modes, hq, rkl) in TARGETS.items():
        got = [r for r in rows.get((label, ds), []) if "failed" not in r]
        if not got:
            continue
        m, h = mean_se([r["modes"] for r in got])[0], mean_se([r["hq"] for r in got])[0]
        k = mean_se([r["rkl"] for r in got])[0]
        missed = [name for name, ok in (("modes", m >= modes), ("HQ", h >= hq), ("rKL", k <= rkl)) if not ok]
        over = max(r["cpu_s"] for r in got) > CPU_BUDGET_S
        parts.append(f"{ds} {'missed ' + ', '.join(missed) if missed else 'met'} ({m:.1f} modes, {100 * h:.1f} % HQ, "
                     f"rKL {k:.3f}; {len(got)} seeds{', over the CPU budget' if over else ''})")
    return f"- `{label}`: " + "; ".join(parts) if parts else ""


def table(labels: list[str], rows: dict[tuple[str, str], list[dict[str, Any]]],
          skipped: dict[tuple[str, str], str], sources: dict[tuple[str, str], str]) -> str:
    head = ("| configuration | ring8 modes | ring8 %HQ | ring8 rKL | ring8 CPU s/seed | grid25 modes | "
            "grid25 %HQ | grid25 rKL | grid25 CPU s/seed | seeds |\n|" + "---|" * 10 + "\n")
    lines = []
    for label in labels:
        cells, seeds = [], []
        for ds in DATASETS:
            every = rows.get((label, ds), [])
            got = [r for r in every if "failed" not in r]
            failed = len(every) - len(got)
            if not every:
                why = skipped.get((label, ds), "not run")
                cells += [f"skipped: {why}" if (label, ds) in skipped else "not run", "", "", ""]
                continue
            cpu = f"{mean_se([r['cpu_s'] for r in every])[0]:.0f} ({max(r['cpu_s'] for r in every):.0f} max)"
            cells += ([_cell([r["modes"] for r in got], digits=1), _cell([r["hq"] for r in got], 100, 1),
                       _rkl_cell([r["rkl"] for r in got]), cpu] if got else ["no samples kept", "", "", ""])
            seeds.append(f"{ds} {len(got)}" + (f" (+{failed} where DRS kept too few samples to score)" if failed else ""))
        lines.append(f"| gankit {label} | " + " | ".join(cells) + f" | {', '.join(seeds) or 0} |")
    published = "\n".join(f"| {p[0]} | {p[1]} | {p[2]} | {p[3]} | | {p[4]} | {p[5]} | {p[6]} | | published |"
                          for p in PUBLISHED)
    truth = []
    for ds in DATASETS:
        ref = [r for got in rows.values() for r in got if r["dataset"] == ds]
        if ref:
            first = min(ref, key=lambda r: r["seed"])
            truth.append(f"{ds} (seed {first['seed']}): {100 * first['true_hq']:.1f} % HQ, "
                         f"reverse KL {first['true_rkl']:.4f}")
    config_lines = "\n".join(f"- `{label}` on {ds}: {src}" for (label, ds), src in sorted(sources.items())
                             if label in labels)
    return (head + "\n".join(lines) + "\n" + published + "\n\n"
            + "Samples of the true mixture under the same scorer (2,500 test-split points): "
            + "; ".join(truth) + ".\n\nConfigurations:\n\n" + config_lines + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="", help="comma-separated labels (objectives, best, best+pack2, "
                    "best+pack4, best+ortho); default: all")
    ap.add_argument("--objectives", default="", help="alias of --configs")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=None, help="override train.steps (a quick partial run)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (at most 2)")
    ap.add_argument("--report-only", action="store_true", help="rebuild the table from stored seeds")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from gankit import plugins  # noqa: F401
    from gankit.registry import OBJECTIVES

    all_labels = OBJECTIVES.names() + list(VARIANTS)
    wanted = [s for s in (args.configs or args.objectives).split(",") if s] or all_labels
    datasets = [d for d in args.datasets.split(",") if d]
    jobs, skipped, sources, keys, drs_labels = [], {}, {}, {}, set()
    for label in all_labels:
        for ds in DATASETS:
            config, source = config_for(label, ds, args.steps)
            if config is None:
                skipped[(label, ds)] = source
                continue
            sources[(label, ds)], keys[(label, ds)] = source, config_key(config)
            if config["eval"].get("drs", {}).get("enabled"):
                drs_labels.add(label)
                sources[(label + DRS, ds)], keys[(label + DRS, ds)] = source + " (samples kept by DRS)", keys[(label, ds)]
            if label in wanted and ds in datasets and not args.report_only:
                done = {r["seed"] for r in load_results() if (r["label"], r["key"]) == (label, keys[(label, ds)])}
                jobs += [Job(label, ds, s, config, keys[(label, ds)]) for s in range(args.seeds) if s not in done]
    for (label, ds), why in skipped.items():
        if label in wanted and ds in datasets:
            print(f"skip {label} on {ds}: {why}", flush=True)
    # Seed-major order: a run cut short still leaves every configuration with about as many seeds.
    jobs.sort(key=lambda j: (j.seed, wanted.index(j.label) if j.label in wanted else 0))
    if jobs:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        workers = max(1, min(args.workers, 2))
        ctx = mp.get_context("spawn")
        with ctx.Pool(workers, maxtasksperchild=1) if workers > 1 else _Serial() as pool:
            for records in pool.imap_unordered(_quiet_run, jobs):
                with RESULTS.open("a") as f:
                    f.writelines(json.dumps(r) + "\n" for r in records)
                for r in records:
                    flag = "  OVER 2 CPU min" if r["cpu_s"] > CPU_BUDGET_S else ""
                    if "failed" in r:
                        print(f"{r['label']:>14} {r['dataset']:>6} seed {r['seed']}: {r['failed']}", flush=True)
                        continue
                    print(f"{r['label']:>14} {r['dataset']:>6} seed {r['seed']}: modes {r['modes']}/{r['n_modes']} "
                          f"HQ {100 * r['hq']:.1f} % rKL {r['rkl']:.4f}  ({r['wall_s']:.0f} s wall, "
                          f"{r['cpu_s']:.0f} s CPU){flag}", flush=True)
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in load_results():
        if keys.get((r["label"], r["dataset"])) == r["key"]:
            rows.setdefault((r["label"], r["dataset"]), []).append(r)
    rows = {k: sorted({r["seed"]: r for r in v}.values(), key=lambda r: r["seed"]) for k, v in rows.items()}
    all_labels = [x for lb in all_labels for x in ([lb, lb + DRS] if lb in drs_labels else [lb])]
    labels = [lb for lb in all_labels if any((lb, ds) in rows or (lb, ds) in skipped for ds in DATASETS)]
    not_run = [lb for lb in all_labels if lb not in labels]
    spread_lines = []
    for lb in labels:
        parts = []
        for ds in DATASETS:
            got = [r for r in rows.get((lb, ds), []) if r.get("spread") is not None and math.isfinite(r["spread"])]
            acc = [r["acceptance"] for r in rows.get((lb, ds), []) if "acceptance" in r]
            if got:
                text = f"{ds} {_cell([r['spread'] for r in got])} ({len(got)} seeds; true data {got[0]['true_spread']:.2f})"
                parts.append(text + (f", DRS keeps {_cell(acc, 100, 1)} % of G's samples" if acc else ""))
        if parts:
            spread_lines.append(f"- `{lb}`: " + "; ".join(parts))
    verdicts = [v for v in (_verdict(lb, rows) for lb in ("best", "best" + DRS)) if v]
    targets = ("\nTargets of issue 3 (mean over 10 seeds, each at most 2 CPU minutes): ring8 8/8 modes, >= 98 % HQ, "
               "reverse KL <= 0.02; grid25 25/25, >= 95 %, <= 0.03.\n\n" + "\n".join(verdicts) + "\n") if verdicts else ""
    spread = ("\nSpread of the HQ samples around their centre (RMS per-coordinate distance in units of the "
              "mixture's std; the true mixture gives 0.974 at 3 std): an HQ fraction above the true data's "
              "(98.9 %) is possible only for modes narrower than the data's, and this column shows by how much.\n\n"
              + "\n".join(spread_lines) + "\n") if spread_lines else ""
    body = (
        "## Mode collapse on ring8 and grid25\n\n"
        "`OMP_NUM_THREADS=1 python benchmarks/modes.py` (partial runs: `--configs best,nonsaturating "
        "--datasets ring8 --seeds 3`; table only: `--report-only`). Protocol of ../shared/BENCHMARKS.md "
        "section 1: 2,500 samples of G (G_ema where the preset keeps one), HQ = within 3 std of the nearest "
        "centre, reverse KL = KL(HQ mode histogram || uniform); mean +- standard error over the training "
        "seeds counted in the last column; CPU seconds per seed, training and scoring (mean, and the largest "
        "over seeds: budget 120; process time grows when other processes share the cores, and the "
        "2026-12-03 runs shared 2 cores among up to five: ring8-best alone took 82-92 CPU s per seed). Rows 'gankit ...' are measured here; the other rows are the published ones. Rows '+drs' "
        "score the same trained G (same seeds, same runs, so the same time) through discriminator rejection "
        "sampling (gankit/drs.py, Azadi et al. 2019): a copy of D calibrated with the logistic loss for "
        "eval.drs.calibration_steps steps (1,000; 5,000 on grid25-best since issue 18) against the final G, then exact "
        "rejection sampling; its 2,500 kept samples are scored "
        "by the same protocol. The fgan and nonsaturating rows on ring8 agree to the last digit, as they "
        "should: f-GAN with the Jensen-Shannon f and its log-sigmoid output activation is the non-saturating "
        "GAN up to constants (tests/objectives/test_fgan.py), and preset ring8-fgan keeps ring8's settings, so "
        "the same seeds train the same networks. Row best+ortho (2-3 seeds: over the CPU budget) adds Localized "
        "GAN's orthonormal-Jacobian penalty at weight 0.1: on a 2D-to-2D G it asks J^T J = I, a local isometry "
        "of the plane, which cannot squeeze N(0, I) into 8 or 25 narrow modes, so it costs coverage; the "
        "penalty is meant for images, whose latent manifold is a thin sheet in pixel space, and its Jacobian-"
        "vector products roughly double the CPU time.\n\n"
        + table(labels, rows, skipped, sources) + targets + spread
        + (f"\nNo stored seeds yet (run them with `--configs {','.join(not_run)}`): {', '.join(not_run)}.\n"
           if not_run else "")
    )
    print(body)
    write_section("modes", body)


class _Serial:
    """A one-process stand-in for a Pool, so one worker needs no spawn."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap_unordered(self, fn, items):
        return map(fn, items)


if __name__ == "__main__":
    main()
