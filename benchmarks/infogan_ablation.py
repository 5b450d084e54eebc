"""Why does InfoGAN's categorical code miss the digits on mnist5k? One-cause-at-a-time ablations.

Each run trains the mnist5k-infogan preset (with ``--set`` overrides) in this process and measures the
code -> digit Hungarian matching of benchmarks/conditional.py (the bundled digit classifier's labels of
10 x ``--per-class`` images, eval seed 2024) on G_ema AND on the raw G (eval mode), so the EMA's
effect is read from the same run. It also reports the k-means-on-raw-pixels baseline: k-means (K=10,
10 restarts, seed 0) on the 4,000 training images, matched to their true labels the same way.

Rows go to benchmarks/results/infogan_ablation.json (this script does not rewrite docs/benchmarks.md).

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/infogan_ablation.py --steps 1500 --set seed=1
    OMP_NUM_THREADS=1 python benchmarks/infogan_ablation.py --kmeans-only
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gankit
from gankit.data import build_dataset
from gankit.metrics.extractor import load_extractor
from gankit.models.infogan import code_class_matching
from gankit.plugins import load_config
from gankit.sampling import generate

ROOT = Path(__file__).resolve().parent.parent / "runs" / "bench-infogan-ablation"
STORE = Path(__file__).resolve().parent / "results" / "infogan_ablation.json"
EVAL_SEED = 2024


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


def measure(steps: int, per_class: int, extra: list[str]) -> dict:
    overrides = [f"train.steps={steps}", "train.checkpoint_every=0", "train.sample_every=0",
                 "train.log_every=100", "train.tensorboard=false", "train.report=false", "eval.at_end=false", *extra]
    cfg = load_config(preset="mnist5k-infogan", overrides=overrides)
    run_dir = ROOT / ("-".join([str(steps), *("".join(c if c.isalnum() else "-" for c in o) for o in extra)]))
    if run_dir.exists():
        import shutil

        shutil.rmtree(run_dir)
    t0 = time.perf_counter()
    result = gankit.train(cfg, run_dir=run_dir, progress=False)
    train_s = time.perf_counter() - t0
    prior, extractor = result.model.prior, load_extractor("digit-mnist5k")
    k = prior.num_classes
    asked = torch.arange(k).repeat_interleave(per_class)
    rows = prior.sample(k * per_class, seed=EVAL_SEED, y=asked)
    out = {"steps": steps, "overrides": extra, "train_seconds": round(train_s, 1), "per_class": per_class,
           "eval_seed": EVAL_SEED, "seed": cfg.seed}
    for name, G in (("G_ema", result.G_ema), ("G", result.model.G)):
        if G is None:
            continue
        pred = extractor.classify(generate(G, rows))
        acc, mapping = code_class_matching(asked.numpy(), pred.numpy(), k)
        out[f"matching_{name}"], out[f"mapping_{name}"] = acc, mapping.tolist()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--per-class", type=int, default=200)
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--kmeans-only", action="store_true")
    args = ap.parse_args()
    STORE.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(STORE.read_text()) if STORE.exists() else {}
    if args.kmeans_only:
        r = kmeans_baseline()
        results["kmeans"] = r
    else:
        r = measure(args.steps, args.per_class, args.sets)
        results[" ".join([f"infogan@{args.steps}", *args.sets])] = r
    STORE.write_text(json.dumps(results, indent=1))
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
