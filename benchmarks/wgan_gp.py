"""WGAN-GP on mnist5k at an equal CPU-time budget: the preset, an MLP baseline and the ablations between them.

Every (candidate, seed) trains in a fresh subprocess (this script with ``--child``), at one thread, one run
at a time, and stops when the PROCESS CPU time (``time.process_time()``: user + system of the child,
start-up included) reaches ``--budget`` seconds: the trainer's ``on_step`` hook stops it after that
generator step, as a Ctrl-C would (checkpoint, then return). CPU time rather than wall time because the
machine is shared: the same CPU budget buys the same number of steps however busy the machine is. Each
run is then scored in the same child with ``gankit eval``'s code path on G_ema: FID at N=500 against the
VALIDATION split (the choice) and against the TEST split (the report), each beside its real-vs-real value
at the same N, extractor digit-mnist5k, seed 0.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/wgan_gp.py --candidates preset,mlp --seeds 0,1 --budget 150

Results are kept in benchmarks/results/wgan_gp.json (a killed sweep resumes where it stopped) and the
section "wgan_gp" of docs/benchmarks.md is rewritten after every run.
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
from _report import child_cpu, load_results, named_jobs, save_results, spread, sweep  # noqa: E402

HERE = Path(__file__).resolve().parent
PRESET = "mnist5k-wgan-gp"
# An MLP pair in the spirit of the paper's toy code (gan_toy.py: 3 hidden layers of 512 ReLU units): the
# image MLP of gankit without its weight norm and noise, which a critic under a gradient penalty does not need.
MLP = ["net.name=mlp-image", "net.params.d_hidden=[512,512,512]", "net.params.g_hidden=[512,512,512]",
       "net.params.d_noise=0", "net.params.weight_norm=false"]
# Each candidate: overrides of the preset's config as it was before issue 18 (the "old" row), so a
# candidate's name means the same whatever the preset holds now.
OLD = ["net.name=dcgan", "net.width=32", "train.d_steps=5", "train.lr_g=1e-4", "train.lr_d=1e-4",
       "train.betas=[0.0,0.9]", "train.batch_size=64"]
CANDIDATES: dict[str, list[str]] = {
    "old-preset": [],
    "mlp": MLP,
    "mlp-d1-lr2e-4": MLP + ["train.d_steps=1", "train.lr_g=2e-4", "train.lr_d=2e-4", "train.betas=[0.5,0.9]"],
    "code-betas": ["train.betas=[0.5,0.9]"],
    "d1": ["train.d_steps=1"],
    "d2": ["train.d_steps=2"],
    "d1-lr2e-4": ["train.d_steps=1", "train.lr_g=2e-4", "train.lr_d=2e-4", "train.betas=[0.5,0.9]"],
    "d2-lr2e-4": ["train.d_steps=2", "train.lr_g=2e-4", "train.lr_d=2e-4", "train.betas=[0.5,0.9]"],
    "d1-lr5e-4": ["train.d_steps=1", "train.lr_g=5e-4", "train.lr_d=5e-4", "train.betas=[0.5,0.9]"],
    "w64": ["net.width=64"],
    "layer-norm": ["net.params.d_norm=layer"],
    "layer-norm-d1-lr2e-4": ["net.params.d_norm=layer", "train.d_steps=1", "train.lr_g=2e-4", "train.lr_d=2e-4",
                             "train.betas=[0.5,0.9]"],
    "new-preset": None,  # the preset file as it is now, without OLD
}
QUIET = ["train.checkpoint_every=0", "train.sample_every=0", "train.log_every=100", "train.tensorboard=false",
         "train.report=false", "eval.at_end=false", "train.steps=1000000"]


def child(run_dir: str, budget: float, sets: list[str]) -> None:
    """Train until the process has used ``budget`` CPU seconds, then score G_ema on val and test."""
    from gankit.engine.trainer import train
    from gankit.evaluation import evaluate
    from gankit.plugins import load_config

    cfg = load_config(preset=PRESET, overrides=sets + QUIET)
    res = train(cfg, run_dir=run_dir, on_step=lambda step: time.process_time() >= budget, progress=False)
    train_cpu = time.process_time()
    out = {"steps": res.step, "train_cpu_s": round(train_cpu, 1)}
    for split in ("val", "test"):
        v = evaluate(run_dir, metrics="fid", n=500, split=split, seed=0, ema=True, log=None).results["fid"]
        out[f"{split}_fid"], out[f"{split}_fid_rvr"] = v.values["fid"], v.values["fid_real_vs_real"]
    out["fingerprint"] = {k: v.fingerprint.get(k) for k in ("dataset", "split", "n_generated", "extractor",
                                                            "extractor_sha256", "seed", "generator")}
    print("RESULT " + json.dumps(out), flush=True)



def measure(name: str, seed: int, budget: float, root: Path) -> dict:
    sets = (OLD + CANDIDATES[name] if CANDIDATES[name] is not None else []) + [f"seed={seed}"]
    cpu0 = child_cpu()
    proc = subprocess.run([sys.executable, __file__, "--child", str(root / f"{name}-s{seed}"),
                           "--budget", str(budget), *[a for s in sets for a in ("--set", s)]],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{name} seed {seed} failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    r = json.loads(line[len("RESULT "):])
    return {"candidate": name, "seed": seed, "budget_s": budget, "overrides": sets[:-1],
            "total_cpu_s": round(child_cpu() - cpu0, 1), **r}



def render(res: dict) -> str:
    runs = list(res.get("runs", {}).values())
    lines = ["## WGAN-GP on mnist5k at an equal CPU budget (issue 18)", "",
             "`OMP_NUM_THREADS=1 nice -n 5 python benchmarks/wgan_gp.py --candidates ... --seeds ... --budget B`: "
             "each (candidate, seed) trains in its own process at one thread, one run at a time, and stops after "
             "the generator step at which the process's CPU time (user + system, start-up included) reaches B "
             "seconds; G_ema is then scored with FID at N=500 (extractor digit-mnist5k, eval seed 0) against "
             "the validation split (the choice) and the test split (the report), each beside real-vs-real at "
             "the same N. CPU time, not wall time: the machine was shared with other jobs, so wall times are "
             "inflated and not shown. Candidates are overrides of the preset as it was before issue 18 "
             "(DCGAN width 32, 5 critic steps, Adam 1e-4, betas (0, 0.9), batch 64, EMA of G); `new-preset` is "
             "the preset file as it is now.", "",
             "| candidate | overrides | budget (CPU s) | seeds | G steps reached | val FID gap | test FID gap | test FID (real-vs-real) |",
             "|---|---|---|---|---|---|---|---|"]
    by: dict[tuple[str, float], list[dict]] = {}
    for r in runs:
        by.setdefault((r["candidate"], r["budget_s"]), []).append(r)
    order = sorted(by, key=lambda k: (k[1], statistics.mean(x["val_fid"] - x["val_fid_rvr"] for x in by[k])))
    for key in order:
        rs = sorted(by[key], key=lambda x: x["seed"])
        name = key[0]
        over = " ".join(f"`{o}`" for o in (CANDIDATES.get(name) or [])) or (
            "(none)" if name == "old-preset" else "(the preset file)")
        lines.append(
            f"| {name} | {over} | {key[1]:g} | {','.join(str(r['seed']) for r in rs)} "
            f"| {', '.join(str(r['steps']) for r in rs)} "
            f"| {spread([r['val_fid'] - r['val_fid_rvr'] for r in rs], 'values')} "
            f"| {spread([r['test_fid'] - r['test_fid_rvr'] for r in rs], 'values')} "
            f"| {statistics.mean(r['test_fid'] for r in rs):.2f} ({statistics.mean(r['test_fid_rvr'] for r in rs):.2f}) |")
    lines += ["", "Rows are grouped by budget and sorted by the mean validation gap (FID minus real-vs-real); "
              "± is the standard deviation over seeds, the per-seed values follow in brackets."]
    for note in res.get("notes", []):
        lines += ["", note]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", default="old-preset,mlp", help=f"comma-separated, of: {', '.join(CANDIDATES)}")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--budget", type=float, default=150.0, help="CPU seconds per run (start-up included)")
    ap.add_argument("--cache", default=str(HERE / "results" / "wgan_gp.json"))
    ap.add_argument("--note", action="append", default=[], help="a paragraph under the table (repeatable)")
    ap.add_argument("--render", action="store_true", help="only rewrite the section from the cache")
    ap.add_argument("--child", metavar="RUN_DIR", help=argparse.SUPPRESS)
    ap.add_argument("--set", action="append", default=[], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.budget, args.set)
        return
    cache = Path(args.cache)
    res = load_results(cache)
    if args.note:
        res["notes"] = args.note
    if args.render:
        save_results(cache, res, "wgan_gp", render)
        return
    jobs = named_jobs(args.candidates, CANDIDATES, args.seeds, f"{args.budget:g}", what="candidate")
    sweep(cache, res, "wgan_gp", render, jobs, lambda name, seed, tmp: measure(name, seed, args.budget, tmp),
          lambda name, seed, r: f"{name} seed {seed}: {r['steps']} G steps in {r['train_cpu_s']:.0f} CPU s, "
                                f"val gap {r['val_fid'] - r['val_fid_rvr']:.2f}, test FID {r['test_fid']:.2f} "
                                f"({r['test_fid_rvr']:.2f})")


if __name__ == "__main__":
    main()
