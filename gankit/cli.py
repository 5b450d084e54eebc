"""The ``gankit`` command. Every command has a Python twin of the same name (``gankit.train``, ...).

Exit status: 0 done; 2 bad input (config, file, checkpoint, argument: one line naming what to fix);
1 an internal error, a bug of gankit's (one line, the traceback written to a file whose path it prints);
130 interrupted (Ctrl-C), one line.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import yaml

from gankit.errors import GankitError
from gankit.limits import MAX_INT, MAX_SEED

MAX_MESSAGE = 600  # characters of the one error line


class UsageError(GankitError):
    """A command-line argument argparse refuses (unknown option, not an integer, a bad choice)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse prints its usage block and exits itself)
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _int_in(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            value = int(text.strip().replace("_", ""), 10)
        except (ValueError, AttributeError):
            raise argparse.ArgumentTypeError(f"expected an integer in {lo:,}..{hi:,}, got {text[:40]!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be in {lo:,}..{hi:,}, got {text[:40]}")
        return value

    parse.__name__ = "integer"
    return parse


def _positive_finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text[:40]}")
    return value


SEED = _int_in(0, MAX_SEED)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gankit", description="Train GANs and measure what they did.")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars (they show only on a terminal anyway)")
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
    t.add_argument("--labels", type=_int_in(0, MAX_INT), metavar="N",
                   help="keep the labels of only N training samples (sets data.labels; semi-supervised)")

    s = sub.add_parser("sample", help="draw samples from a trained run into a PNG")
    s.add_argument("run_dir")
    s.add_argument("--n", type=_int_in(1, MAX_INT), default=64)
    s.add_argument("--out", default="grid.png", help="the picture: .png, .jpg or .jpeg (default grid.png)")
    s.add_argument("--ema", action="store_true", help="use the EMA of G")
    s.add_argument("--seed", type=SEED, default=0)
    s.add_argument("--class", dest="label", type=_int_in(0, MAX_INT), metavar="K",
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
    e.add_argument("--n", type=_int_in(2, MAX_INT), help="samples per side (default: the split's size; 2500 for toy data)")
    e.add_argument("--split", default="test", choices=["val", "test"], help="real reference split: val or test (default test)")
    e.add_argument("--seed", type=SEED, default=0)
    e.add_argument("--ema", action="store_true", help="evaluate the EMA of G")
    e.add_argument("--drs", action="store_true", help="score the samples discriminator rejection sampling keeps "
                   "(sample metrics; mre, jacobian and dstar still measure G itself)")
    e.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")

    tr = sub.add_parser("translate", help="apply a trained pix2pix run's G to an image or a folder of images")
    tr.add_argument("run_dir")
    tr.add_argument("--input", required=True, metavar="FILE_OR_FOLDER", help="an image, or a folder of images")
    tr.add_argument("--out", required=True, metavar="DIR", help="where the translations go (NAME.png each)")
    tr.add_argument("--seed", type=SEED, default=0, help="seed of G's dropout masks (its noise; default 0)")
    tr.add_argument("--no-noise", action="store_true", help="no dropout: the mean translation")
    tr.add_argument("--ema", action="store_true", help="use the EMA of G")
    tr.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")

    d = sub.add_parser("edit", help="Localized GAN runs: move an image along each tangent direction into a PNG")
    d.add_argument("run_dir")
    d.add_argument("--image", metavar="FILE", help="an image file of the run's image size")
    d.add_argument("--index", type=_int_in(0, MAX_INT), metavar="K", help="image K of the dataset's --split instead of a file")
    d.add_argument("--split", default="test", choices=["train", "val", "test"], help="the split --index reads (default test)")
    d.add_argument("--out", default="edit.png", help="the picture: .png, .jpg or .jpeg (default edit.png)")
    d.add_argument("--ema", action="store_true", help="use the EMA of G")
    d.add_argument("--steps", type=_int_in(1, MAX_INT), default=9, help="columns: values of each local coordinate (default 9)")
    d.add_argument("--span", type=_positive_finite, default=2.5, help="the sweep covers [-span, span] x z_std (default 2.5)")

    r = sub.add_parser("report", help="one self-contained HTML page of a run (curves, grids, figures, diagnosis)")
    r.add_argument("run_dir")
    r.add_argument("--out", metavar="FILE.html", help="where the page goes (default: RUN_DIR/report.html)")
    r.add_argument("--no-measure", action="store_true", help="diagnose only from the files on disk (no FID per "
                   "checkpoint, no class histogram; faster)")
    r.add_argument("--device", default="cpu")

    dr = sub.add_parser("doctor", help="diagnose a run: rules grounded in what was measured, with suggestions")
    dr.add_argument("run_dir")
    dr.add_argument("--no-measure", action="store_true", help="use only the files on disk (no FID per checkpoint)")
    dr.add_argument("--device", default="cpu")

    c = sub.add_parser("compare", help="runs side by side: differing config keys, figures, curves (terminal, HTML)")
    c.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    c.add_argument("--out", metavar="FILE.html", help="also write the comparison page there")

    sub.add_parser("presets", help="list the named presets")

    from gankit.studies.registry import add_study_parsers

    add_study_parsers(sub.add_parser("study", help="run a study (independent resumable jobs -> JSON, markdown, HTML)"))
    return p


def _train(args: argparse.Namespace) -> int:
    from gankit.plugins import load_config

    if args.resume and (args.preset or args.config or args.run_dir or args.labels is not None):
        raise GankitError("--resume takes the config from the run's checkpoint; drop --preset/--config/--run-dir/--labels")
    if args.resume:
        if args.dry_run:
            from gankit.engine.rundir import RunDir
            from gankit.engine.trainer import check_config, resume_point

            cfg = resume_point(RunDir.open(args.resume), args.overrides)[1]
            check_config(cfg)
            print(yaml.safe_dump(cfg.to_dict(), sort_keys=False), end="")
            return 0
        from gankit.engine.trainer import train

        train(resume=args.resume, overrides=args.overrides)
        return 0
    overrides = args.overrides + ([f"data.labels={args.labels}"] if args.labels is not None else [])
    cfg = load_config(preset=args.preset, file=args.config, overrides=overrides)
    if args.dry_run:
        from gankit.engine.trainer import check_config

        check_config(cfg, run_dir=args.run_dir, runs_root=args.runs_root)  # what the real run checks at start-up
        print(yaml.safe_dump(cfg.to_dict(), sort_keys=False), end="")
        return 0
    from gankit.engine.trainer import train

    result = train(cfg, run_dir=args.run_dir, runs_root=args.runs_root)
    print(f"run folder: {result.run_dir}", flush=True)
    return 0


def _sample(args: argparse.Namespace) -> int:
    from gankit.api import sample

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


def _study(args: argparse.Namespace) -> int:
    from gankit.studies.registry import main as study_main

    return study_main(args)


def _report(args: argparse.Namespace) -> int:
    from gankit.report.run import write_report

    print(f"wrote {write_report(args.run_dir, args.out, measure=not args.no_measure, device=args.device)}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from gankit.report.doctor import doctor, print_findings

    findings = doctor(args.run_dir, measure_checkpoints=not args.no_measure, device=args.device)
    print("\n".join(print_findings(findings, args.run_dir)))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from gankit.report.compare import compare

    result = compare(args.run_dirs, out=args.out)
    print("\n".join(result.lines()))
    if result.path is not None:
        print(f"\nwrote {result.path}")
    return 0


def _crash_log(command: str, args: argparse.Namespace | None) -> Path | None:
    """Write the traceback being handled to a file and return its path: under the run folder of the
    command when it names an existing one, else ``$GANKIT_CACHE/crashes`` (``~/.cache/gankit/crashes``),
    else the temp folder."""
    folders = []
    run = getattr(args, "resume", None) or getattr(args, "run_dir", None) if args is not None else None
    try:
        if run and Path(run).is_dir():
            folders.append(Path(run))
    except (OSError, ValueError):
        pass
    cache = os.environ.get("GANKIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "gankit")
    folders += [Path(cache) / "crashes", Path(tempfile.gettempdir())]
    name = f"gankit-crash-{command}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    text = f"gankit {command}: {' '.join(sys.argv)}\n\n{traceback.format_exc()}"
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text)
            return path
        except OSError:
            continue
    return None


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 20] + f"... ({len(line):,} chars)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `gankit` console command; returns the exit status: 0 done, 2 bad input (one line),
    1 internal error (one line; the traceback goes to a file it names), 130 interrupted."""
    import os

    from gankit.progress import QUIET_ENV

    command, args = "gankit", None
    before = os.environ.get(QUIET_ENV)
    try:
        args = _parser().parse_args(argv)
        command = args.command
        if args.quiet:
            os.environ[QUIET_ENV] = "1"
        commands = {"train": _train, "sample": _sample, "eval": _eval, "translate": _translate, "edit": _edit,
                    "report": _report, "doctor": _doctor, "compare": _compare, "presets": _presets, "study": _study}
        return commands[args.command](args)
    except GankitError as e:
        print(f"gankit: error: {_one_line(str(e))}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        hint = "; the run keeps its newest checkpoint (continue with gankit train --resume RUN_DIR)" \
            if command == "train" else ""
        print(f"gankit: interrupted ({command}){hint}", file=sys.stderr, flush=True)
        return 130
    except Exception as e:  # noqa: BLE001 - the last resort: a bug of gankit's, not the user's input
        try:
            path = _crash_log(command, args)
        except KeyboardInterrupt:
            path = None
        where = f"traceback in {path}" if path else "the traceback could not be written"
        print(f"gankit: internal error in `{command}`: {_one_line(f'{type(e).__name__}: {e}')[:300]} ({where}); "
              "please report it", file=sys.stderr, flush=True)
        return 1
    finally:
        if args is not None and args.quiet:  # main() may run inside a longer process (tests): leave its environment as it was
            if before is None:
                os.environ.pop(QUIET_ENV, None)
            else:
                os.environ[QUIET_ENV] = before


if __name__ == "__main__":
    sys.exit(main())
