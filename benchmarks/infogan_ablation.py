"""Why does InfoGAN's categorical code miss the digits on mnist5k? One-cause-at-a-time ablations.

Each run trains the mnist5k-infogan preset (with ``--set`` overrides) in this process and measures the
code -> digit Hungarian matching of benchmarks/conditional.py (the bundled digit classifier's labels of
10 x ``--per-class`` images, eval seed 2024) on G_ema AND on the raw G (eval mode), so the EMA's
effect is read from the same run. It also reports the k-means-on-raw-pixels baseline: k-means (K=10,
10 restarts, seed 0) on the 4,000 training images, matched to their true labels the same way.

Rows go to benchmarks/results/infogan_ablation.json (this script does not rewrite docs/benchmarks.md).

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/infogan_ablation.py --steps 1500 --set seed=1
    OMP_NUM_THREADS=1 python benchmarks/infogan_ablation.py --kmeans-only
    python benchmarks/infogan_ablation.py --steps 5000 --every 1000 --set net.name=infogan-mnist \\
        --set train.batch_size=128   # the authors' scale, with the matching at every 1,000 steps
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gankit
from gankit.data import build_dataset
from gankit.metrics.extractor import load_extractor
from gankit.models.infogan import code_class_matching
from gankit.plugins import load_config
from checkpoint_curve import EVAL_SEED, class_fidelity, curve  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent / "runs" / "bench-infogan-ablation"
STORE = Path(__file__).resolve().parent / "results" / "infogan_ablation.json"


def kmeans_baseline(seed: int = 0) -> dict:
    """k-means (K=10) on the raw pixels of mnist5k's 4,000 training images vs their labels (Hungarian)."""
    from sklearn.cluster import KMeans

    cfg = load_config(preset="mnist5k-infogan")
    train = build_dataset(cfg.data).split("train")
    x = train.float_x().reshape(len(train.y), -1).numpy()
    y = np.asarray(train.y)
    km = KMeans(10, n_init=10, random_state=seed).fit(x)
    acc, _ = code_class_matching(km.labels_, y, 10)
    return {"kmeans_matching": acc, "n": int(len(y)), "seed": seed}


def measure(steps: int, per_class: int, extra: list[str], every: int = 0) -> dict:
    overrides = [f"train.steps={steps}", f"train.checkpoint_every={every}", f"train.keep_checkpoints={max(1, steps // max(every, 1))}",
                 "train.sample_every=0",
                 "train.log_every=100", "train.tensorboard=false", "train.report=false", "eval.at_end=false", *extra]
    cfg = load_config(preset="mnist5k-infogan", overrides=overrides)
    run_dir = ROOT / ("-".join([str(steps), *("".join(c if c.isalnum() else "-" for c in o) for o in extra)]))
    if run_dir.exists():
        import shutil

        shutil.rmtree(run_dir)
    t0 = time.perf_counter()
    result = gankit.train(cfg, run_dir=run_dir, progress=False)
    train_s = time.perf_counter() - t0
    extractor = load_extractor("digit-mnist5k")
    out = {"steps": steps, "overrides": extra, "train_seconds": round(train_s, 1), "per_class": per_class,
           "eval_seed": EVAL_SEED, "seed": cfg.seed}
    for name, G in (("G_ema", result.G_ema), ("G", result.model.G)):
        if G is not None:
            out[f"matching_{name}"], out[f"mapping_{name}"] = class_fidelity(G, result.model.prior, extractor,
                                                                             per_class, matched=True)
    if every:
        out["curve"] = [{"step": r["step"], "matching_G_ema": r["class_fidelity"]}
                        for r in curve(run_dir, result.model, per_class)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--per-class", type=int, default=200)
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--kmeans-only", action="store_true")
    ap.add_argument("--every", type=int, default=0, help="keep a checkpoint every N steps and add the matching "
                                                          "of each (the run's learning curve)")
    args = ap.parse_args()
    STORE.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(STORE.read_text()) if STORE.exists() else {}
    if args.kmeans_only:
        r = kmeans_baseline()
        results["kmeans"] = r
    else:
        r = measure(args.steps, args.per_class, args.sets, args.every)
        results[" ".join([f"infogan@{args.steps}", *args.sets])] = r
    STORE.write_text(json.dumps(results, indent=1))
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
