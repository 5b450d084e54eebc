"""The studies ``gankit study`` knows: name -> module. A study module defines

- ``DESCRIPTION`` (one line for ``--help``), ``DEFAULT_OUT`` (its default folder),
- ``add_arguments(parser)`` (its own options; the runner's --workers/--scheduler/--out/--progress are added here),
- ``STUDY``: a dataclass subclass of :class:`gankit.studies.runner.Study` whose fields are those options' dests.

A module is imported when ``gankit`` builds its parser, so it imports only light modules at the top.
A new study is one module plus one line below.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from types import ModuleType
from typing import Any

from gankit.studies.runner import Study, StudyError, add_runner_arguments, run_study

STUDIES: dict[str, str] = {
    "demo": "gankit.studies.demo",
    "augment": "gankit.studies.augment",
    "theory": "gankit.studies.theory",
    "balance": "gankit.studies.balance",
    "collapse": "gankit.studies.collapse",
    "generalize": "gankit.studies.generalize",
}


def study_module(name: str) -> ModuleType:
    if name not in STUDIES:
        raise StudyError(f"unknown study {name!r}; choose one of: {', '.join(sorted(STUDIES))}")
    return importlib.import_module(STUDIES[name])


def default_out(name: str) -> str:
    return study_module(name).DEFAULT_OUT


def build_study(name: str, **settings: Any) -> Study:
    """The study object of ``name`` with ``settings`` (its dataclass fields; the rest keep their defaults)."""
    cls = study_module(name).STUDY
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise StudyError(f"study {name}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(known))}")
    return cls(**settings)


def add_study_parsers(parser: argparse.ArgumentParser) -> None:
    """Fill ``gankit study`` with one sub-command per study."""
    sub = parser.add_subparsers(dest="study", required=True, metavar="NAME")
    for name in STUDIES:
        module = study_module(name)
        p = sub.add_parser(name, help=module.DESCRIPTION, description=module.DESCRIPTION)
        module.add_arguments(p)
        add_runner_arguments(p, module.DEFAULT_OUT)


def main(args: argparse.Namespace) -> int:
    """``gankit study NAME ...``: build the study from the parsed options, run it, print where it wrote."""
    cls = study_module(args.study).STUDY
    settings = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    study = cls(**settings)
    result = run_study(study, args.out, workers=args.workers, scheduler=args.scheduler, progress=args.progress,
                       report_only=args.report_only)
    print(f"study {study.name}: {result.ran} jobs run, {result.reused} reused from {result.out / 'jobs'} "
          f"({result.seconds:.1f} s)" + (f"; {len(study.jobs()) - result.reused} jobs missing (--report-only)"
                                         if args.report_only else ""))
    for path in (result.json, result.markdown, result.html):
        print(f"wrote {path}")
    return 0


__all__ = ["STUDIES", "add_study_parsers", "build_study", "default_out", "main", "study_module"]
