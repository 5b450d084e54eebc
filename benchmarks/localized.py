"""The Localized GAN on mnist5k (issue 14): samples and edits, FID/KID, the local dimension with and without
the orthonormal-tangent penalty, and a classifier smooth along the tangents with 100 labels beside the
supervised baseline and scikit-learn's LabelSpreading.

    OMP_NUM_THREADS=1 python benchmarks/localized.py [--parts lgan,classify,spread] [--steps 3000]
        [--seeds 0,1,2,3,4] [--clf-steps 1000] [--smooth-weight 1.0]

Parts (each stores its result in benchmarks/results/localized.json, kept in git, and rewrites the section
"localized" of docs/benchmarks.md):

- lgan: trains ``mnist5k-lgan`` twice, with the penalty (``model.params.tangent_weight=1``) and without
  (``=0``), for ``--steps`` steps each; records wall time, the trainer's FID/KID of G_ema(x, z) samples beside
  real-vs-real, the local dimension of G_ema at the 500 test images (singular values of J/s at z = 0,
  effective rank, numerical rank at 0.1 x the largest, mean |cos| between tangents), and writes the sample
  and edit grids to docs/images/.
- classify: for each seed, the classifier of the semi-supervised GAN's DCGAN-shaped D trained on the 100
  labelled images (``data.labels=100``) with and without the tangent-smoothness term on all training images,
  the tangents those of the penalised run's G_ema; same seeds, labels, steps, optimiser, input noise.
- global: the global DCGAN of the main job (preset ``mnist5k``, ``--global-steps`` steps): the same 500 test
  images inverted by the MRE protocol (gankit.metrics.mre.invert), and the singular values of dG/dz at the
  recovered z (d = 100 latent axes): effective rank, numerical rank at 0.1 x the largest, as for the local
  charts; then the figure docs/images/lgan-spectra.png: the three mean spectra side by side, each divided by
  its largest value.
- spread: scikit-learn's LabelSpreading (kNN graph, k = 7) on 50 PCA components of the same images and
  labels (transductive: the test images are in the graph, unlabelled), for the same seeds (the seed only
  changes the PCA's randomised solver: the method is otherwise deterministic).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import load_results, save_results

import torch

from gankit.api import load_run, pick_generator
from gankit.data import build_dataset
from gankit.engine.trainer import train
from gankit.metrics.jacobian import effective_rank, jacobian_spectrum
from gankit.metrics.mre import MREConfig, invert
from gankit.models.lgan import edit_grid, local_dimension, tangents, train_tangent_classifier, training_tangents
from gankit.plugins import load_config
from gankit.sampling import generate
from gankit.viz import save_image_grid

QUIET = ["train.sample_every=0", "train.checkpoint_every=0", "train.tensorboard=false", "train.log_every=100"]
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / "results" / "localized.json"
IMAGES = ROOT / "docs" / "images"
N_LOCAL = 500  # test images of the local-dimension figure


def part_lgan(steps: int, weight: float, tmp: Path, name: str, extra: list[str]) -> tuple[dict, object]:
    cfg = load_config(preset="mnist5k-lgan", overrides=QUIET + [f"train.steps={steps}",
                                                                 f"model.params.tangent_weight={weight}", *extra])
    t0 = time.perf_counter()
    result = train(cfg, run_dir=tmp / name, progress=False)
    seconds = time.perf_counter() - t0
    model, G = result.model, result.G_ema
    test = build_dataset(cfg.data).split("test")
    spec = local_dimension(G, test.float_x(torch.arange(N_LOCAL)), model.local_dim, model.tangent_scale)
    IMAGES.mkdir(parents=True, exist_ok=True)
    save_image_grid(generate(G, model.source.grid(81, seed=0)), IMAGES / f"lgan-{name}-samples.png", nrow=9)
    edits = torch.cat([edit_grid(G, test.float_x(torch.tensor([i]))[0], model.local_dim, 9) for i in (0, 1)])
    save_image_grid(edits, IMAGES / f"lgan-{name}-edit.png", nrow=9)
    q = result.quality.to_dict()
    return ({"steps": steps, "tangent_weight": weight, "overrides": extra, "seconds": seconds,
             "tangent_scale": model.tangent_scale, "local_dim": model.local_dim,
             "quality": {**q["values"], "fingerprint": q["fingerprint"]},
             "local": {**spec.values(), **spec.describe(), "n": N_LOCAL, "generator": "G_ema"}}, result)


def part_global(steps: int, tmp: Path) -> dict:
    cfg = load_config(preset="mnist5k", overrides=QUIET + [f"train.steps={steps}"])
    t0 = time.perf_counter()
    result = train(cfg, run_dir=tmp / "global", progress=False)
    seconds = time.perf_counter() - t0
    G, prior = result.G_ema, result.model.source
    x = build_dataset(cfg.data).split("test").float_x(torch.arange(N_LOCAL))
    mre = MREConfig()
    t0 = time.perf_counter()
    z, errors = invert(G, prior, x, mre)
    spec = jacobian_spectrum(G, z, rank_tol=0.1)
    s = spec.singular_values
    q = result.quality.to_dict()
    return {"steps": steps, "seconds": seconds, "measure_seconds": time.perf_counter() - t0, "z_dim": prior.dim,
            "generator": "G_ema", "n": N_LOCAL, "mre": float(errors.double().mean()), "mre_protocol": mre.describe(),
            "quality": {**q["values"], "fingerprint": q["fingerprint"]},
            "effective_rank": spec.mean_effective_rank, "rank": spec.mean_rank, "rank_tol": 0.1,
            "singular_values": [float(v) for v in s.mean(0)],
            "top8_effective_rank": float(effective_rank(s[:, :8]).mean())}


def spectra_figure(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(f"Localized GAN, {name}", r["local"]["singular_values_over_s"]) for name, r in res["lgan"].items()]
    if "global" in res:
        panels.append((f"global DCGAN at MRE-inverted z (d = {res['global']['z_dim']})",
                       res["global"]["singular_values"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), sharey=True)
    for ax, (title, sv) in zip(axes, panels):
        rel = [v / sv[0] for v in sv]
        ax.plot(range(1, len(rel) + 1), rel, "o-" if len(rel) <= 16 else "-", ms=4)
        ax.axhline(0.1, color="grey", ls="--", lw=0.8)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("index of singular value")
    axes[0].set_ylabel("mean singular value / largest")
    fig.suptitle("Singular values of dG/dz on 500 mnist5k test images (dashed: the rank threshold 0.1)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def part_classify(G, model, seed: int, steps: int, weight: float, T_all: torch.Tensor, split: str = "test") -> dict:
    cfg = load_config(preset="mnist5k-lgan", overrides=["data.labels=100", f"seed={seed}"])
    dataset = build_dataset(cfg.data)
    out = {"seed": seed, "steps": steps, "smooth_weight": weight, "split": split}
    for name, w in (("supervised", 0.0), ("smooth", weight)):
        r = train_tangent_classifier(cfg, G, model.local_dim, model.tangent_scale, steps, w, dataset=dataset,
                                     train_tangents=T_all, split=split)
        out[f"{name}_error"], out[f"{name}_seconds"] = r.test_error, r.seconds
        out["fingerprint"] = r.fingerprint
    return out


def part_ssl(weight: float, seed: int, split: str, tmp: Path, steps: int | None) -> dict:
    """One ``mnist5k-lgan-ssl`` run (the paper's joint training) scored on ``split``."""
    over = QUIET + [f"seed={seed}", f"model.params.smooth_weight={weight}", f"eval.split={split}"]
    cfg = load_config(preset="mnist5k-lgan-ssl", overrides=over + ([f"train.steps={steps}"] if steps else []))
    t0, c0 = time.perf_counter(), time.process_time()
    result = train(cfg, run_dir=tmp / f"ssl-w{weight}-s{seed}-{split}", progress=False)
    figures = json.loads((result.run_dir / "model_figures.json").read_text())
    return {"seed": seed, "smooth_weight": weight, "split": split, "steps": cfg.train.steps,
            "error": figures["values"]["classifier_error"], "local": figures["values"]["local_dimension"],
            "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
            "fingerprint": figures["fingerprint"]}


def transformation_tangents(x: torch.Tensor) -> torch.Tensor:
    """Hand-made tangents of images ``x`` (N, 1, H, W) in [-1, 1], as in Tangent Prop (Simard et al. 1992):
    horizontal and vertical translation, rotation, scaling (from the image's central-difference gradient and
    the pixel coordinates about the centre) and stroke thickness (|grad x|^2); each column unit length.
    (N, H * W, 5). The reference the Localized GAN's learned tangents are compared with."""
    import torch.nn.functional as F

    padded = F.pad(x, (1, 1, 1, 1), value=-1.0)  # background outside the frame
    gx = (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) / 2
    gy = (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) / 2
    h, w = x.shape[-2:]
    u = (torch.arange(w, dtype=x.dtype) - (w - 1) / 2).view(1, 1, 1, w)
    v = (torch.arange(h, dtype=x.dtype) - (h - 1) / 2).view(1, 1, h, 1)
    T = torch.stack([gx, gy, v * gx - u * gy, u * gx + v * gy, gx ** 2 + gy ** 2], dim=-1).flatten(1, 3)
    return T / T.norm(dim=1, keepdim=True).clamp(min=1e-12)


def off_stroke_energy(x: torch.Tensor, T: torch.Tensor) -> float:
    """Mean fraction of each tangent's squared length on pixels farther than one pixel from any ink
    (x > -0.9): ~0 for a transformation of the digit, ~ the background's share of the frame for noise."""
    import torch.nn.functional as F

    near = F.max_pool2d((x > -0.9).to(x.dtype), 3, stride=1, padding=1).flatten(1)   # (N, D)
    e = T.pow(2)
    return float(((e * (1 - near)[:, :, None]).sum(1) / e.sum(1).clamp(min=1e-30)).mean())


def part_tangentprop(seed: int, steps: int, weight: float, T_all: torch.Tensor, split: str) -> dict:
    """The tangent-smooth classifier with the hand-made tangents instead of the Localized GAN's."""
    cfg = load_config(preset="mnist5k-lgan", overrides=["data.labels=100", f"seed={seed}"])
    dataset = build_dataset(cfg.data)
    r = train_tangent_classifier(cfg, None, T_all.shape[2], 1.0, steps, weight, dataset=dataset,
                                 train_tangents=T_all, split=split)
    return {"seed": seed, "steps": steps, "smooth_weight": weight, "split": split, "error": r.test_error,
            "seconds": r.seconds}


def part_spread(seed: int) -> dict:
    import numpy as np
    from sklearn.decomposition import PCA
    from sklearn.semi_supervised import LabelSpreading

    cfg = load_config(preset="mnist5k-lgan", overrides=["data.labels=100"])
    dataset = build_dataset(cfg.data)
    tr, te = dataset.train, dataset.split("test")
    X = torch.cat([tr.float_x(), te.float_x()]).flatten(1).numpy()
    y = np.concatenate([tr.y.numpy(), -np.ones(len(te), dtype=np.int64)])
    t0 = time.perf_counter()
    Z = PCA(50, random_state=seed, svd_solver="randomized").fit_transform(X)
    pred = LabelSpreading(kernel="knn", n_neighbors=7, max_iter=100).fit(Z, y).transduction_[len(tr):]
    err = float((pred != te.y.numpy()).mean())
    return {"seed": seed, "error": err, "seconds": time.perf_counter() - t0, "pca": 50, "k": 7}


def grid_key(key: str) -> tuple[float, int]:
    """(weight, seed) of a "weight/seed" key of the validation runs."""
    w, seed = key.split("/")
    return float(w), int(seed)


def best_weight(runs: dict, error: str) -> float:
    """The weight whose validation runs ("weight/seed" -> record) have the lowest mean ``error``; ties: the
    smaller weight."""
    by_weight: dict[float, list[float]] = {}
    for key, r in runs.items():
        by_weight.setdefault(grid_key(key)[0], []).append(r[error])
    if not by_weight:
        raise SystemExit("several weights are chosen on the validation split: run the choosing part first")
    return min(by_weight, key=lambda w: (statistics.mean(by_weight[w]), w))


def run_grid(store: dict, weights: str, seeds: str, measure, save, label: str) -> None:
    """``store["weight/seed"] = measure(weight, seed)`` for every pair not yet stored (so a killed sweep
    resumes), saved and printed one at a time."""
    for w in [float(v) for v in weights.split(",")]:
        for seed in [int(v) for v in seeds.split(",")]:
            key = f"{w}/{seed}"
            if key not in store:
                store[key] = measure(w, seed)
                save()
                print(f"{label} {key}: {store[key]}", flush=True)


def _ms(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f} % (1 seed)"
    return f"{statistics.mean(values):.2f} % +- {statistics.stdev(values):.2f} ({len(values)} seeds)"


def render(res: dict) -> str:
    out = ["## Localized GAN (issue 14): local generators, orthonormal tangents, tangent-smooth classifier", ""]
    runs = res.get("lgan", {})
    if runs:
        out += ["`mnist5k-lgan`: G(x, z) = x + sum_i z_i T_i(x, z) (G(x, 0) = x by construction), 8 local coordinates, "
                "s = the auto tangent scale (median nearest-neighbour distance of the first 1,000 training images "
                "/ sqrt(8)); D the DCGAN discriminator, non-saturating loss. FID/KID of G_ema(x, z), x a training "
                "image, z ~ N(0, I_8), beside real-vs-real (digit extractor, test split, N=500, seed 0). Local "
                "dimension: singular values of J/s at z = 0 (J = dG/dz, read off G's field network as T(x, 0)) on the 500 test "
                "images, effective rank (Roy & Vetterli), numerical rank (s_i > 0.1 s_max), mean |cos| between "
                "two tangents.", "",
                "| run | steps | wall time | FID (real-vs-real) | KID (real-vs-real) | effective rank / 8 | rank | "
                "mean \\|cos\\| | singular values of J/s (mean, descending) |", "|---|---|---|---|---|---|---|---|---|"]
        for name, r in runs.items():
            q, loc = r["quality"], r["local"]
            sv = " ".join(f"{v:.2f}" for v in loc["singular_values_over_s"])
            out.append(f"| {name} (tangent_weight={r['tangent_weight']}) | {r['steps']} | {r['seconds']:.0f} s | "
                       f"{q['fid']:.2f} ({q['fid_real_vs_real']:.2f}) | {q['kid']:.3f} ({q['kid_real_vs_real']:.3f}) | "
                       f"{loc['effective_rank']:.2f} | {loc['rank']:.2f} | {loc['abs_cos']:.3f} | {sv} |")
        g = res.get("global")
        if g:
            q = g["quality"]
            sv = " ".join(f"{v / g['singular_values'][0]:.2f}" for v in g["singular_values"][:8])
            out += ["", "The global DCGAN (preset `mnist5k`, the main job's G_ema after "
                    f"{g['steps']} steps, {g['seconds']:.0f} s; FID {q['fid']:.2f} beside real-vs-real "
                    f"{q['fid_real_vs_real']:.2f}) at the same {g['n']} test images, each inverted by the MRE protocol "
                    f"(mean MRE {g['mre']:.2f}): singular values of dG/dz (784 x {g['z_dim']}) at the recovered z. "
                    f"Effective rank {g['effective_rank']:.1f} of {g['z_dim']} (of its 8 largest: "
                    f"{g['top8_effective_rank']:.2f} / 8), numerical rank {g['rank']:.1f} (s_i > 0.1 s_max); the 8 "
                    f"largest over the largest: {sv}.", "",
                    "![singular-value spectra](images/lgan-spectra.png)"]
        out += ["", "Samples (rows: a training image moved along a random direction of z, middle column z = 0) and "
                "edits (`gankit edit`: two test images, one row per local coordinate, t in [-2.5, 2.5]):", ""]
        for name in runs:
            out.append(f"![{name} samples](images/lgan-{name}-samples.png) ![{name} edits](images/lgan-{name}-edit.png)")
        out.append("")
    cl = sorted(res.get("classify", {}).values(), key=lambda r: r["seed"])
    sp = sorted(res.get("spread", {}).values(), key=lambda r: r["seed"])
    if cl or sp:
        out += ["### Semi-supervised: 100 labels (10 per class), test error on the 500 test images", ""]
        if cl:
            r0 = cl[0]
            out += [f"Classifier: the semi-supervised GAN's DCGAN-shaped D (`net.name=dcgan`, width 32, input noise 0.3) "
                    f"trained {r0['steps']} steps (Adam 2e-4, batch 64) on the 100 labelled images; \"smooth\" adds "
                    f"{r0['smooth_weight']} x sum_i \\|\\|J_f(x) t_i\\|\\|^2 (f's log-probabilities, t_i = tau_i / s the "
                    "tangents of the penalised run's G_ema) on a batch of 32 of all 4,000 training images per step. "
                    "Same seeds, labels, steps and optimiser for both."]
        out += ["", "| method | test error | wall time per seed |", "|---|---|---|"]
        if cl:
            out.append(f"| supervised baseline (same classifier, CE only) | "
                       f"{_ms([100 * r['supervised_error'] for r in cl])} | "
                       f"{statistics.mean(r['supervised_seconds'] for r in cl):.0f} s |")
            out.append(f"| tangent-smooth classifier (Localized GAN tangents) | "
                       f"{_ms([100 * r['smooth_error'] for r in cl])} | "
                       f"{statistics.mean(r['smooth_seconds'] for r in cl):.0f} s (+ the GAN) |")
        if sp:
            out.append(f"| LabelSpreading, kNN k=7 on 50 PCA components (scikit-learn, transductive) | "
                       f"{_ms([100 * r['error'] for r in sp])} | {statistics.mean(r['seconds'] for r in sp):.1f} s |")
        ssl_test = sorted(res.get("ssl", {}).get("test", {}).values(), key=lambda r: r["seed"])
        if ssl_test:
            out.append(f"| **Localized GAN semi-supervised classifier** (`mnist5k-lgan-ssl`, joint training, "
                       f"{ssl_test[0]['steps']} steps, smooth_weight {res['ssl']['chosen_weight']:g} chosen on val) | "
                       f"{_ms([100 * r['error'] for r in ssl_test])} | "
                       f"{statistics.mean(r['cpu_seconds'] for r in ssl_test):.0f} CPU s |")
        out.append("| semi-supervised GAN `mnist5k-ssgan-mlp`, 2000 steps (section \"representation\") | "
                   "17.04 % +- 1.49 (5 seeds) | ~217 s |")
        out.append("")
        if cl:
            out.append("| seed | supervised | smooth |")
            out.append("|---|---|---|")
            out += [f"| {r['seed']} | {100 * r['supervised_error']:.2f} % | {100 * r['smooth_error']:.2f} % |" for r in cl]
            out.append("")
    out += _render_choices(res)
    if res.get("notes"):
        out += [res["notes"], ""]
    if res.get("command"):
        out += [f"`{res['command']}`", ""]
    return "\n".join(out)  # write_section adds the machine and commit stamp


def _render_choices(res: dict) -> list[str]:
    """The validation runs that chose the smoothness weights, and the joint model's test seeds."""
    out: list[str] = []
    choose = res.get("choose", {})
    if choose:
        out += ["Tangent-smooth classifier: smoothness weight chosen on the validation split (500 images; "
                f"weight {res.get('chosen_weight', '?')} chosen):", "",
                "| weight | seed | val error, supervised | val error, smooth |", "|---|---|---|---|"]
        for key in sorted(choose, key=grid_key):
            r = choose[key]
            out.append(f"| {r['smooth_weight']:g} | {r['seed']} | {100 * r['supervised_error']:.2f} % | "
                       f"{100 * r['smooth_error']:.2f} % |")
        out.append("")
    tp = res.get("tangentprop", {})
    if tp:
        sup = {r["seed"]: r["supervised_error"] for r in choose.values()}
        out += ["The same classifier smooth along hand-made tangents instead (Tangent Prop, Simard et al. 1992: "
                "horizontal and vertical translation, rotation, scaling and stroke thickness of each image, unit "
                "length each; `transformation_tangents`), validation split:", "",
                "| weight | seed | val error, supervised | val error, hand-made tangents |", "|---|---|---|---|"]
        for key in sorted(tp, key=grid_key):
            r = tp[key]
            base = f"{100 * sup[r['seed']]:.2f} %" if r["seed"] in sup else "-"
            out.append(f"| {r['smooth_weight']:g} | {r['seed']} | {base} | {100 * r['error']:.2f} % |")
        out.append("")
    off = res.get("off_stroke")
    if off:
        out += [f"Where the tangents put their length ({off['n']} {off['split']} images; share of each unit "
                f"tangent's squared length on pixels more than one pixel away from ink, {off['ink']}): "
                f"Localized GAN (penalised run's G_ema) {100 * off['lgan']:.1f} %, hand-made tangents "
                f"{100 * off['hand']:.4f} %, random directions {100 * off['noise']:.1f} % (the background's share).", ""]
    ssl = res.get("ssl", {})
    if ssl.get("choose"):
        out += ["Joint model (`mnist5k-lgan-ssl`): smoothness weight chosen on the validation split "
                "(0 = the semi-supervised GAN's D against local fakes, no smoothness term):", "",
                "| smooth_weight | seed | steps | val error | effective rank of G's tangents / k | CPU time |",
                "|---|---|---|---|---|---|"]
        for key in sorted(ssl["choose"], key=grid_key):
            r = ssl["choose"][key]
            out.append(f"| {r['smooth_weight']:g} | {r['seed']} | {r['steps']} | {100 * r['error']:.2f} % | "
                       f"{r['local']['effective_rank']:.2f} | {r['cpu_seconds']:.0f} s |")
        out.append("")
    if ssl.get("test"):
        out += ["| seed | lgan-ssl test error | effective rank / k | mean \\|cos\\| | CPU time |", "|---|---|---|---|---|"]
        for r in sorted(ssl["test"].values(), key=lambda r: r["seed"]):
            out.append(f"| {r['seed']} | {100 * r['error']:.2f} % | {r['local']['effective_rank']:.2f} | "
                       f"{r['local']['abs_cos']:.3f} | {r['cpu_seconds']:.0f} s |")
        out.append("")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="lgan,classify,spread")
    ap.add_argument("--steps", type=int, default=3000, help="generator steps of each mnist5k-lgan run")
    ap.add_argument("--set", dest="extra", action="append", default=[], metavar="K=V",
                    help="override of both mnist5k-lgan runs (repeatable)")
    ap.add_argument("--global-steps", type=int, default=3000, help="steps of the global DCGAN (preset mnist5k)")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--clf-steps", type=int, default=1000)
    ap.add_argument("--smooth-weights", default="1.0",
                    help="weight of the smoothness term; several (comma-separated): chosen on the validation split")
    ap.add_argument("--choose-seeds", default="0,1", help="seeds of the validation runs that choose the weight")
    ap.add_argument("--ssl-weights", default="0,1,10",
                    help="smoothness weights of the joint model (lgan-ssl); several: chosen on the validation split")
    ap.add_argument("--ssl-steps", type=int, help="steps of each lgan-ssl run (default: the preset's)")
    ap.add_argument("--cache", default=str(CACHE), help="results file (parts run side by side: one each, then merge)")
    ap.add_argument("--runs", help="folder of the two mnist5k-lgan runs (kept; default: a temporary folder)")
    ap.add_argument("--notes", help="a paragraph added under the tables (e.g. the scale the run was cut to)")
    args = ap.parse_args()
    res = load_results(args.cache)
    res["command"] = "OMP_NUM_THREADS=1 python benchmarks/localized.py " + " ".join(sys.argv[1:])
    if args.notes:
        res["notes"] = args.notes

    def save() -> None:
        save_results(args.cache, res, "localized", render)

    parts, seeds = args.parts.split(","), [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(args.runs) if args.runs else Path(tmp_name)
        if "lgan" in parts:
            res.setdefault("lgan", {})
            res["lgan"]["penalty"], _ = part_lgan(args.steps, 1.0, tmp, "penalty", args.extra)
            save()
            res["lgan"]["no-penalty"], _ = part_lgan(args.steps, 0.0, tmp, "no-penalty", args.extra)
            save()
        if "global" in parts:
            res["global"] = part_global(args.global_steps, tmp)
            save()
        if res.get("lgan"):
            spectra_figure(res, IMAGES / "lgan-spectra.png")
        if "classify" in parts:
            if not (tmp / "penalty").is_dir():
                raise SystemExit(f"--parts classify reads the penalised run {tmp / 'penalty'}: run --parts lgan "
                                 "first (with the same --runs DIR), or in the same call")
            cfg, model, ckpt = load_run(tmp / "penalty")
            G = pick_generator(model, ckpt, ema=True)
            t0 = time.perf_counter()
            T_all = training_tangents(G, build_dataset(cfg.data).train, model.local_dim, model.tangent_scale)
            res["tangents_seconds"] = time.perf_counter() - t0
            weight = float(args.smooth_weights.split(",")[0])
            if "," in args.smooth_weights:  # chosen on the validation split, never on test
                choose = res.setdefault("choose", {})
                run_grid(choose, args.smooth_weights, args.choose_seeds, lambda w, seed: part_classify(
                    G, model, seed, args.clf_steps, w, T_all, split="val"), save, "choose")
                weight = best_weight(choose, "smooth_error")
                res["chosen_weight"] = weight
            res["classify"] = {}
            for seed in seeds:
                res["classify"][str(seed)] = part_classify(G, model, seed, args.clf_steps, weight, T_all)
                save()
                print(f"classify seed {seed}: {res['classify'][str(seed)]}", flush=True)
        if "ssl-choose" in parts:  # the smoothness weight of the joint model, chosen on the validation split
            run_grid(res.setdefault("ssl", {}).setdefault("choose", {}), args.ssl_weights, args.choose_seeds,
                     lambda w, seed: part_ssl(w, seed, "val", tmp, args.ssl_steps), save, "ssl choose")
        if "ssl" in parts:  # on test, at the weight chosen on validation (or the one given)
            ssl = res.setdefault("ssl", {})
            weight = best_weight(ssl.get("choose", {}), "error") if "," in args.ssl_weights else float(args.ssl_weights)
            ssl["chosen_weight"] = weight
            for seed in seeds:
                ssl.setdefault("test", {})[str(seed)] = part_ssl(weight, seed, "test", tmp, args.ssl_steps)
                save()
                print(f"ssl test seed {seed}: {ssl['test'][str(seed)]['error']:.4f}", flush=True)
        if "tangentprop" in parts:  # the same classifier smooth along hand-made tangents (validation split)
            train_x = build_dataset(load_config(preset="mnist5k-lgan").data).train.float_x()
            T_hand = transformation_tangents(train_x)
            run_grid(res.setdefault("tangentprop", {}), args.smooth_weights, args.choose_seeds,
                     lambda w, seed: part_tangentprop(seed, args.clf_steps, w, T_hand, "val"), save, "tangentprop")
        if "tangent-check" in parts:  # where the learned tangents put their length: on the strokes or not
            cfg, model, ckpt = load_run(tmp / "penalty")
            G = pick_generator(model, ckpt, ema=True)
            x = build_dataset(cfg.data).split("test").float_x(torch.arange(N_LOCAL))
            with torch.no_grad():
                T_lgan = tangents(G, x, model.local_dim, model.tangent_scale)
            T_lgan = T_lgan / T_lgan.norm(dim=1, keepdim=True)
            T_noise = torch.randn(T_lgan.shape, generator=torch.Generator().manual_seed(0))
            T_noise = T_noise / T_noise.norm(dim=1, keepdim=True)
            res["off_stroke"] = {"lgan": off_stroke_energy(x, T_lgan), "hand": off_stroke_energy(x, transformation_tangents(x)),
                                 "noise": off_stroke_energy(x, T_noise), "n": N_LOCAL, "split": "test",
                                 "ink": "x > -0.9, dilated by one pixel (3x3 max-pool)"}
            save()
            print(f"off-stroke energy: {res['off_stroke']}", flush=True)
        if "spread" in parts:
            for seed in seeds:
                res.setdefault("spread", {})[str(seed)] = part_spread(seed)
                save()
    print(render(res))


if __name__ == "__main__":
    main()
