"""Do the conditional families condition? CGAN (concat, projection), ACGAN and InfoGAN on mnist5k.

For each family: train its preset (``gankit train --preset mnist5k-FAMILY --set train.steps=STEPS``)
in this process, timed, then measure on G_ema with the bundled digit classifier (digit-mnist5k,
its SHA-256 printed):

- class-conditional families: the classifier's accuracy on ``--per-class`` generated images of each
  requested class (target >= 95 %), and FID/KID against the test split beside real-vs-real;
- InfoGAN (no labels): the classifier's labels of ``10 x per-class`` generated images vs their
  categorical code, after the best one-to-one code -> digit matching (Hungarian; target >= 90 %),
  and FID/KID.

Results are kept in runs/bench-conditional/results.json, so families can be run one process at a
time; each run rewrites the section "conditional" of docs/benchmarks.md from all results so far.

    OMP_NUM_THREADS=1 python benchmarks/conditional.py --families cgan,cgan-projection,acgan,infogan --steps 700
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

import gankit
from gankit.config import load_config
from gankit.data import build_dataset
from gankit.metrics.extractor import load_extractor
from gankit.metrics.quality import evaluate_generator
from gankit.models.infogan import code_class_matching
from gankit.sampling import generate
from gankit.viz import save_image_grid

ROOT = Path(__file__).resolve().parent.parent / "runs" / "bench-conditional"
FAMILIES = {"cgan": "mnist5k-cgan", "cgan-projection": "mnist5k-cgan-projection",
            "acgan": "mnist5k-acgan", "infogan": "mnist5k-infogan"}
EVAL_SEED = 2024  # seeds the generated images measured here (not the training seed)


def measure(family: str, steps: int, per_class: int) -> dict:
    preset = FAMILIES[family]
    overrides = [f"train.steps={steps}", "train.checkpoint_every=0", "train.sample_every=0",
                 "train.log_every=100", "train.tensorboard=false", "eval.at_end=false"]
    cfg = load_config(preset=preset, overrides=overrides)
    run_dir = ROOT / f"{family}-{steps}"
    if run_dir.exists():  # a fresh run each time: the folder must be empty for a new run
        import shutil

        shutil.rmtree(run_dir)
    t0 = time.perf_counter()
    result = gankit.train(cfg, run_dir=run_dir, progress=False)
    train_s = time.perf_counter() - t0
    G, prior = result.G_ema if result.G_ema is not None else result.model.G, result.model.prior
    dataset = build_dataset(cfg.data)
    extractor = load_extractor("digit-mnist5k")
    k = prior.num_classes

    # per-class accuracy: per_class images of each requested class (or code), all from one seed
    rows = prior.sample(k * per_class, seed=EVAL_SEED, y=torch.arange(k).repeat_interleave(per_class))
    x = generate(G, rows)
    pred = extractor.classify(x)
    asked = torch.arange(k).repeat_interleave(per_class)
    save_image_grid(generate(G, prior.grid(k * k, EVAL_SEED)), run_dir / "class-grid.png", nrow=k)
    out: dict = {"family": family, "preset": preset, "steps": steps, "train_seconds": round(train_s, 1),
                 "n_per_class": per_class, "eval_seed": EVAL_SEED, "command": _command(family, steps, per_class)}
    if family == "infogan":
        acc, mapping = code_class_matching(asked.numpy(), pred.numpy(), k)
        matched = torch.as_tensor(mapping)[asked]
        out |= {"matching_accuracy": acc, "mapping": mapping.tolist(),
                "per_class_accuracy": [float((pred[asked == c] == matched[asked == c]).float().mean()) for c in range(k)]}
        for code in range(prior.continuous):
            save_image_grid(generate(G, prior.traversal(code, EVAL_SEED)), run_dir / f"traverse-c{code}.png", nrow=k)
    else:
        out |= {"class_accuracy": float((pred == asked).float().mean()),
                "per_class_accuracy": [float((pred[asked == c] == c).float().mean()) for c in range(k)]}
    test = dataset.split("test")
    out["classifier_test_accuracy"] = float((extractor.classify(test.x) == test.y).float().mean())
    q = evaluate_generator(G, prior, dataset, split="test", seed=0)
    out |= {"quality": q.to_dict(), "quality_line": q.lines()[0], "extractor_sha256": extractor.sha256,
            "train_split": len(dataset.train)}
    return out


def _command(family: str, steps: int, per_class: int) -> str:
    return (f"OMP_NUM_THREADS=1 python benchmarks/conditional.py --families {family} --steps {steps} "
            f"--per-class {per_class}")


def report(results: dict[str, dict]) -> str:
    rows = []
    ordered = sorted(results.values(), key=lambda r: (list(FAMILIES).index(r["family"]), r["steps"]))
    for r in ordered:
        fam = r["family"]
        v = r["quality"]["values"]
        if fam == "infogan":
            figure, target = f"{100 * r['matching_accuracy']:.1f} % code-class matching", "90 %"
            ok = r["matching_accuracy"] >= 0.90
        else:
            figure, target = f"{100 * r['class_accuracy']:.1f} % class accuracy", "95 %"
            ok = r["class_accuracy"] >= 0.95
        per = " ".join(f"{100 * a:.0f}" for a in r["per_class_accuracy"])
        rows.append(f"| {fam} | {r['steps']} | {r['train_seconds'] / 60:.1f} min | {figure} ({'meets' if ok else 'misses'} "
                    f"{target}) | {per} | {v['fid']:.2f} ({v['fid_real_vs_real']:.2f}) | "
                    f"{v['kid']:.4f} ({v['kid_real_vs_real']:.4f}) |")
    any_r = next(iter(results.values()))
    fp = any_r["quality"]["fingerprint"]
    commands = "\n".join(f"    {r['command']}" for r in ordered)
    mapping = "".join(f"\nInfoGAN's matching after {r['steps']} steps (code -> digit): {r['mapping']}.\n"
                      for r in ordered if r["family"] == "infogan")
    return f"""## Conditional GANs: do they generate the class they are asked for?

