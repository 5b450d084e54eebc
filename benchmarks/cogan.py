"""CoGAN (issue 13): pixel agreement with and without weight sharing, and CoGAN's domain adaptation.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/cogan.py [--tasks edges,negative] [--shares true,false]
        [--seeds 0,1,2] [--da mnist5k-to-mnistm,digits28-to-mnist5k] [--da-seeds 0] [--steps N] [--cache FILE]

Each run trains a preset through the trainer (``mnist5k-cogan-TASK`` with ``model.params.share`` set, or
``TASK-cogan`` for domain adaptation), times it end to end in this process (wall and CPU seconds: building
the data, training, the end-of-run figures) and reads its figures from the run's ``model_figures.json``
and ``quality.json``. Results go to a JSON cache (default benchmarks/results/cogan.json, kept in git) after
every run, and the section "cogan" of docs/benchmarks.md is rewritten from it; ``--merge A.json,B.json``
merges the caches of processes run side by side. The DANN rows shown beside CoGAN's domain adaptation
are read from benchmarks/results/domains.json (``benchmarks/domains.py``).
"""

from __future__ import annotations

import argparse
import json
import statistics as st
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import load_results, merge_runs, save_results

from gankit.engine.trainer import train
from gankit.plugins import load_config

HERE = Path(__file__).resolve().parent
QUIET = ["train.sample_every=0", "train.checkpoint_every=0", "train.tensorboard=false", "train.log_every=500"]
# Liu & Tuzel 2016, Fig. 2 / Sec. 5: pixel agreement ratios of the digit tasks with weight sharing (as issue 13
# quotes them; full MNIST, their wider nets, 25,000 iterations of batch 64).
PAPER = {"edges": 0.952, "negative": 0.967}


def _mean_std(values: list[float], digits: int = 3) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}f} (one seed)"
    return f"{st.mean(values):.{digits}f} +- {st.stdev(values):.{digits}f}"


def run_one(preset: str, overrides: list[str], name: str, tmp: Path) -> dict:
    cfg = load_config(preset=preset, overrides=QUIET + overrides)
    t0, c0 = time.perf_counter(), time.process_time()
    result = train(cfg, run_dir=tmp / name, progress=False)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    figures = json.loads((result.run_dir / "model_figures.json").read_text())
    quality = json.loads((result.run_dir / "quality.json").read_text())
    return {"preset": preset, "overrides": overrides, "seed": cfg.seed, "share": cfg.model.params.get("share", True),
            "steps": cfg.train.steps, "batch_size": cfg.train.batch_size, "width": cfg.net.width,
            "seconds": seconds, "cpu_seconds": cpu, "values": figures["values"], "fingerprint": figures["fingerprint"],
            "quality": quality}


def _fid(r: dict) -> tuple[float, float] | None:
    v = r["quality"].get("values", r["quality"])
    try:
        return float(v["fid"]), float(v["fid_real_vs_real"])
    except (KeyError, TypeError):
        return None


