"""Do the conditional families condition? CGAN (concat, projection), ACGAN and InfoGAN on mnist5k.

For each family: train its preset (``gankit train --preset mnist5k-FAMILY --set train.steps=STEPS``)
in this process, timed, then measure on G_ema with the bundled digit classifier (digit-mnist5k,
its SHA-256 printed):

- class-conditional families: the classifier's accuracy on ``--per-class`` generated images of each
  requested class (target >= 95 %), and FID/KID against the test split beside real-vs-real;
- InfoGAN (no labels): the classifier's labels of ``10 x per-class`` generated images vs their
  categorical code, after the best one-to-one code -> digit matching (Hungarian; target >= 90 %),
  and FID/KID.

Results are kept in benchmarks/results/conditional.json (in git, like the other benchmarks' results),
so families can be run one process at a time; each run rewrites the section "conditional" of
docs/benchmarks.md from all results so far. Run folders (grids) go to runs/bench-conditional/.

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
from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.metrics.extractor import load_extractor
from gankit.metrics.quality import evaluate_generator
from gankit.models.infogan import code_class_matching
from gankit.sampling import generate
from gankit.viz import save_image_grid

ROOT = Path(__file__).resolve().parent.parent / "runs" / "bench-conditional"
STORE = Path(__file__).resolve().parent / "results" / "conditional.json"
FAMILIES = {"cgan": "mnist5k-cgan", "cgan-projection": "mnist5k-cgan-projection",
            "acgan": "mnist5k-acgan", "infogan": "mnist5k-infogan"}
EVAL_SEED = 2024  # seeds the generated images measured here (not the training seed)


def _label(family: str, steps: int, extra: list[str]) -> str:
    """The row's key: family@steps, plus the extra overrides (e.g. "cgan@1500 train.lr_g=1e-3")."""
    return " ".join([f"{family}@{steps}", *extra])


def measure(family: str, steps: int, per_class: int, extra: list[str] = ()) -> dict:
    preset = FAMILIES[family]
    overrides = [f"train.steps={steps}", "train.checkpoint_every=0", "train.sample_every=0",
                 "train.log_every=100", "train.tensorboard=false", "eval.at_end=false", *extra]
    cfg = load_config(preset=preset, overrides=overrides)
    suffix = "".join("_" + "".join(c if c.isalnum() else "-" for c in o) for o in extra)
    run_dir = ROOT / f"{family}-{steps}{suffix}"
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
                 "n_per_class": per_class, "eval_seed": EVAL_SEED, "overrides": list(extra),
                 "command": _command(family, steps, per_class, extra)}
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
        out |= diagnose(result.model, G, x, asked, pred, extractor, dataset, k, per_class)
    test = dataset.split("test")
    out["classifier_test_accuracy"] = float((extractor.classify(test.float_x()) == test.y).float().mean())
    q = evaluate_generator(G, prior, dataset, split="test", seed=0)
    out |= {"quality": q.to_dict(), "quality_line": q.lines()[0], "extractor_sha256": extractor.sha256,
            "train_split": len(dataset.train)}
    return out


@torch.no_grad()
def d_class_accuracy(model, x: torch.Tensor, k: int) -> torch.Tensor:
    """D's own guess of the class of each image (N,): argmax_y D(x, y) for a CGAN's D, the class head's
    argmax for an ACGAN's. How well D knows the class bounds how well G is told to draw it."""
    D = model.D
    out = []
    for chunk in x.split(500):
        if model.__class__.__name__ == "ACGAN":
            out.append(D(chunk, with_classes=True)[1].argmax(1))
        else:
            scores = torch.stack([D(chunk, torch.full((len(chunk),), c, dtype=torch.long)) for c in range(k)], 1)
            out.append(scores.argmax(1))
    return torch.cat(out)