Each family trains its preset (`gankit/presets/mnist5k-FAMILY.yaml`, mnist5k's {any_r['train_split']:,} training
digits, seed 0) for the steps shown, in one process at `OMP_NUM_THREADS=1` (wall time = training only,
on a machine shared with other jobs), then G_ema is measured with the bundled digit classifier
(digit-mnist5k sha256:{any_r['extractor_sha256'][:12]}.., test accuracy on real digits
{100 * any_r['classifier_test_accuracy']:.1f} %): {any_r['n_per_class']} images per requested class (eval seed
{any_r['eval_seed']}). InfoGAN never sees labels: its categorical code is matched one-to-one to the classifier's
digits (Hungarian algorithm) and the accuracy under that matching is shown. FID/KID: {fp['n_generated']} generated vs
{fp['n_real']} {fp['split']} images (real-vs-real in brackets: {fp['n_real']} train vs the same test images), seed {fp['seed']}.

| family | steps | train time | figure (target) | per class / code, % | FID (real-vs-real) | KID (real-vs-real) |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}
{mapping}
Commands:

{commands}

A class accuracy near 10 % means G ignores y: the rows of its class-by-row grid are then the same image.
Class-by-row grids (and InfoGAN's traversals of each continuous code) are written to
runs/bench-conditional/FAMILY-STEPS/.
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default=",".join(FAMILIES), help=f"comma-separated, from {', '.join(FAMILIES)}")
    ap.add_argument("--steps", type=int, default=700, help="generator steps per family")
    ap.add_argument("--per-class", type=int, default=200, help="generated images per requested class")
    ap.add_argument("--report-only", action="store_true", help="rewrite the section from the stored results")
    args = ap.parse_args()
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise SystemExit(f"--families: unknown {unknown}; choose from {', '.join(FAMILIES)}")
    ROOT.mkdir(parents=True, exist_ok=True)
    store = ROOT / "results.json"
    results = json.loads(store.read_text()) if store.exists() else {}
    results = {f"{r['family']}@{r['steps']}": r for r in results.values()}
    if args.report_only:
        write_section("conditional", report(results))
        return
    for fam in families:
        r = measure(fam, args.steps, args.per_class)
        results[f"{fam}@{args.steps}"] = r  # one row per family and step count
        store.write_text(json.dumps(results, indent=1))
        figure = r.get("class_accuracy", r.get("matching_accuracy"))
        print(f"{fam}: {100 * figure:.1f} %  {r['quality_line']}  ({r['train_seconds']:.0f} s training)", flush=True)
        write_section("conditional", report(results))


if __name__ == "__main__":
    main()
