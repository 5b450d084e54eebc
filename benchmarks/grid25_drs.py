"""Choosing grid25-best's DRS settings on validation seeds and the validation split (issue 18).

Each validation seed trains preset grid25-best once (in this process, at one thread, through
``gankit.train``), then its final D and G_ema go through discriminator rejection sampling
(:func:`gankit.drs.sampler_for`) under each variant of ``eval.drs`` (calibration steps, gamma quantile),
and the 2,500 kept samples are scored by the mode benchmark's protocol (modes covered, HQ fraction,
reverse KL of the HQ mode histogram) against the VALIDATION split, eval seed = the training seed. The
seeds (default 10-13) are disjoint from the 0-9 that benchmarks/modes.py reports on the test split, so
the choice made here does not look at the reported figures.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/grid25_drs.py --seeds 10,11,12,13

Results are kept in benchmarks/results/grid25_drs.json and the section "grid25_drs" of docs/benchmarks.md
is rewritten after every seed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import load_results, save_results  # noqa: E402

HERE = Path(__file__).resolve().parent
# label -> eval.drs overrides; "exact-1000" is the preset's setting before issue 18.
VARIANTS: dict[str, dict] = {
    "exact-1000": {"calibration_steps": 1000, "gamma_quantile": None},
    "exact-3000": {"calibration_steps": 3000, "gamma_quantile": None},
    "exact-5000": {"calibration_steps": 5000, "gamma_quantile": None},
    "exact-1000-lr1e-3": {"calibration_steps": 1000, "gamma_quantile": None, "lr": 1e-3},
    "q0.95-1000": {"calibration_steps": 1000, "gamma_quantile": 0.95},
    "q0.95-3000": {"calibration_steps": 3000, "gamma_quantile": 0.95},
}
QUIET = ["train.tensorboard=false", "train.checkpoint_every=0", "train.sample_every=0", "train.log_every=1000000",
         "eval.at_end=false", "train.device=cpu", "train.report=false"]


def measure_seed(seed: int, variants: list[str]) -> dict:
    import torch

    torch.set_num_threads(1)
    import gankit
    from gankit.data import build_dataset
    from gankit.drs import DRSRejectedError, sampler_for
    from gankit.metrics.quality import evaluate_generator
    from gankit.plugins import load_config

    cfg = load_config(preset="grid25-best", overrides=QUIET + [f"seed={seed}"])
    cpu0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        result = gankit.train(cfg, run_dir=Path(tmp) / "run", progress=False)
    out = {"seed": seed, "train_cpu_s": round(time.process_time() - cpu0, 1), "variants": {}}
    dataset = build_dataset(cfg.data)
    G, model = result.G_ema, result.model

    def score(sampler, label: str, extra: dict) -> None:
        t0 = time.process_time()
        try:
            v = evaluate_generator(sampler, model.prior, dataset, split="val", n=2500, seed=seed).values
            row = {"modes": v["modes_covered"], "hq": v["hq_fraction"], "rkl": v["reverse_kl"]}
        except DRSRejectedError as e:
            row = {"failed": str(e)}
        cpu = time.process_time() - t0 + extra.get("cal_cpu_s", 0.0)
        out["variants"][label] = {**row, "cpu_s": round(cpu, 1)}

    score(G, "G_ema (no DRS)", {})
    for label in variants:
        drs_cfg = cfg.model_copy(update={"eval": cfg.eval.model_copy(
            update={"drs": cfg.eval.drs.model_copy(update=VARIANTS[label])})})
        t0 = time.process_time()
        sampler = sampler_for(drs_cfg, model, G, dataset.splits["train"])
        extra = {"cal_cpu_s": time.process_time() - t0}
        score(sampler, label, extra)
        if sampler.stats is not None:
            out["variants"][label]["acceptance"] = sampler.stats.acceptance
    return out


def render(res: dict) -> str:
    seeds = sorted(res.get("seeds", {}).values(), key=lambda r: r["seed"])
    labels = ["G_ema (no DRS)"] + [v for v in VARIANTS if any(v in s["variants"] for s in seeds)]
    lines = ["## grid25-best: choosing DRS's settings on validation seeds (issue 18)", "",
             "`OMP_NUM_THREADS=1 nice -n 5 python benchmarks/grid25_drs.py --seeds ...`: preset grid25-best trained "
             "once per seed (seeds 10 and up, disjoint from the 0-9 that the modes section reports), then its D and "
             "G_ema through DRS under each `eval.drs` variant; 2,500 kept samples scored by the modes protocol "
             "against the VALIDATION split (test split untouched). Mean over seeds; per-seed rKL in brackets. "
             "CPU s = calibration + sampling + scoring of that variant (training is shared: "
             f"{statistics.mean(s['train_cpu_s'] for s in seeds):.0f} CPU s per seed)." if seeds else "", "",
             "| variant | eval.drs | seeds | modes | %HQ | rKL (per seed) | DRS acceptance | CPU s |",
             "|---|---|---|---|---|---|---|---|"]
    for label in labels:
        rows = [s["variants"][label] for s in seeds if label in s["variants"] and "failed" not in s["variants"][label]]
        if not rows:
            continue
        setting = ", ".join(f"{k}={v}" for k, v in VARIANTS.get(label, {}).items()) or "-"
        acc = [r["acceptance"] for r in rows if "acceptance" in r]
        lines.append(f"| {label} | {setting} | {len(rows)} | {statistics.mean(r['modes'] for r in rows):.1f} "
                     f"| {100 * statistics.mean(r['hq'] for r in rows):.1f} "
                     f"| {statistics.mean(r['rkl'] for r in rows):.3f} ({', '.join(format(r['rkl'], '.3f') for r in rows)}) "
                     f"| {format(100 * statistics.mean(acc), '.1f') + ' %' if acc else '-'} "
                     f"| {statistics.mean(r['cpu_s'] for r in rows):.1f} |")
    for note in res.get("notes", []):
        lines += ["", note]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="10,11,12,13")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--cache", default=str(HERE / "results" / "grid25_drs.json"))
    ap.add_argument("--note", action="append", default=[])
    args = ap.parse_args()
    cache = Path(args.cache)
    res = load_results(cache)
    if args.note:
        res["notes"] = args.note
    for seed in (int(s) for s in args.seeds.split(",") if s):
        if str(seed) in res.get("seeds", {}):
            continue
        r = measure_seed(seed, args.variants.split(","))
        res.setdefault("seeds", {})[str(seed)] = r
        save_results(cache, res, "grid25_drs", render)
        print(seed, {k: round(v.get("rkl", float("nan")), 4) for k, v in r["variants"].items()}, flush=True)
    save_results(cache, res, "grid25_drs", render)


if __name__ == "__main__":
    main()
