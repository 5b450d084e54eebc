"""Is the augmentation study's CNN verdict an artefact of its fixed 200 Adam steps?

`gankit study augment` trains its CNN for 200 steps of 32 images whatever the training set's size (fixed
hyper-parameters, no tuning). On mnist5k at n >= 50 labelled images per class that CNN is below 1-NN, its
'real' upper bound is not significant, and every GAN's samples hurt it by 4-6 points. This benchmark
rebuilds a study job's training set (``gankit.studies.augment.synthesize``: the same labelled subset, the
same generator, the same synthetic images, so the 200-step column reproduces the stored job's CNN accuracy)
and trains the same CNN for more steps, on the real labelled images alone and with each augmenter's images.
Nothing is chosen on the test split: the step counts are fixed in advance and every one is reported.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/augment_cnn_steps.py --budget 100 --seeds 0,1,2,3 \
        --variants none,affine,cgan-A,cgan-B --steps 200,1000,3000

Results are kept in benchmarks/results/augment_cnn_steps.json (a killed sweep resumes) and the section
"augment_cnn_steps" of docs/benchmarks.md is rewritten after every job.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import load_results, named_jobs, sweep  # noqa: E402

from gankit.studies import augment as aug
from gankit.studies.classifiers import fit_predict

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VARIANTS = {"none": ("none", "A"), "affine": ("affine", "A"), "smote": ("smote", "A"), "cgan-A": ("cgan", "A"),
            "cgan-B": ("cgan", "B"), "acgan-A": ("acgan", "A"), "acgan-B": ("acgan", "B"), "real": ("real", "B")}


def stored_cnn(budget: int, seed: int, variant: str, out: Path) -> float | None:
    """The CNN test accuracy of the study's own job for this cell (studies/augment-mnist5k), if stored."""
    augmenter, situation = VARIANTS[variant]
    study = aug.AugmentStudy(data="mnist5k", budgets=[budget], seeds=max(2, seed + 1))
    for job in study.jobs():
        p = job.params
        if (p["seed"], p["augmenter"], p["situation"]) == (seed, augmenter, situation):
            path = out / "jobs" / f"{job.id}.json"
            return json.loads(path.read_text())["result"]["classifiers"]["cnn"]["test_acc"] if path.exists() else None
    return None


def measure(variant: str, seed: int, budget: int, steps: list[int], out: Path) -> dict:
    import torch

    augmenter, situation = VARIANTS[variant]
    dataset = aug.load_dataset("mnist5k")
    k = dataset.info.num_classes
    test = dataset.split("test")
    x_test, y_test = test.float_x(), test.y.numpy()
    cpu0 = time.process_time()
    # one synthetic image per real one, as the study's default ratio (the GAN: the study's 1,500 steps)
    x, y, x_syn, y_syn = aug.synthesize(dataset, budget, seed, augmenter, situation, budget * k,
                                        aug.AugmentStudy(data="mnist5k").gan_steps)
    m = len(x_syn) if augmenter == "real" else budget * k
    xt, yt = torch.cat([x, x_syn[:m]]), torch.cat([y, y_syn[:m]])
    acc = {}
    for t in steps:
        (pt,) = fit_predict("cnn", xt, yt, [x_test], seed=seed, num_classes=k, cnn_steps=t)
        acc[str(t)] = float((pt == y_test).mean())
    return {"variant": variant, "seed": seed, "budget": budget, "n_train": int(len(xt)), "test_acc": acc,
            "study_job_cnn": stored_cnn(budget, seed, variant, out), "cpu_s": round(time.process_time() - cpu0, 1)}


def render(res: dict) -> str:
    runs = list(res.get("runs", {}).values())
    budgets = sorted({r["budget"] for r in runs})
    lines = ["## The augmentation study's CNN at more steps (`benchmarks/augment_cnn_steps.py`)", "",
             "The study's CNN trains 200 Adam steps of 32 images whatever the training set's size. Here the same "
             "CNN, on the same training sets as the study's jobs (same labelled subset, same synthetic images; one "
             "synthetic per real image), at more steps. Test accuracy on mnist5k's 500 test images, mean ± std over "
             "seeds; 'diff' is the paired difference to 'none' at the same steps (points). The 200-step column "
             "is checked against the study's stored job.", ""]
    for b in budgets:
        rows = [r for r in runs if r["budget"] == b]
        steps = sorted({int(t) for r in rows for t in r["test_acc"]})
        variants = [v for v in VARIANTS if any(r["variant"] == v for r in rows)]
        base = {(r["seed"], t): a for r in rows if r["variant"] == "none" for t, a in r["test_acc"].items()}
        lines += [f"n = {b} labelled images per class:", "",
                  "| variant | seeds | " + " | ".join(f"{t} steps: acc / diff" for t in steps) + " | equals the study's job |",
                  "|---|---|" + "---|" * len(steps) + "---|"]
        for v in variants:
            rv = [r for r in rows if r["variant"] == v]
            cells = []
            for t in steps:
                accs = [r["test_acc"][str(t)] for r in rv if str(t) in r["test_acc"]]
                diffs = [100 * (r["test_acc"][str(t)] - base[(r["seed"], str(t))]) for r in rv
                         if (r["seed"], str(t)) in base and str(t) in r["test_acc"]]
                sd = f" ± {statistics.stdev(accs):.3f}" if len(accs) > 1 else ""
                dd = "" if v == "none" or not diffs else f" / {statistics.mean(diffs):+.1f}"
                cells.append(f"{statistics.mean(accs):.3f}{sd}{dd}" if accs else "")
            checked = [r for r in rv if r.get("study_job_cnn") is not None and "200" in r["test_acc"]]
            same = sum(r["study_job_cnn"] == r["test_acc"]["200"] for r in checked)
            lines.append(f"| {v} | {','.join(str(r['seed']) for r in rv)} | " + " | ".join(cells) +
                         f" | {same} of {len(checked)} |")
        lines.append("")
    lines += [f"CPU seconds per job (generator + every CNN): mean {statistics.mean(r['cpu_s'] for r in runs):.0f}."
              if runs else ""]
    lines += res.get("notes", [])
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--seeds", default="0,1,2,3")
    ap.add_argument("--variants", default="none,affine,cgan-A,cgan-B")
    ap.add_argument("--steps", default="200,1000,3000")
    ap.add_argument("--study", default=str(ROOT / "studies" / "augment-mnist5k"),
                    help="the study whose stored jobs the 200-step column is checked against")
    ap.add_argument("--cache", default=str(HERE / "results" / "augment_cnn_steps.json"))
    ap.add_argument("--note", action="append", default=[], help="a paragraph under the table (repeatable)")
    args = ap.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    res = load_results(args.cache)
    if args.note:
        res["notes"] = args.note
    jobs = named_jobs(args.variants, VARIANTS, args.seeds, f"n{args.budget}/steps{args.steps}", what="variant")
    sweep(args.cache, res, "augment_cnn_steps", render, jobs,
          lambda v, s, _tmp: measure(v, s, args.budget, steps, Path(args.study)),
          lambda v, s, r: f"{v} seed {s}: " + ", ".join(f"{t} steps {a:.3f}" for t, a in r["test_acc"].items()))


if __name__ == "__main__":
    main()
