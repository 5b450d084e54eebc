"""The ``gankit`` command. Every command has a Python twin of the same name (``gankit.train``, ...).

Bad input (config, file, checkpoint) prints one line naming what to fix and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from gankit.errors import GankitError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gankit", description="Train GANs and measure what they did.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a GAN (default: non-saturating DCGAN on mnist5k)")
    t.add_argument("--preset", help="named preset (see `gankit presets`)")
    t.add_argument("--config", help="YAML file of config keys")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V",
                   help="override one key, e.g. --set train.steps=200 (repeatable)")
    t.add_argument("--run-dir", help="write the run into exactly this folder (default: runs/NNNNN-name)")
    t.add_argument("--runs-root", default="runs", help="parent of numbered run folders (default: runs)")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its newest checkpoint")
    t.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    t.add_argument("--labels", type=int, metavar="N",
                   help="keep the labels of only N training samples (sets data.labels; semi-supervised)")

    s = sub.add_parser("sample", help="draw samples from a trained run into a PNG")
    s.add_argument("run_dir")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--out", default="grid.png")
    s.add_argument("--ema", action="store_true", help="use the EMA of G")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--class", dest="label", type=int, metavar="K",
                   help="conditional runs (cgan, acgan, infogan code): draw N samples of class K; "
                        "without it they show a class-by-row grid")
    s.add_argument("--drs", action="store_true", help="keep only the samples discriminator rejection sampling "
                   "accepts (model=gan runs; Azadi et al. 2019)")
    s.add_argument("--text", metavar="CAPTION", help="text-to-image runs (stackgan): draw N samples of this "
                   "caption, e.g. \"a thick slanted three\"")

    e = sub.add_parser("eval", help="fingerprinted metrics of a trained run -> RUN_DIR/eval.json")
    e.add_argument("run_dir")
    e.add_argument("--metrics", help="comma-separated (fid,kid,is,fid_inf,prdc,precision,recall,density,coverage,"
                   "memorization,mre,jacobian,cas,modes,dstar,entropy); default depends on the data")
    e.add_argument("--n", type=int, help="samples per side (default: the split's size; 2500 for toy data)")
    e.add_argument("--split", default="test", help="real reference split: val or test (default test)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--ema", action="store_true", help="evaluate the EMA of G")
    e.add_argument("--drs", action="store_true", help="score the samples discriminator rejection sampling keeps "
                   "(sample metrics; mre, jacobian and dstar still measure G itself)")
    e.add_argument("--device", default="cpu")

    tr = sub.add_parser("translate", help="apply a trained pix2pix run's G to an image or a folder of images")
    tr.add_argument("run_dir")
    tr.add_argument("--input", required=True, metavar="FILE_OR_FOLDER", help="an image, or a folder of images")
    tr.add_argument("--out", required=True, metavar="DIR", help="where the translations go (NAME.png each)")
    tr.add_argument("--seed", type=int, default=0, help="seed of G's dropout masks (its noise; default 0)")
    tr.add_argument("--no-noise", action="store_true", help="no dropout: the mean translation")
    tr.add_argument("--ema", action="store_true", help="use the EMA of G")
    tr.add_argument("--device", default="cpu")

    d = sub.add_parser("edit", help="Localized GAN runs: move an image along each tangent direction into a PNG")
    d.add_argument("run_dir")
    d.add_argument("--image", metavar="FILE", help="an image file of the run's image size")
    d.add_argument("--index", type=int, metavar="K", help="image K of the dataset's --split instead of a file")
    d.add_argument("--split", default="test", help="the split --index reads (default test)")
    d.add_argument("--out", default="edit.png")
    d.add_argument("--ema", action="store_true", help="use the EMA of G")
    d.add_argument("--steps", type=int, default=9, help="columns: values of each local coordinate (default 9)")
    d.add_argument("--span", type=float, default=2.5, help="the sweep covers [-span, span] x z_std (default 2.5)")

    sub.add_parser("presets", help="list the named presets")
    return p


def _train(args: argparse.Namespace) -> int:
    from gankit.plugins import load_config

    if args.resume and (args.preset or args.config or args.run_dir or args.labels is not None):
        raise GankitError("--resume takes the config from the run's checkpoint; drop --preset/--config/--run-dir/--labels")
    if args.resume:
        if args.dry_run:
            from gankit.engine.checkpoint import load_latest
            from gankit.engine.rundir import RunDir
            from gankit.engine.trainer import resumed_config

            cfg = resumed_config(load_latest(RunDir.open(args.resume).checkpoints), args.overrides)
            print(yaml.safe_dump(cfg.to_dict(), sort_keys=False), end="")
            return 0
        from gankit.engine.trainer import train

        train(resume=args.resume, overrides=args.overrides)
        return 0
    overrides = args.overrides + ([f"data.labels={args.labels}"] if args.labels is not None else [])
    cfg = load_config(preset=args.preset, file=args.config, overrides=overrides)
    if args.dry_run:
        print(yaml.safe_dump(cfg.to_dict(), sort_keys=False), end="")
        return 0
    from gankit.engine.trainer import train

    result = train(cfg, run_dir=args.run_dir, runs_root=args.runs_root)
    print(f"run folder: {result.run_dir}", flush=True)
    return 0


def _sample(args: argparse.Namespace) -> int:
    from gankit.api import sample

    if args.n < 1:
        raise GankitError(f"--n: must be at least 1, got {args.n}")
    path = sample(args.run_dir, n=args.n, out=args.out, ema=args.ema, seed=args.seed, label=args.label, drs=args.drs,
                  text=args.text)
    print(f"wrote {path}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from gankit.evaluation import evaluate

    report = evaluate(args.run_dir, metrics=args.metrics, n=args.n, split=args.split, seed=args.seed,
                      ema=args.ema, device=args.device, drs=args.drs)
    print(f"wrote {report.path}")
    return 0


def _translate(args: argparse.Namespace) -> int:
    from gankit.api import translate

    written = translate(args.run_dir, args.input, args.out, seed=None if args.no_noise else args.seed,
                        ema=args.ema, device=args.device)
    print(f"wrote {len(written)} translation{'s' if len(written) != 1 else ''} to {args.out}")
    return 0


def _edit(args: argparse.Namespace) -> int:
    from gankit.api import edit

    path = edit(args.run_dir, image=args.image, index=args.index, split=args.split, out=args.out, ema=args.ema,
                steps=args.steps, span=args.span)
    print(f"wrote {path}")
    return 0


def _presets(args: argparse.Namespace) -> int:
    from gankit.config import list_presets

    items = list_presets()
    width = max(map(len, items), default=0)
    for name, desc in items.items():
        print(f"{name:<{width}}  {desc}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `gankit` console command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        commands = {"train": _train, "sample": _sample, "eval": _eval, "translate": _translate, "edit": _edit,
                    "presets": _presets}
        return commands[args.command](args)
    except GankitError as e:
        print(f"gankit: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