def render(res: dict) -> str:
    runs = res.get("runs", {})
    out = ["## CoGAN (issue 13): coupled generators on unpaired digits, and domain adaptation", "",
           "`OMP_NUM_THREADS=1 nice -n 10 python benchmarks/cogan.py` (one thread per run). Two DCGAN generators share",
           "every layer but the last, two discriminators every layer but the first (`gankit/nets/coupled.py`); the",
           "no-sharing control is the same layers with nothing tied (`model.params.share=false`). Data: mnist5k's",
           "4,000 training digits cut into two disjoint halves of 2,000; domain 1 is one half as it is, domain 2 the",
           "transform T of the other half (Sobel edges, or the negative), so no pair is ever seen",
           "(`gankit/data/unpaired.py`). Pixel agreement (the paper's figure): for 2,000 seeded z, the fraction of",
           "pixels where T(G1(z)) and G2(z) agree, both binarised at mid-grey, G1(z) through 8-bit codes; beside it",
           "the same ratio for unrelated pairs (G2 of other z), the level that agreeing black backgrounds alone give.",
           "FID of G1 against mnist5k's test digits (digit extractor, N=500) beside real-vs-real.", ""]
    gen = [r for r in runs.values() if r["preset"].startswith("mnist5k-cogan-")]
    if gen:
        any_run = gen[0]
        out += [f"{any_run['steps']} steps, batch {any_run['batch_size']} per domain, net.width {any_run['width']}, "
                "Adam lr 2e-4, betas (0.5, 0.999), non-saturating loss, no EMA (the presets).", "",
                "| task | sharing | pixel agreement | unrelated pairs | agreement - unrelated | FID (real-vs-real) | "
                "seeds | wall / CPU s per run | Liu & Tuzel 2016 |",
                "|---|---|---|---|---|---|---|---|---|"]
        for task in ("edges", "negative"):
            for share in (True, False):
                rs = sorted((r for r in gen if r["preset"] == f"mnist5k-cogan-{task}" and r["share"] == share),
                            key=lambda r: r["seed"])
                if not rs:
                    continue
                agree = [r["values"]["pixel_agreement"] for r in rs]
                chance = [r["values"]["pixel_agreement_chance"] for r in rs]
                fids = [f for f in map(_fid, rs) if f]
                fid = (f"{st.mean(f[0] for f in fids):.1f} ({st.mean(f[1] for f in fids):.2f})" if fids else "-")
                paper = f"{PAPER[task]:.3f}" if share else "(lower; a curve, no number)"
                out.append(f"| digits / {task} | {'shared' if share else 'no sharing'} | {_mean_std(agree)} | "
                           f"{_mean_std(chance)} | {_mean_std([a - c for a, c in zip(agree, chance)])} | {fid} | "
                           f"{','.join(str(r['seed']) for r in rs)} | {st.mean(r['seconds'] for r in rs):.0f} / "
                           f"{st.mean(r['cpu_seconds'] for r in rs):.0f} | {paper} |")
        out.append("")
        per = [f"{r['preset'].removeprefix('mnist5k-cogan-')} {'shared' if r['share'] else 'no sharing'} seed {r['seed']}: "
               f"{r['values']['pixel_agreement']:.4f} (unrelated {r['values']['pixel_agreement_chance']:.4f})"
               for r in sorted(gen, key=lambda r: (r["preset"], not r["share"], r["seed"]))]
        out += ["Per run: " + "; ".join(per) + ".", ""]
    da = [r for r in runs.values() if not r["preset"].startswith("mnist5k-cogan-")]
    if da:
        dann = load_results(HERE / "results" / "domains.json").get("runs", {})
        any_run = da[0]
        out += ["### Domain adaptation", "",
                "A linear softmax classifier on D's shared features (the input of the shared score head), trained in",
                "D's step on the labelled source images through D1 (`model.params.class_weight=1`); the target is",
                "read through D2's own first layer and the same shared layers and classifier. Accuracy on the",
                "target domain's test split (500 images), beside the DANN, source-only and trained-on-target rows",
                "of the domain adaptation section above (other networks: DANN's conv 32 / 48 feature extractor).",
                f"{any_run['steps']} steps, batch {any_run['batch_size']} per domain, net.width {any_run['width']}.", "",
                "| task | CoGAN target acc. (%) | CoGAN source acc. (%) | seeds | wall / CPU s per run | "
                "DANN (%) | source only (%) | trained on target (%) |", "|---|---|---|---|---|---|---|---|"]
        for task in sorted({r["preset"].removesuffix("-cogan") for r in da}):
            rs = sorted((r for r in da if r["preset"] == f"{task}-cogan"), key=lambda r: r["seed"])
            tgt = [100 * r["values"]["target_accuracy"] for r in rs]
            src = [100 * r["values"]["source_accuracy"] for r in rs]
            other = {m: [100 * r["target_accuracy"] for r in dann.get(task, {}).values() if r["mode"] == m]
                     for m in ("dann", "source-only", "target-only")}
            out.append(f"| {task} | {_mean_std(tgt, 2)} | {_mean_std(src, 2)} | {','.join(str(r['seed']) for r in rs)} | "
                       f"{st.mean(r['seconds'] for r in rs):.0f} / {st.mean(r['cpu_seconds'] for r in rs):.0f} | "
                       + " | ".join(_mean_std(other[m], 2) for m in ("dann", "source-only", "target-only")) + " |")
        out.append("")
    for note in res.get("notes", []):
        out += [note, ""]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="edges,negative", help="pixel agreement tasks ('' for none)")
    ap.add_argument("--shares", default="true,false")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--da", default="mnist5k-to-mnistm,digits28-to-mnist5k", help="domain adaptation tasks ('' for none)")
    ap.add_argument("--da-seeds", default="0")
    ap.add_argument("--steps", type=int, default=None, help="train.steps of every run (default: the presets')")
    ap.add_argument("--cache", default=str(HERE / "results" / "cogan.json"))
    ap.add_argument("--merge", default="", metavar="A.json,B.json", help="only merge these caches into --cache")
    ap.add_argument("--note", action="append", default=[], help="a paragraph under the tables (repeatable)")
    args = ap.parse_args()
    cache = Path(args.cache)
    res = load_results(cache)
    if args.note:
        res["notes"] = args.note
    if args.merge or args.note:
        merge_runs(res, args.merge)
        save_results(cache, res, "cogan", render)
        print(render(res))
        return
    steps = [f"train.steps={args.steps}"] if args.steps else []
    jobs = [(f"mnist5k-cogan-{task}", [f"seed={seed}", f"model.params.share={share}", *steps],
             f"{task}-{'shared' if share == 'true' else 'unshared'}-{seed}")
            for seed in args.seeds.split(",") for task in filter(None, args.tasks.split(","))
            for share in args.shares.split(",")]
    jobs += [(f"{task}-cogan", [f"seed={seed}", *steps], f"{task}-{seed}")
             for task in filter(None, args.da.split(",")) for seed in args.da_seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp_name:
        for preset, overrides, name in jobs:
            r = run_one(preset, overrides, name, Path(tmp_name))
            res.setdefault("runs", {})[name] = r
            save_results(cache, res, "cogan", render)
            print(f"{name}: {r['values']} ({r['seconds']:.0f} s wall, {r['cpu_seconds']:.0f} s CPU)", flush=True)
    print(render(res))


if __name__ == "__main__":
    main()
