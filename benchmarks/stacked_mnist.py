"""Stacked MNIST (1,000 modes, ../shared/BENCHMARKS.md section 2): a DCGAN baseline and gankit's best (PacGAN).

Each configuration trains through ``gankit.train`` on ``stacked-mnist`` (three mnist5k train digits as
three channels) and is scored by the trainer's end-of-training figure: the bundled ``digit-mnist5k``
classifier labels each channel of 26,000 samples of G (G_ema when kept); modes = distinct (d1, d2, d3),
KL = KL(mode histogram || uniform over 1000); beside it the same metric on 26,000 real triples of the
test split's digits (:mod:`gankit.metrics.stacked`). Wall time is measured from the start of training
to the end of the evaluation.

    OMP_NUM_THREADS=1 python benchmarks/stacked_mnist.py                       # both, default steps
    OMP_NUM_THREADS=1 python benchmarks/stacked_mnist.py --configs dcgan --steps 1000 --n-train 25600
    OMP_NUM_THREADS=1 python benchmarks/stacked_mnist.py --configs dcgan+pack2 --steps 10000 --drs  # + DRS row

Results are appended to ``benchmarks/results/stacked_mnist.jsonl``; the section "stacked_mnist" of
docs/benchmarks.md is rebuilt from the newest result of each configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "stacked_mnist.jsonl"
QUIET = ["train.tensorboard=false", "train.checkpoint_every=0", "train.sample_every=0", "train.log_every=250",
         "eval.at_end=true", "eval.split=test"]
# label -> overrides on top of the mnist5k preset (the non-saturating DCGAN of the main job).
CONFIGS: dict[str, list[str]] = {
    "dcgan": ["data.name=stacked-mnist"],
    "dcgan+pack2": ["data.name=stacked-mnist", "reg.pack=2"],
}
PUBLISHED = [
    ("DCGAN (VEEGAN Table 2)", "99", "3.4"),
    ("VEEGAN (VEEGAN Table 2)", "150", "2.95"),
    ("Unrolled GAN 10 steps, D = 1/2 G (PacGAN Table 3)", "817.4", "1.43"),
    ("WGAN-GP (GDPP Table 3)", "995", "0.148"),
    ("GDPP-GAN (GDPP Table 3)", "1000", "0.135"),
    ("PacDCGAN2 (PacGAN Table 2)", "1000.0", "0.06"),
]


def run(label: str, steps: int | None, n_train: int | None, seed: int, drs: bool) -> list[dict[str, Any]]:
    """Train and score one configuration; with ``drs`` also the samples DRS keeps (a second record,
    label '<label>+drs', from the same run: its wall time includes calibration and rejection sampling)."""
    import gankit
    from gankit.plugins import load_config

    extra = (([f"train.steps={steps}"] if steps else []) + ([f"data.n_train={n_train}"] if n_train else [])
             + (["eval.drs=true"] if drs else []))
    cfg = load_config(preset="mnist5k", overrides=CONFIGS[label] + QUIET + extra + [f"seed={seed}"])
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = gankit.train(cfg, run_dir=Path(tmp) / "run", progress=False)
    wall = time.perf_counter() - t0
    common = {"seed": seed, "steps": cfg.train.steps, "batch_size": cfg.train.batch_size,
              "n_train": cfg.data.n_train, "overrides": CONFIGS[label] + extra, "wall_s": round(wall, 1),
              "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    out = [{"label": label, **common, "values": result.quality.values, "fingerprint": result.quality.fingerprint,
            "line": result.quality.lines()[0]}]
    if result.quality_drs is not None:
        q = result.quality_drs
        out.append({"label": label + "+drs", **common, "values": q.values, "fingerprint": q.fingerprint,
                    "line": "with DRS: " + q.lines()[0]})
    return out


def report() -> str:
    newest: dict[str, dict[str, Any]] = {}
    if RESULTS.exists():
        for line in RESULTS.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                newest[r["label"]] = r
    rows = []
    for label, r in newest.items():
        v = r["values"]
        if "modes_covered" not in v:  # DRS kept too few samples to score (quality_drs kind "none")
            rows.append(f"| gankit {label} (seed {r['seed']}) | {r['fingerprint'].get('reason')} | | |")
            continue
        rows.append(f"| gankit {label} ({r['steps']} steps x batch {r['batch_size']}, {r['n_train']} train "
                    f"triples, seed {r['seed']}; {' '.join(r['overrides'])}) | {v['modes_covered']} | {v['kl']:.3f} | "
                    f"{r['wall_s'] / 60:.1f} min |")
    published = [f"| {name} | {modes} | {kl} | |" for name, modes, kl in PUBLISHED]
    real = next((r for r in newest.values() if "real_kl" in r["values"]), None)
    ref = ""
    if real is not None:
        v, fp = real["values"], real["fingerprint"]
        ref = (f"Real stacked data under the same scorer ({fp['n_real']} triples of {fp['split']} digits, seed "
               f"{fp['seed']}): {v['real_modes_covered']} modes, KL {v['real_kl']:.3f}; classifier {fp['extractor']} "
               f"sha256:{fp['extractor_sha256'][:12]}.., channel accuracy {100 * v['real_channel_accuracy']:.1f} %.\n\n"
               + "Printed: " + "; ".join(f"`{r['line']}`" for r in newest.values()) + "\n")
    drs = [r for r in newest.values() if "sampler" in r["fingerprint"]]
    if drs:
        ref += "\nRows '+drs' score the same run's G through discriminator rejection sampling (gankit/drs.py; the " + \
            "run's wall time, shown on both rows, includes its calibration and sampling): " + \
            "; ".join(f"{r['label']} keeps {100 * r['fingerprint']['sampler'].get('drs_acceptance', float('nan')):.1f} % "
                      f"of G's samples (calibration accuracy "
                      f"{100 * r['fingerprint']['sampler']['calibration']['final_accuracy']:.1f} %)" for r in drs) + ".\n"
    return ("## Stacked MNIST (1,000 modes)\n\n"
            "`OMP_NUM_THREADS=1 python benchmarks/stacked_mnist.py` (one seed per configuration; flags "
            "`--configs`, `--steps`, `--n-train`). Protocol of ../shared/BENCHMARKS.md section 2 on triples of "
            "mnist5k digits: 26,000 samples, each channel labelled by the bundled digit classifier, modes = "
            "distinct (d1,d2,d3), KL = KL(histogram || uniform over 1000). Wall time: training + evaluation.\n\n"
            "| model | modes | KL | wall time |\n|---|---|---|---|\n" + "\n".join(rows + published) + "\n\n" + ref)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--steps", type=int, default=None, help="override train.steps")
    ap.add_argument("--n-train", type=int, default=None, help="override data.n_train (train triples)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--drs", action="store_true", help="also score the samples discriminator rejection "
                    "sampling keeps (eval.drs=true; row '<config>+drs')")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    if not args.report_only:
        import torch

        torch.set_num_threads(1)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        for label in [c for c in args.configs.split(",") if c]:
            if label not in CONFIGS:
                raise SystemExit(f"--configs: unknown {label!r}; choose from {', '.join(CONFIGS)}")
            for r in run(label, args.steps, args.n_train, args.seed, args.drs):
                with RESULTS.open("a") as f:
                    f.write(json.dumps(r) + "\n")
                print(f"{r['label']}: {r['line']} ({r['wall_s']:.0f} s)", flush=True)
    body = report()
    print(body)
    write_section("stacked_mnist", body)


if __name__ == "__main__":
    main()
