"""Does BiGAN's encoder learn a representation, and does G(E(x)) reconstruct x? Recipes x seeds x steps.

Each run trains the mnist5k-bigan preset with a recipe's overrides in this process, at one thread, and
measures with the representation benchmark's protocol (``gankit.models.bigan.measure_representation``:
E in eval mode; E(x) of the 4,000 training images -> StandardScaler + LogisticRegression, scored on the
500 test images beside the same probe on raw pixels; reconstruction MSE of G(E(x)) per pixel in [-1, 1]
on the test images beside the mean-training-image guess), plus the trainer's end-of-run FID (G_ema, test
split, N=500) beside its real-vs-real value. Nothing is chosen here: the recipes are fixed in advance
(plain BiGAN/ALI, and ALICE's x-reconstruction term at its paper's weight 1), so the test split only
reports. CPU time is the process's own (user + system), since the machine is shared.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/bigan_encoder.py --recipes alice,plain --seeds 0,1,2 --steps 1500

Results are kept in benchmarks/results/bigan_encoder.json (a killed sweep resumes where it stopped) and
the section "bigan_encoder" of docs/benchmarks.md is rewritten after every run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import load_results, merge_runs, named_jobs, save_results, spread, sweep  # noqa: E402

from gankit.data import build_dataset
from gankit.engine.trainer import train
from gankit.models.bigan import measure_representation
from gankit.plugins import load_config

HERE = Path(__file__).resolve().parent
PRESET = "mnist5k-bigan"
QUIET = ["train.sample_every=0", "train.checkpoint_every=0", "train.tensorboard=false", "train.log_every=100",
         "train.report=false"]
RECIPES: dict[str, list[str]] = {
    "plain": ["model.params.recon_weight=0"],   # BiGAN / ALI: E learns only through D on (x, z) pairs
    "alice": ["model.params.recon_weight=1"],   # + ALICE's ||G(E(x)) - x||^2 (Li et al. 2017), the preset
}


def measure(recipe: str, seed: int, steps: int, root: Path) -> dict:
    cfg = load_config(preset=PRESET, overrides=QUIET + RECIPES[recipe] + [f"train.steps={steps}", f"seed={seed}"])
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = train(cfg, run_dir=root / f"{recipe}-{steps}-s{seed}", progress=False)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    # E was trained against G (not G_ema): the reconstruction uses the pair that played the game.
    rep = measure_representation(result.model.G, result.model.E, build_dataset(cfg.data), seed=0)
    q = result.quality.to_dict()
    return {"recipe": recipe, "seed": seed, "steps": steps, "overrides": RECIPES[recipe],
            "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
            "acc_features": rep.linear_acc_features, "acc_pixels": rep.linear_acc_pixels,
            "recon_mse": rep.recon_mse, "recon_mse_mean_image": rep.recon_mse_mean_image,
            "probe": rep.fingerprint, "fid": q["values"]["fid"], "fid_rvr": q["values"]["fid_real_vs_real"],
            "quality_fingerprint": q["fingerprint"]}


def render(res: dict) -> str:
    runs = list(res.get("runs", {}).values())
    lines = ["## BiGAN's encoder: probe and reconstruction over seeds (issue 18)", "",
             "`OMP_NUM_THREADS=1 nice -n 5 python benchmarks/bigan_encoder.py --recipes ... --seeds ... --steps N`: "
             "`mnist5k-bigan` with each recipe's overrides, one run at a time in one process at one thread. "
             "Probe: StandardScaler + LogisticRegression on E(x) of the 4,000 training images, accuracy on the 500 "
             "test images, beside the same probe on raw pixels. Reconstruction: MSE per pixel in [-1, 1] of G(E(x)) "
             "on the test images; 'below guess' is 1 - MSE / (MSE of the mean training image). FID: G_ema, test "
             "split, N=500, beside real-vs-real. CPU time: user + system of the run (shared machine).", "",
             "| recipe | overrides | steps | seeds | CPU time per run | probe on E(x) | probe on pixels "
             "| recon MSE | mean-image guess | below guess | FID (real-vs-real) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    by: dict[tuple[str, int], list[dict]] = {}
    for r in runs:
        by.setdefault((r["recipe"], r["steps"]), []).append(r)
    for (name, steps) in sorted(by, key=lambda k: (k[0], k[1])):
        rs = sorted(by[(name, steps)], key=lambda x: x["seed"])
        lines.append(
            f"| {name} | {' '.join(f'`{o}`' for o in rs[0]['overrides'])} | {steps} "
            f"| {','.join(str(r['seed']) for r in rs)} | {statistics.mean(r['cpu_s'] for r in rs):.0f} s "
            f"| {spread([100 * r['acc_features'] for r in rs], 'values')} % "
            f"| {100 * rs[0]['acc_pixels']:.2f} % "
            f"| {spread([r['recon_mse'] for r in rs], 'values', 4)} | {rs[0]['recon_mse_mean_image']:.4f} "
            f"| {spread([100 * (1 - r['recon_mse'] / r['recon_mse_mean_image']) for r in rs], 'values', 1)} % "
            f"| {spread([r['fid'] for r in rs])} ({statistics.mean(r['fid_rvr'] for r in rs):.2f}) |")
    lines += ["", "± is the standard deviation over seeds; the values after it are the seeds' own, in seed order."]
    for note in res.get("notes", []):
        lines += ["", note]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipes", default="alice", help=f"comma-separated, of: {', '.join(RECIPES)}")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--cache", default=str(HERE / "results" / "bigan_encoder.json"))
    ap.add_argument("--merge", default="", metavar="A.json,B.json",
                    help="only merge the runs of these caches (sweeps run side by side) into --cache")
    ap.add_argument("--note", action="append", default=[], help="a paragraph under the table (repeatable)")
    args = ap.parse_args()
    cache = Path(args.cache)
    res = load_results(cache)
    if args.note:
        res["notes"] = args.note
    if args.merge:
        save_results(cache, merge_runs(res, args.merge), "bigan_encoder", render)
        return
    jobs = named_jobs(args.recipes, RECIPES, args.seeds, args.steps)
    sweep(cache, res, "bigan_encoder", render, jobs, lambda recipe, seed, tmp: measure(recipe, seed, args.steps, tmp),
          lambda recipe, seed, r: f"{recipe} seed {seed} @{r['steps']}: probe {100 * r['acc_features']:.2f} % "
                                  f"(pixels {100 * r['acc_pixels']:.2f} %), recon {r['recon_mse']:.4f} "
                                  f"(mean image {r['recon_mse_mean_image']:.4f}), FID {r['fid']:.2f}, {r['cpu_s']:.0f} CPU s")


if __name__ == "__main__":
    main()