def diagnose(model, G_ema, x, asked, pred, extractor, dataset, k: int, per_class: int) -> dict:
    """Why a class-conditional row misses: D's class knowledge on real VALIDATION digits and on G_ema's
    samples, and the digit classifier's accuracy on the raw G (no EMA) from the same z and y."""
    val = dataset.split("val")
    was = model.D.training
    model.D.eval()
    try:
        d_val = float((d_class_accuracy(model, val.float_x(), k) == val.y).float().mean())
        d_fake = float((d_class_accuracy(model, x, k) == asked).float().mean())
    finally:
        model.D.train(was)
    rows = model.prior.sample(k * per_class, seed=EVAL_SEED, y=asked)
    raw = float((extractor.classify(generate(model.G, rows)) == asked).float().mean())
    return {"d_val_class_accuracy": d_val, "d_class_accuracy_on_samples": d_fake, "class_accuracy_raw_G": raw,
            "val_split": len(val)}


def _command(family: str, steps: int, per_class: int, extra: list[str] = ()) -> str:
    sets = "".join(f" --set {o}" for o in extra)
    return (f"OMP_NUM_THREADS=1 python benchmarks/conditional.py --families {family} --steps {steps} "
            f"--per-class {per_class}{sets}")


PRESETS_NOTE = """What the presets do beyond each paper's recipe, and why (measured before these changes, gankit
commit a2f3a88, same benchmark: concat CGAN 9.9 % after 700 steps, projection CGAN 65.6 % after 1,500,
ACGAN 80.5 % after 700 and 57.0 % after 1,500, InfoGAN 32.1 % after 700):

- both CGAN presets: `model.params.mismatch: true`, a matching-aware D (GAN-CLS, Reed et al. 2016):
  real images paired with a wrong class count as fakes, so D must check that x shows y. Without it D
  told real from fake by the fakes' flaws alone and the concat CGAN's G ignored y (chance accuracy);
- ACGAN: `model.params.fake_class_weight: 0`: D's class head learns from real labels only; with the
  paper's fake-sample class term G and the head minimise the same cross-entropy and agree on cues
  that real digits lack (the head called 99.7 % of the fakes right while the digit classifier agreed
  on 57 %);
- InfoGAN: the paper's learning rates (D 2e-4; G and Q 1e-3) instead of 2e-4 for both.

Issue 18, where y enters the nets (rows marked "(c9a2434 preset)" trained the presets before it; the
other cgan/acgan rows name every setting that differs from the presets as they are now):

- concat CGAN: `g_every_layer: true` (the one-hot planes at the input of every layer of G) and
  `d_hidden: 1024` (a hidden layer on [D's features, one_hot(y)] before D's head), as the conditional
  DCGAN MNIST code concatenates y at every layer. A one-hot concatenated to a layer's input is a
  per-class bias of that layer; as D's input planes only, D's own class guess on the validation
  digits was 75 % and G followed it (table below). The hidden layer alone made D know the class
  (92 %) but not G (78.7 %); both together: 86.4 % after 1,500 steps, 97.3 % after 3,000;
- ACGAN: `class_hidden: 256` (one hidden layer in D's class head) and `g_every_layer: true`. The
  class head calls >= 99.7 % of G's samples as requested in every variant while the digit classifier
  agrees far less: G satisfies the head with cues real digits lack. A stronger head alone
  (`class_weight=3`) did not help; the hidden layer and y at every layer of G made cleaner digits
  (lower FID), and the classifier's accuracy followed: 83.8 % after 1,500 steps, 93.5 % after 3,000
  (90.1 % before), still short of 95 %. What is left is G fooling the head (99.9 % of its samples
  called as requested): the head learns from real digits only (the preset; learning also from G's
  samples with G's labels, the paper's choice, was worse), so off the real digits it accepts cues G
  can draw without drawing the digit. Dropout 0.3 on the class head's inputs and hidden units
  (`class_dropout`, after the Keras ACGAN example's dropout in D; now in the preset) raised the
  head's accuracy on the validation digits from 95.2 / 95.0 % to 95.8 / 96.0 % and G's from 93.5 /
  91.8 % to 94.2 / 93.4 % (seeds 0 / 1, 3,000 steps; mean 93.8 %): in every 3,000-step run G's
  accuracy sits 1-3 points under the head's own on held-out real digits. The head is G's only
  teacher of the class, so G is bounded by how well the head generalises from 4,000 digits while it
  shares D's body with the real/fake game (the digit classifier, trained for the class alone, reaches
  98.8 %). Longer runs (preset `mnist5k-acgan-long`, the same at 10,000 steps; the rows with
  `train.checkpoint_every=1000`, learning curve of G_ema from their checkpoints with
  benchmarks/checkpoint_curve.py): at 1,000 / 2,000 / ... / 10,000 steps
  seed 0 70.5 / 90.9 / 94.2 / 93.8 / 94.9 / 96.2 / 96.8 / 97.4 / 98.0 / 97.9 %,
  seed 1 72.4 / 92.5 / 93.4 / 94.8 / 93.8 / 95.1 / 96.7 / 97.6 / 98.3 / 98.8 %,
  seed 2 75.2 / 92.5 / 91.9 / 91.5 / 93.2 / 93.6 / 95.9 / 97.1 / 97.4 / 98.6 %
  (the 3,000- and 6,000-step points equal the earlier 3,000- and 6,000-step runs of the same seeds bit
  for bit, so those rows were dropped); **mean at 10,000 steps 98.4 % (+-0.5 over the 3 seeds): the 95 %
  target is met by every seed from step 7,000 on** (93.2 % at 3,000, 94.9 % at 6,000), and FID falls
  with it (4.63 / 5.01 / 4.68 beside real-vs-real 1.69, from 5.7-7.2 at 6,000). The bound read above (G
  1-3 points under the head's own accuracy on held-out digits) held only early: at 10,000 steps G's
  samples are classified better (97.9-98.8 %) than the head classifies the validation digits (96.0-96.6 %,
  diagnostics below), i.e. G draws clearer digits than the average real one and the head's accuracy on
  real digits was a rate, not a ceiling. Not run: dropout in D's body.
"""


