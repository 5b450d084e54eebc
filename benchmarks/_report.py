"""Writes one named section of docs/benchmarks.md, leaving the other sections as they are."""

from __future__ import annotations

import json

import os
import platform
import re
import subprocess
import time
from pathlib import Path

import torch

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = "# gankit benchmarks\n\nEvery number here was measured by a script in `benchmarks/`; each section names its command,\nthe machine and the date. Regenerate a section by running its script.\n"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{cpu}, {os.cpu_count()} cores visible, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), {dev}, Python {platform.python_version()}")


def git_rev() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=DOC.parent.parent).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def write_section(name: str, body: str) -> Path:
    """Replace (or append) the section delimited by ``<!-- begin NAME -->`` / ``<!-- end NAME -->``."""
    stamp = f"_Measured {time.strftime('%Y-%m-%d')} on {machine()}; gankit commit {git_rev()}._\n\n"
    block = f"<!-- begin {name} -->\n{body.rstrip()}\n\n{stamp}<!-- end {name} -->"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text() if DOC.exists() else HEADER
    pattern = re.compile(rf"<!-- begin {re.escape(name)} -->.*?<!-- end {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)
    return DOC


def load_results(path: Path | str) -> dict:
    """A benchmark's stored results (benchmarks/results/NAME.json), or {} before its first run."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def merge_runs(results: dict, caches: str, nested: bool = False) -> dict:
    """Add the ``runs`` of other result files (``caches``: "A.json,B.json", parts of one benchmark run side
    by side) to ``results``; ``nested``: runs are keyed by task, then by run, and merged per task."""
    runs = results.setdefault("runs", {})
    for other in filter(None, caches.split(",")):
        for key, value in load_results(other).get("runs", {}).items():
            if nested:
                runs.setdefault(key, {}).update(value)
            else:
                runs[key] = value
    return results


def save_results(path: Path | str, results: dict, section: str, render) -> Path:
    """Store ``results`` (so a benchmark run in parts, or killed, keeps what it measured) and rewrite the
    section ``section`` of docs/benchmarks.md as ``render(results)``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))
    return write_section(section, render(results))


def sweep(path: Path | str, results: dict, section: str, render, jobs, measure, line) -> dict:
    """Measure every (name, seed, key) of ``jobs`` whose key is not yet in ``results["runs"]``, one at a
    time in a shared temporary folder: ``measure(name, seed, tmp)`` -> the run's record, stored (and the
    section rewritten) after each run, so an interrupted sweep resumes; ``line(name, seed, record)`` is
    printed per run."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, seed, key in jobs:
            if key in results.get("runs", {}):
                continue
            record = measure(name, seed, Path(tmp))
            results.setdefault("runs", {})[key] = record
            save_results(path, results, section, render)
            print(line(name, seed, record), flush=True)
    save_results(path, results, section, render)
    return results


def named_jobs(names: str, known: dict, seeds: str, tag: object, what: str = "recipe") -> list[tuple[str, int, str]]:
    """The (name, seed, key) jobs of :func:`sweep` for comma-separated ``names`` (each a key of ``known``)
    and ``seeds``; the stored key is "name/seed/tag". An unknown name stops the script with one line."""
    unknown = [n for n in names.split(",") if n not in known]
    if unknown:
        raise SystemExit(f"unknown {what}(s) {unknown}; choose from {', '.join(known)}")
    return [(n, seed, f"{n}/{seed}/{tag}") for n in names.split(",") for seed in (int(s) for s in seeds.split(","))]


def child_cpu() -> float:
    """User + system CPU seconds of this process's finished child processes (measure a run as a difference)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def spread(xs: list[float], detail: str = "range", digits: int = 2) -> str:
    """One value as is; several as mean ± sample std, then (min, max) or, with ``detail="values"``, each one;
    ``digits`` after the decimal point."""
    import statistics

    f = f".{digits}f"
    if len(xs) == 1:
        return format(xs[0], f)
    tail = (f"min {min(xs):{f}}, max {max(xs):{f}}" if detail == "range"
            else ", ".join(format(x, f) for x in xs))
    return f"{statistics.mean(xs):{f}} ± {statistics.stdev(xs):{f}} ({tail})"
