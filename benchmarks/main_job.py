"""Recipes for the main job (`gankit train`, DCGAN on mnist5k) at the default's compute budget, with seeds.

Each recipe is a list of config overrides of the default main job. Every (recipe, seed) trains in a fresh
subprocess (`gankit train --set ...`), one at a time; its CPU time (user + system of the child, which is
what a fixed budget on an idle machine buys, unlike the wall time of a shared one) is recorded. The
recipe is chosen on the VALIDATION split (`gankit eval RUN --ema --split val --metrics fid`: 500 generated
vs the 500 validation digits) and reported on the test split (the end-of-run figure: 500 vs the 500 test
digits), each beside its real-vs-real value at the same N (compare gaps: FID's bias falls like 1/N).

    OMP_NUM_THREADS=1 python benchmarks/main_job.py --recipes default,hinge-sn --seeds 0,1,2

Results are kept in benchmarks/results/main_job.json (a killed sweep resumes where it stopped) and the
section "main_job" of docs/benchmarks.md is rewritten after every run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import child_cpu, load_results, merge_runs, named_jobs, save_results, spread, sweep  # noqa: E402

HERE = Path(__file__).resolve().parent
RECIPES: dict[str, list[str]] = {
    "default": [],
    "hinge-sn": ["objective.name=hinge", "reg.spectral_norm=true"],
    "sn": ["reg.spectral_norm=true"],
    "ttur": ["train.lr_d=4e-4", "train.lr_g=1e-4"],
    "lr5e-4": ["train.lr_d=5e-4", "train.lr_g=5e-4"],
    "beta0": ["train.betas=[0.0,0.99]"],
    "ema-short": ["train.ema.half_life_images=2000"],
    "wide-d": ["net.width=48", "train.steps=3000"],
    "batch128": ["train.batch_size=128", "train.steps=2500"],
    "r1": ["reg.r1=0.2"],
    "lr1e-3": ["train.lr_d=1e-3", "train.lr_g=1e-3"],
    "lr5e-4-g1e-3": ["train.lr_d=5e-4", "train.lr_g=1e-3"],
    "lr5e-4-ema-short": ["train.lr_d=5e-4", "train.lr_g=5e-4", "train.ema.half_life_images=2000"],
    "lr5e-4-beta0": ["train.lr_d=5e-4", "train.lr_g=5e-4", "train.betas=[0.0,0.99]"],
    "lr5e-4-batch32": ["train.lr_d=5e-4", "train.lr_g=5e-4", "train.batch_size=32", "train.steps=8000"],
    "lr5e-4-bf16": ["train.lr_d=5e-4", "train.lr_g=5e-4", "train.precision=bf16", "train.steps=6400"],
    "lr5e-4-pack2": ["train.lr_d=5e-4", "train.lr_g=5e-4", "reg.pack=2"],
    "lr5e-4-mbd": ["train.lr_d=5e-4", "train.lr_g=5e-4", "reg.minibatch_discrimination=50"],
    "da-tc": ["reg.diffaugment=[translation,cutout]"],
    "lr5e-4-da-t": ["train.lr_d=5e-4", "train.lr_g=5e-4", "reg.diffaugment=[translation]"],
    "lr5e-4-da-tc": ["train.lr_d=5e-4", "train.lr_g=5e-4", "reg.diffaugment=[translation,cutout]"],
    "lr5e-4-da-ctc": ["train.lr_d=5e-4", "train.lr_g=5e-4", "reg.diffaugment=[color,translation,cutout]"],
}



def gankit(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "gankit.cli", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"gankit {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return proc


def measure(recipe: str, seed: int, steps: int | None, root: Path) -> dict:
    run_dir = root / f"{recipe}-s{seed}"
    sets = RECIPES[recipe] + [f"seed={seed}"] + ([f"train.steps={steps}"] if steps else [])
    cpu0, t0 = child_cpu(), time.perf_counter()
    gankit("train", "--run-dir", str(run_dir), "--set", "train.report=false", *[a for s in sets for a in ("--set", s)])
    cpu, wall = child_cpu() - cpu0, time.perf_counter() - t0
    test = json.loads((run_dir / "quality.json").read_text())["values"]
    cfg = json.loads((run_dir / "config.json").read_text())
    gankit("eval", str(run_dir), "--ema", "--split", "val", "--metrics", "fid", "--n", "500", "--seed", "0")
    vv = json.loads((run_dir / "eval.json").read_text())["results"]["fid"]["values"]
    return {"recipe": recipe, "seed": seed, "overrides": sets, "steps": cfg["train"]["steps"],
            "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
            "val_fid": vv["fid"], "val_fid_rvr": vv["fid_real_vs_real"],
            "test_fid": test["fid"], "test_fid_rvr": test["fid_real_vs_real"],
            "test_kid": test.get("kid"), "test_kid_rvr": test.get("kid_real_vs_real")}



def class_balance(run_dir: Path, split: str = "val", n_gen: int = 20_000, repeats: int = 5) -> dict:
    """How much of a run's FID gap is G's class proportions: G_ema's class shares (bundled digit classifier
    on ``n_gen`` samples), and FID at N = len(split) of random G samples vs G samples resampled to the
    split's class counts (each class drawn from the samples the classifier puts in it), ``repeats`` draws
    each, beside real-vs-real (that many random training images vs the split)."""
    import numpy as np
    import torch

    from gankit.api import load_run, pick_generator
    from gankit.data import build_dataset
    from gankit.metrics.extractor import load_extractor
    from gankit.metrics.fid import FID
    from gankit.sampling import generate

    cfg, model, ckpt = load_run(run_dir)
    G = pick_generator(model, ckpt, ema=True)
    extractor, data = load_extractor("digit-mnist5k"), build_dataset(cfg.data)
    ref, train = data.split(split), data.split("train")
    g = torch.Generator().manual_seed(0)
    x = generate(G, model.prior.sample(n_gen, seed=1))
    feats, labels = extractor(x), extractor.classify(x)
    f_ref = extractor(ref.float_x())
    n, counts = len(ref.y), torch.bincount(ref.y.long(), minlength=10)

    metric = FID()
    metric.update(f_ref, real=True)

    def fid(f: torch.Tensor) -> float:  # the project's FID against the split's statistics, kept between calls
        metric.reset(keep_real=True)
        metric.update(f, real=False)
        return float(metric.compute())

    def balanced() -> torch.Tensor:
        return torch.cat([torch.nonzero(labels == c)[:, 0][torch.randperm(int((labels == c).sum()), generator=g)[:int(k)]]
                          for c, k in enumerate(counts)])

    plain = [fid(feats[torch.randperm(len(feats), generator=g)[:n]]) for _ in range(repeats)]
    rebalanced = [fid(feats[balanced()]) for _ in range(repeats)]
    rvr = fid(extractor(train.float_x()[torch.randperm(len(train.y), generator=g)[:n]]))
    return {"split": split, "n": n, "class_shares": (torch.bincount(labels, minlength=10) / len(labels)).tolist(),
            "fid": float(np.mean(plain)), "fid_rebalanced": float(np.mean(rebalanced)),
            "fid_std": float(np.std(plain)), "fid_rebalanced_std": float(np.std(rebalanced)), "real_vs_real": rvr}


def render(res: dict) -> str:
    runs = list(res.get("runs", {}).values())
    lines = ["## The main job: recipes at the default's budget (issue 18)", "",
             "`OMP_NUM_THREADS=1 python benchmarks/main_job.py --recipes ... --seeds ...`: each recipe is the default "
             "main job (DCGAN on mnist5k, 4,500 steps x 64) with the overrides shown, trained in its own process "
             "at one thread, one run at a time. Chosen on the validation split (FID gap: FID minus the "
             "real-vs-real value at the same N=500), reported on test. CPU time = user + system of the training "
             "process (the machine was shared with other jobs, so wall times are inflated and not shown).", "",
             "| recipe | overrides | seeds | steps | CPU time per run | val FID gap | test FID gap | test FID (mean real-vs-real; its real subsets follow the seed) |",
             "|---|---|---|---|---|---|---|---|"]
    by: dict[str, list[dict]] = {}
    for r in runs:
        by.setdefault(r["recipe"], []).append(r)
    order = sorted(by, key=lambda k: statistics.mean(x["val_fid"] - x["val_fid_rvr"] for x in by[k]))
    for name in order:
        rs = sorted(by[name], key=lambda x: x["seed"])
        over = " ".join(f"`{o}`" for o in rs[0]["overrides"] if not o.startswith("seed=")) or "(none)"
        lines.append(
            f"| {name} | {over} | {','.join(str(r['seed']) for r in rs)} | {rs[0]['steps']} "
            f"| {statistics.mean(r['cpu_s'] for r in rs) / 60:.1f} min "
            f"| {spread([r['val_fid'] - r['val_fid_rvr'] for r in rs])} "
            f"| {spread([r['test_fid'] - r['test_fid_rvr'] for r in rs])} "
            f"| {spread([r['test_fid'] for r in rs])} ({statistics.mean(r['test_fid_rvr'] for r in rs):.2f}) |")
    lines += ["", "Rows are sorted by the validation gap (the choice); ± is the standard deviation over seeds."]
    for note in res.get("notes", []):
        lines += ["", note]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipes", default="default", help=f"comma-separated, of: {', '.join(RECIPES)}")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--steps", type=int, default=None, help="train.steps of every run (default: the recipe's)")
    ap.add_argument("--cache", default=str(HERE / "results" / "main_job.json"))
    ap.add_argument("--merge", default="", metavar="A.json,B.json",
                    help="only merge the runs of these caches (sweeps run side by side) into --cache")
    ap.add_argument("--note", action="append", default=[], help="a paragraph under the table (repeatable)")
    ap.add_argument("--class-balance", metavar="RUN_DIR", help="only print how much of RUN_DIR's FID gap is "
                                                                 "G's class proportions (see class_balance)")
    args = ap.parse_args()
    if args.class_balance:
        print(json.dumps(class_balance(Path(args.class_balance))))
        return
    cache = Path(args.cache)
    res = load_results(cache)
    if args.note:
        res["notes"] = args.note
    if args.merge:
        merge_runs(res, args.merge)
        save_results(cache, res, "main_job", render)
        return
    jobs = named_jobs(args.recipes, RECIPES, args.seeds, args.steps or "")
    sweep(cache, res, "main_job", render, jobs, lambda recipe, seed, tmp: measure(recipe, seed, args.steps, tmp),
          lambda recipe, seed, r: f"{recipe} seed {seed}: val gap {r['val_fid'] - r['val_fid_rvr']:.2f}, "
                                  f"test FID {r['test_fid']:.2f} ({r['test_fid_rvr']:.2f}), {r['cpu_s']:.0f} CPU s")


if __name__ == "__main__":
    main()