def report(results: dict[str, dict]) -> str:
    rows = []
    ordered = sorted(results.values(), key=lambda r: (list(FAMILIES).index(r["family"]), r["steps"],
                                                      r.get("overrides", [])))
    for r in ordered:
        fam = " ".join([r["family"], *(f"`{o}`" for o in r.get("overrides", []))]) + (f" ({r['note']})" if r.get("note") else "")
        v = r["quality"]["values"]
        if r["family"] == "infogan":
            figure, target = f"{100 * r['matching_accuracy']:.1f} % code-class matching", "90 %"
            ok = r["matching_accuracy"] >= 0.90
        else:
            figure, target = f"{100 * r['class_accuracy']:.1f} % class accuracy", "95 %"
            ok = r["class_accuracy"] >= 0.95
        per = " ".join(f"{100 * a:.0f}" for a in r["per_class_accuracy"])
        rows.append(f"| {fam} | {r['steps']} | {r['train_seconds'] / 60:.1f} min | {figure} ({'meets' if ok else 'misses'} "
                    f"{target}) | {per} | {v['fid']:.2f} ({v['fid_real_vs_real']:.2f}) | "
                    f"{v['kid']:.4f} ({v['kid_real_vs_real']:.4f}) |")
    diag = [f"| {' '.join([r['family'], *(f'`{o}`' for o in r.get('overrides', []))])} | {r['steps']} | "
            f"{100 * r['class_accuracy']:.1f} % | {100 * r['class_accuracy_raw_G']:.1f} % | "
            f"{100 * r['d_val_class_accuracy']:.1f} % | {100 * r['d_class_accuracy_on_samples']:.1f} % |"
            for r in ordered if "d_val_class_accuracy" in r]
    diagnostics = "" if not diag else f"""
Diagnostics of the rows that have them (why a row misses): the digit classifier's accuracy on G_ema's
samples (the figure above) and on the raw G's from the same z and y; D's own class guess (argmax over y
of D(x, y) for a CGAN, the class head for an ACGAN) on the {next(r for r in ordered if 'val_split' in r)['val_split']}
real VALIDATION digits, and on G_ema's samples. D knowing the class badly on real digits means G is
told little about it; D agreeing with the requested class far more often than the digit classifier
means G fools D's notion of class.

| row | steps | classifier on G_ema | classifier on raw G | D's class guess on val digits | D's class guess on G_ema's samples |
|---|---|---|---|---|---|
{chr(10).join(diag)}
"""
    any_r = next((r for r in results.values() if "imported" not in r), next(iter(results.values())))
    fp = any_r["quality"]["fingerprint"]
    commands = "\n".join(f"    {r['command']}" + (f"  # {r['note']}" if r.get("note") else "") for r in ordered)
    mapping = "".join(f"\nInfoGAN's matching after {r['steps']} steps{''.join(' ' + o for o in r.get('overrides', []))} "
                      f"(code -> digit): {r['mapping']}.\n" for r in ordered if r["family"] == "infogan")
    return f"""## Conditional GANs: do they generate the class they are asked for?

Each family trains its preset (`gankit/presets/mnist5k-FAMILY.yaml`, mnist5k's {any_r['train_split']:,} training
digits, seed 0) for the steps shown, in one process at `OMP_NUM_THREADS=1` (wall time = training only,
on a machine shared with other jobs), then G_ema is measured with the bundled digit classifier
(digit-mnist5k sha256:{any_r['extractor_sha256'][:12]}.., test accuracy on real digits
{100 * any_r['classifier_test_accuracy']:.1f} %): {any_r['n_per_class']} images per requested class (eval seed
{any_r['eval_seed']}). InfoGAN never sees labels: its categorical code is matched one-to-one to the classifier's
digits (Hungarian algorithm) and the accuracy under that matching is shown. FID/KID: {fp['n_generated']} generated vs
{fp['n_real']} {fp['split']} images (real-vs-real in brackets: {fp['n_real']} train vs the same test images), seed {fp['seed']}.
A row that names overrides (`--set KEY=VALUE`) trained the preset with them; one seed per row, so
differences of a few points between rows are within run-to-run noise. Rows marked "(a2f3a88 preset)"
trained the presets as they were before the changes listed below.

{PRESETS_NOTE}
| family | steps | train time | figure (target) | per class / code, % | FID (real-vs-real) | KID (real-vs-real) |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}
{mapping}{diagnostics}
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
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="extra config override on top of the preset (repeatable); the row names it")
    ap.add_argument("--drop", action="append", default=[], metavar="ROW",
                    help='remove a stored row, e.g. "cgan@700", then rewrite the section (repeatable)')
    ap.add_argument("--report-only", action="store_true", help="rewrite the section from the stored results")
    args = ap.parse_args()
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise SystemExit(f"--families: unknown {unknown}; choose from {', '.join(FAMILIES)}")
    ROOT.mkdir(parents=True, exist_ok=True)
    store = STORE
    store.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(store.read_text()) if store.exists() else {}
    results = {_label(r["family"], r["steps"], r.get("overrides", [])) + (f" ({r['note']})" if r.get("note") else ""): r
               for r in results.values()}
    for row in args.drop:
        if results.pop(row, None) is None:
            raise SystemExit(f"--drop: no stored row {row!r}; stored: {', '.join(results)}")
    if args.report_only or args.drop:
        store.write_text(json.dumps(results, indent=1))
        write_section("conditional", report(results))
        return
    for fam in families:
        r = measure(fam, args.steps, args.per_class, args.sets)
        results[_label(fam, args.steps, args.sets)] = r  # one row per family, step count and overrides
        store.write_text(json.dumps(results, indent=1))
        figure = r.get("class_accuracy", r.get("matching_accuracy"))
        print(f"{fam}: {100 * figure:.1f} %  {r['quality_line']}  ({r['train_seconds']:.0f} s training)", flush=True)
        write_section("conditional", report(results))


if __name__ == "__main__":
    main()
