"""Representation families on mnist5k: BiGAN, the semi-supervised GAN, the VAE baseline and the GAN in
feature space, each beside its reference (raw pixels, a supervised classifier, the pixel-space DCGAN).

    OMP_NUM_THREADS=1 python benchmarks/representation.py [--parts dcgan,latent,vae,bigan,ssgan]
        [--seeds 0,1,2,3,4] [--dcgan-steps 600] ...

Each part trains its preset (gankit/presets/mnist5k-*.yaml) with ``train.steps`` set by the options
below (the presets' own step counts are for an unloaded machine), times it end to end in this process
(build, training, the trainer's FID/KID evaluation), measures, and stores the result in a JSON cache
(``--cache``, default benchmarks/results/representation.json, kept in git), so parts can be run one
at a time; the section "representation" of docs/benchmarks.md is rewritten from the cache after
every part.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import load_results, save_results

from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.engine.trainer import train
from gankit.models.bigan import measure_representation
from gankit.models.classifier import classification_error, train_supervised
from gankit.models.vae import mean_gradient_magnitude
from gankit.sampling import generate

QUIET = ["train.sample_every=0", "train.checkpoint_every=0", "train.tensorboard=false", "train.log_every=100"]
N_SHARP = 500  # images per sharpness figure (the size of the test split)


def _train(preset: str, overrides: list[str], tmp: Path, name: str):
    cfg = load_config(preset=preset, overrides=QUIET + overrides)
    t0 = time.perf_counter()
    result = train(cfg, run_dir=tmp / name, progress=False)
    return cfg, result, time.perf_counter() - t0


def _quality(result) -> dict:
    q = result.quality.to_dict()
    return {**q["values"], "fingerprint": q["fingerprint"]}


def _sharpness(result) -> float:
    G = result.G_ema if result.G_ema is not None else result.model.G
    return mean_gradient_magnitude(generate(G, result.model.prior.sample(N_SHARP, seed=0)))


def part_image_model(preset: str, steps: int, extra: list[str], tmp: Path, name: str) -> dict:
    _, result, seconds = _train(preset, [f"train.steps={steps}", *extra], tmp, name)
    return {"preset": preset, "steps": steps, "overrides": extra, "seconds": seconds,
            "quality": _quality(result), "sharpness": _sharpness(result)}


def part_bigan(steps: int, tmp: Path) -> dict:
    cfg, result, seconds = _train("mnist5k-bigan", [f"train.steps={steps}"], tmp, "bigan")
    # E was trained against G (not G_ema), so the reconstruction uses the pair that played the game.
    rep = measure_representation(result.model.G, result.model.E, build_dataset(cfg.data), seed=0)
    return {"preset": "mnist5k-bigan", "steps": steps, "seconds": seconds, "quality": _quality(result),
            "sharpness": _sharpness(result),
            "recon_mse": rep.recon_mse, "recon_mse_mean_image": rep.recon_mse_mean_image,
            "acc_features": rep.linear_acc_features, "acc_pixels": rep.linear_acc_pixels,
            "lines": rep.lines(), "fingerprint": rep.fingerprint}


def part_ssgan(preset: str, steps: int, seed: int, extra: list[str], tmp: Path) -> dict:
    cfg, result, seconds = _train(preset, [f"train.steps={steps}", f"seed={seed}", "eval.at_end=false", *extra],
                                  tmp, f"ssgan-{seed}")
    dataset = build_dataset(cfg.data)
    gan_err = classification_error(result.model.D, dataset.split("test"))
    p = cfg.model.params
    t0 = time.perf_counter()
    sup = train_supervised(cfg, steps=steps, batch_size=p.get("labelled_batch", 64),
                           noise_std=p.get("noise_std", 0.3), dropout=p.get("dropout", 0.0), dataset=dataset)
    return {"preset": preset, "seed": seed, "steps": steps, "overrides": extra, "seconds": seconds,
            "ssgan_error": gan_err, "supervised_error": sup.test_error, "supervised_seconds": time.perf_counter() - t0,
            "labelled": int((dataset.train.y >= 0).sum()), "unlabelled": int((dataset.train.y < 0).sum()),
            "n_test": len(dataset.split("test"))}


def _fid_row(name: str, r: dict) -> str:
    q = r["quality"]
    return (f"| {name} | `{r['preset']}` | {r['steps']} | {r['seconds']:.0f} s | {q['fid']:.2f} | {q['kid']:.4f} | "
            f"{r.get('sharpness', float('nan')):.4f} |")


def render(res: dict) -> str:
    out = ["## Representation families (issue 4): BiGAN, semi-supervised GAN, VAE baseline, GAN in feature space",
           "",
           "`OMP_NUM_THREADS=1 python benchmarks/representation.py` (one thread; the machine was shared with other",
           "jobs, so wall times are long and step counts are cut to about 5 min per run: these are short runs,",
           "not converged models). FID/KID: the trainer's end-of-run figure (G_ema, mnist5k test split, N=500,",
           "bundled digit extractor, seed 0); sharpness: mean finite-difference gradient magnitude",
           "sqrt(dx^2 + dy^2) of 500 images in [-1, 1] (`gankit.models.vae.mean_gradient_magnitude`).", ""]
    image_rows = [(n, res[k]) for n, k in [("DCGAN (pixel space)", "dcgan"), ("GAN in feature space", "latent"),
                                            ("VAE (DCGAN decoder)", "vae"), ("BiGAN", "bigan")] if k in res]
    if image_rows:
        q = image_rows[0][1]["quality"]
        fp = q["fingerprint"]
        out += ["### Sample quality, sharpness and wall time", "",
                "| model | preset | steps | wall time | FID | KID | sharpness |", "|---|---|---|---|---|---|---|"]
        out += [_fid_row(n, r) for n, r in image_rows]
        if "real_sharpness" in res:
            out.append(f"| real test images | | | | {q['fid_real_vs_real']:.2f} (real-vs-real) | "
                       f"{q['kid_real_vs_real']:.4f} (real-vs-real) | {res['real_sharpness']:.4f} |")
        out += ["", ("Sharpness counts every local change: high-frequency noise raises it as much as crisp strokes "
                     "do, so a value far above the real images' means noisy samples, not sharp ones (look at the "
                     "run's sample grid); blur shows as a value below the real images'."),
                "", (f"Extractor {fp['extractor']} sha256:{fp['extractor_sha256'][:12]}..; "
                f"{fp['real_vs_real']}; KID kernel {fp['kid_kernel']}."), ""]
        for n, r in image_rows:
            if r.get("overrides"):
                out.append(f"- {n}: overrides {', '.join(f'`{o}`' for o in r['overrides'])}")
        out.append("")
    if "bigan" in res:
        b = res["bigan"]
        out += ["### BiGAN: reconstruction and linear probe", "",
                f"`mnist5k-bigan`, {b['steps']} steps. " + " ".join(f"`{line}`" for line in b["lines"]), "",
                "| reconstruction MSE G(E(x)) | mean-image guess | linear probe on E(x) | linear probe on pixels |",
                "|---|---|---|---|",
                (f"| {b['recon_mse']:.4f} | {b['recon_mse_mean_image']:.4f} | {100 * b['acc_features']:.2f} % | "
                f"{100 * b['acc_pixels']:.2f} % |"), "",
                ("A reconstruction error above the mean-image guess means that at this step count G(E(x)) does not "
                 "yet invert the data."), ""]
    ss = sorted(res.get("ssgan", {}).values(), key=lambda r: r["seed"])
    if ss:
        import statistics as st

        errs = [100 * r["ssgan_error"] for r in ss]
        sups = [100 * r["supervised_error"] for r in ss]
        spread = (lambda v: f" +- {st.stdev(v):.2f}" if len(v) > 1 else " (one seed)")
        r0 = ss[0]
        out += ["### Semi-supervised GAN: test error with 100 labels", "",
                (f"`{r0.get('preset', 'mnist5k-ssgan')}`: {r0['labelled']} labelled (10 per class, `data.labels=100`) "
                f"and {r0['unlabelled']} unlabelled training images; error on the {r0['n_test']} test images. "
                "Supervised baseline: the same classifier (D's architecture and regularisers: input noise, the "
                "net's own per-layer noise, weight norm and data-dependent init where the net has them) trained "
                "with cross-entropy on the same 100 labelled images for the same number of steps, batch and "
                "optimiser (`gankit.models.classifier.train_supervised`). "
                "Target (../shared/BENCHMARKS.md section 3): <= 3 %; the paper's 0.93 % used 60,000 unlabelled images."),
                "", "| seed | steps | wall time | semi-supervised GAN error | supervised baseline error |",
                "|---|---|---|---|---|"]
        out += [f"| {r['seed']} | {r['steps']} | {r['seconds']:.0f} s | {100 * r['ssgan_error']:.2f} % | "
                f"{100 * r['supervised_error']:.2f} % |" for r in ss]
        sets = sorted({o for r in ss for o in r.get("overrides", [])})
        if sets:
            out.insert(len(out) - len(ss) - 2, "Overrides: " + ", ".join(f"`{o}`" for o in sets) + ".\n")
        out += [f"| mean of {len(ss)} | | | {st.mean(errs):.2f} %{spread(errs)} | {st.mean(sups):.2f} %{spread(sups)} |", ""]
        if len(ss) < 5:
            out += [f"Only {len(ss)} of the 5 seeds the issue asks for were run (time).", ""]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="dcgan,latent,vae,bigan,ssgan")
    ap.add_argument("--seeds", default="0,1,2,3,4", help="seeds of the semi-supervised runs")
    ap.add_argument("--dcgan-steps", type=int, default=600)
    ap.add_argument("--latent-steps", type=int, default=3000)
    ap.add_argument("--latent-ae-steps", type=int, default=600)
    ap.add_argument("--vae-steps", type=int, default=1000)
    ap.add_argument("--bigan-steps", type=int, default=600)
    ap.add_argument("--ssgan-preset", default="mnist5k-ssgan-mlp",
                    help="preset of the semi-supervised runs (mnist5k-ssgan: the DCGAN-shaped D)")
    ap.add_argument("--ssgan-steps", type=int, default=2000)
    ap.add_argument("--ssgan-set", action="append", default=[], metavar="K=V",
                    help="config override of the semi-supervised runs (repeatable); the baseline follows it")
    ap.add_argument("--cache", default=str(Path(__file__).resolve().parent / "results" / "representation.json"))
    args = ap.parse_args()
    cache = Path(args.cache)
    res = load_results(cache)

    def save() -> None:
        save_results(cache, res, "representation", render)

    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if "real_sharpness" not in res:
            res["real_sharpness"] = mean_gradient_magnitude(build_dataset(load_config().data).split("test").float_x(slice(0, N_SHARP)))
        if "dcgan" in parts:
            res["dcgan"] = part_image_model("mnist5k", args.dcgan_steps, [], tmp, "dcgan")
            save()
        if "latent" in parts:
            res["latent"] = part_image_model("mnist5k-latent-gan", args.latent_steps,
                                             [f"model.params.ae_steps={args.latent_ae_steps}"], tmp, "latent")
            save()
        if "vae" in parts:
            res["vae"] = part_image_model("mnist5k-vae", args.vae_steps, [], tmp, "vae")
            save()
        if "bigan" in parts:
            res["bigan"] = part_bigan(args.bigan_steps, tmp)
            save()
        if "ssgan" in parts:
            for seed in [int(s) for s in args.seeds.split(",")]:
                res.setdefault("ssgan", {})[str(seed)] = part_ssgan(args.ssgan_preset, args.ssgan_steps, seed,
                                                                     args.ssgan_set, tmp)
                save()
                print(f"ssgan seed {seed}: {res['ssgan'][str(seed)]}", flush=True)
    print(render(res))


if __name__ == "__main__":
    main()
