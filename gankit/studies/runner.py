"""The shared runner of gankit's studies: independent jobs, run in parallel, stored one file each, resumable.

A study is a list of :class:`Job` s (a function named by ``"module:function"`` and its JSON parameters, so a
job pickles to any process or machine and has a stable id) plus a :meth:`Study.report` that turns the
finished jobs' records into a :class:`StudyReport` (a JSON summary, markdown and HTML blocks).
:func:`run_study` does the rest:

- runs the jobs not yet finished: in this process (``workers=1``), on ``workers`` local processes (spawned,
  each limited to one torch thread), or on a Dask cluster (``scheduler="tcp://host:8786"``; the optional
  extra ``pip install -e '.[dask]'``). Only this process writes files, so workers need no shared disk;
- stores each job's record as ``OUT/jobs/<job id>.json``, written atomically the moment the job ends: an
  interrupted study, run again with the same arguments, redoes only the jobs that have no record;
- shows a tqdm bar over jobs on stderr (quiet when stderr is not a terminal);
- with ``report_only`` (``--report-only``), runs nothing and reports on the jobs stored so far (a study run
  in parts over several sessions; the missing jobs are counted in study.json and summary.md);
- writes ``OUT/study.json`` (settings, every job's record, the summary), ``OUT/summary.md`` and
  ``OUT/report.html`` (built from :mod:`gankit.report.html` blocks).

A job that raises does not stop the others: its traceback goes to ``OUT/jobs/<job id>.error.txt`` and the
study ends with a :class:`StudyError` naming it after every other job has finished and been stored.

Example::

    from gankit.studies.runner import Job, run_jobs
    jobs = [Job("gankit.studies.demo:job", {"seed": s, "n": 100}, label=f"seed{s}") for s in range(4)]
    records = run_jobs(jobs, "out/demo", workers=2)
    records[0]["result"]   # what gankit.studies.demo.job(seed=0, n=100) returned
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import platform
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from gankit.errors import GankitError
from gankit.version import __version__

JOBS_DIR = "jobs"
RECORD_FORMAT = 1


class StudyError(GankitError):
    """A study could not run as asked (bad argument, missing optional dependency, failed jobs)."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class Job:
    """One independent unit of a study: ``fn(**params)`` returns a JSON-serialisable dict.

    ``fn`` is ``"package.module:function"`` (imported where the job runs); ``params`` must be JSON
    (numbers, strings, lists, dicts). ``label`` is a readable prefix of the id, e.g. ``"seed3-n10-gan"``.
    The id is the label plus a hash of ``fn`` and ``params``: equal specs share an id in every run.
    """

    fn: str
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if ":" not in self.fn:
            raise StudyError(f"job function {self.fn!r}: name it as 'package.module:function'")
        try:
            _canonical(dict(self.params))
        except (TypeError, ValueError) as e:
            raise StudyError(f"job {self.label or self.fn}: params must be plain JSON ({e})") from None

    @property
    def key(self) -> str:
        """sha256 of the canonical JSON of (fn, params), hex: the job's identity."""
        return hashlib.sha256(_canonical({"fn": self.fn, "params": dict(self.params)}).encode()).hexdigest()

    @property
    def id(self) -> str:
        """A file-name-safe id: ``label-<12 hex digits of key>`` (or the 12 digits alone)."""
        label = re.sub(r"[^A-Za-z0-9_.=+-]+", "_", self.label).strip("_.")[:80]
        return f"{label}-{self.key[:12]}" if label else self.key[:12]

    def spec(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "fn": self.fn, "params": dict(self.params), "label": self.label}


def resolve(fn: str) -> Callable[..., Any]:
    """The function a ``"package.module:function"`` name points to."""
    module, _, name = fn.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise StudyError(f"job function {fn!r} cannot be imported ({e})") from None
    return obj


def limit_threads(threads: int = 1) -> None:
    """Keep a worker to ``threads`` BLAS/torch threads (K workers on K cores must not each spawn K threads)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only settable before the first parallel work; then keep what there is
        pass


def execute(job: Job, threads: int | None = 1) -> dict[str, Any]:
    """Run one job here and return its record (never raises: a failure is a record with ``error``)."""
    if threads is not None:
        limit_threads(threads)
    start, cpu_start = time.perf_counter(), time.process_time()
    record: dict[str, Any] = {"format": RECORD_FORMAT, **job.spec(), "host": platform.node(), "pid": os.getpid(),
                              "gankit_version": __version__}
    try:
        result = resolve(job.fn)(**dict(job.params))
        _canonical(result)  # a result that cannot be stored is the job's failure, found here, not at write time
        record["result"] = result
    except Exception:  # noqa: BLE001 - a job's failure is data for the report, not the end of the study
        record["error"] = traceback.format_exc()
    record["seconds"] = round(time.perf_counter() - start, 4)
    record["cpu_seconds"] = round(time.process_time() - cpu_start, 4)  # all threads of this process
    record["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return record


def write_json(path: str | Path, data: Any) -> Path:
    """Write JSON atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def write_text(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def job_path(out: str | Path, job: Job) -> Path:
    return Path(out) / JOBS_DIR / f"{job.id}.json"


def load_record(out: str | Path, job: Job) -> dict[str, Any] | None:
    """The stored record of ``job`` under ``out``, or None when there is none (or it is unreadable/partial)."""
    path = job_path(out, job)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("key") != job.key or "result" not in record:
        return None
    return record


def _check_unique(jobs: Sequence[Job]) -> None:
    seen: dict[str, Job] = {}
    for job in jobs:
        if job.id in seen:
            raise StudyError(f"two jobs share the id {job.id} (same function and params): drop the duplicate")
        seen[job.id] = job


def _progress(total: int, initial: int, progress: bool | None, desc: str):
    from tqdm import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else (not progress)
    return tqdm(total=total, initial=initial, disable=disable, file=sys.stderr, desc=desc, unit="job",
                dynamic_ncols=True)


def _local_pool(workers: int):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: a forked copy of a process that already ran torch's thread pools can deadlock
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=limit_threads, initargs=(1,))


def dask_client(scheduler: Any):
    """A ``distributed.Client`` for an address (or the client itself when one is given)."""
    try:
        from distributed import Client
    except ImportError:
        raise StudyError("--scheduler needs Dask distributed: pip install -e '.[dask]'") from None
    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout="20s"), True
    except (OSError, TimeoutError, ValueError) as e:
        raise StudyError(f"--scheduler {scheduler}: cannot connect ({e})") from None


def run_jobs(jobs: Sequence[Job], out: str | Path, workers: int = 1, scheduler: Any = None,
             progress: bool | None = None, desc: str = "jobs",
             on_record: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Run every job of ``jobs`` that has no stored record under ``out``; return all records in job order.

    ``workers``: 1 runs in this process; K > 1 on K spawned local processes. ``scheduler``: a Dask scheduler
    address (or a ``distributed.Client``) instead of local processes. Raises :class:`StudyError` naming the
    jobs that failed, after all others are stored.
    """
    if workers < 1:
        raise StudyError(f"--workers: must be at least 1, got {workers}")
    jobs = list(jobs)
    _check_unique(jobs)
    out = Path(out)
    (out / JOBS_DIR).mkdir(parents=True, exist_ok=True)
    records: dict[str, dict[str, Any]] = {}
    for job in jobs:
        record = load_record(out, job)
        if record is not None:
            records[job.id] = record
    pending = [job for job in jobs if job.id not in records]
    failed: list[str] = []

    def store(record: dict[str, Any]) -> None:
        err = out / JOBS_DIR / f"{record['id']}.error.txt"
        if "error" in record:
            failed.append(record["id"])
            write_text(err, record["error"])
            return
        write_json(out / JOBS_DIR / f"{record['id']}.json", record)
        err.unlink(missing_ok=True)
        records[record["id"]] = record
        if on_record is not None:
            on_record(record)

    with _progress(len(jobs), len(jobs) - len(pending), progress, desc) as bar:
        if not pending:
            pass
        elif scheduler is not None:
            from distributed import as_completed

            client, owned = dask_client(scheduler)
            try:
                futures = [client.submit(execute, job, 1, key=f"gankit-{job.id}", pure=False) for job in pending]
                for future in as_completed(futures):
                    store(future.result())
                    bar.update(1)
            finally:
                if owned:
                    client.close()
        elif workers == 1:
            for job in pending:
                store(execute(job, threads=None))
                bar.update(1)
        else:
            from concurrent.futures import as_completed as done

            with _local_pool(min(workers, len(pending))) as pool:
                futures = [pool.submit(execute, job, 1) for job in pending]
                for future in done(futures):
                    store(future.result())
                    bar.update(1)
    if failed:
        names = ", ".join(sorted(failed)[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        raise StudyError(f"{len(failed)} of {len(jobs)} jobs failed ({names}); tracebacks in "
                         f"{out / JOBS_DIR}/*.error.txt; finished jobs are kept: run again to retry")
    return [records[job.id] for job in jobs]


@dataclass
class StudyReport:
    """What a study says about its records: ``summary`` (JSON), ``markdown`` (text), ``html`` (blocks)."""

    summary: dict[str, Any]
    markdown: str
    html: list[str]
    title: str = ""
    subtitle: str = ""


class Study:
    """A study: a name, its settings, its jobs and its report. Subclass and fill the three methods."""

    name: str = "study"

    def settings(self) -> dict[str, Any]:
        """The study's arguments as JSON (stored at the top of study.json)."""
        return {}

    def jobs(self) -> list[Job]:
        raise NotImplementedError

    def report(self, records: list[dict[str, Any]]) -> StudyReport:
        raise NotImplementedError


@dataclass
class StudyOutput:
    """Where a finished study wrote: the folder, its three files, and how many jobs ran vs were reused."""

    out: Path
    json: Path
    markdown: Path
    html: Path
    records: list[dict[str, Any]]
    ran: int
    reused: int
    report: StudyReport
    seconds: float


def run_study(study: Study, out: str | Path, workers: int = 1, scheduler: Any = None,
              progress: bool | None = None, report_only: bool = False) -> StudyOutput:
    """Run ``study``'s unfinished jobs (see :func:`run_jobs`), then write study.json, summary.md, report.html.

    ``report_only``: run nothing; report on the grid's jobs stored under ``out`` so far (a study run over
    several sessions, summarised part-way). study.json then records ``jobs_expected`` / ``jobs_missing``
    and summary.md opens with a line saying how many jobs are missing.
    """
    from gankit.report import html

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise StudyError(f"--out {out}: is a file; give a folder")
    start = time.perf_counter()
    jobs = study.jobs()
    if not jobs:
        raise StudyError(f"study {study.name}: the arguments leave no job to run")
    before = sum(load_record(out, job) is not None for job in jobs)
    if report_only:
        records = [r for r in (load_record(out, job) for job in jobs) if r is not None]
        if not records:
            raise StudyError(f"--report-only: none of the {len(jobs)} jobs has a record under {out / JOBS_DIR}")
    else:
        records = run_jobs(jobs, out, workers=workers, scheduler=scheduler, progress=progress, desc=study.name)
    report = study.report(records)
    missing = len(jobs) - len(records)
    if missing:
        report.markdown = (f"**Partial ({len(records)} of {len(jobs)} jobs; --report-only): the {missing} missing "
                           f"jobs are left out.**\n\n" + report.markdown)
        partial = f"partial: {len(records)} of {len(jobs)} jobs"
        report.subtitle = f"{report.subtitle}; {partial}" if report.subtitle else partial
    seconds = time.perf_counter() - start
    doc = {"study": study.name, "gankit_version": __version__, "settings": study.settings(),
           "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "engine": ("none (--report-only)" if report_only
                      else "dask" if scheduler is not None else f"local x{workers}"),
           "job_seconds_total": round(sum(r.get("seconds", 0.0) for r in records), 3),
           "job_cpu_seconds_total": round(sum(r.get("cpu_seconds", 0.0) for r in records), 3),
           "jobs_expected": len(jobs), "jobs_missing": missing, "summary": report.summary, "jobs": records}
    json_path = write_json(out / "study.json", doc)
    md_path = write_text(out / "summary.md", report.markdown)
    html_path = html.write_page(out / "report.html", report.title or f"gankit study {study.name}", report.html,
                                report.subtitle)
    ran = 0 if report_only else len(jobs) - before
    return StudyOutput(out, json_path, md_path, html_path, records, ran, before, report, seconds)


def add_runner_arguments(parser: Any, default_out: str) -> None:
    """The options every ``gankit study NAME`` shares: --workers, --scheduler, --out, --report-only,
    --progress/--no-progress."""
    parser.add_argument("--workers", type=int, default=1, metavar="K",
                        help="local worker processes, one torch thread each (default 1: in this process)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the jobs on a Dask cluster (tcp://host:8786) instead; pip install -e '.[dask]'")
    parser.add_argument("--out", default=default_out, metavar="DIR",
                        help=f"study folder: jobs/ (one JSON per job, reused on rerun), study.json, summary.md, "
                             f"report.html (default {default_out})")
    parser.add_argument("--report-only", action="store_true",
                        help="run no job: write study.json, summary.md, report.html from the jobs stored in --out so "
                             "far (a partial grid: the missing jobs are left out and counted)")
    parser.add_argument("--progress", action=_BoolAction, default=None,
                        help="force the progress bar on/off (default: on when stderr is a terminal)")


class _BoolAction:  # argparse's BooleanOptionalAction, imported lazily to keep this module light
    def __new__(cls, *args: Any, **kwargs: Any):
        import argparse

        return argparse.BooleanOptionalAction(*args, **kwargs)


def settings_of(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as JSON-ready values (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(obj), default=list))


__all__ = ["Job", "Study", "StudyError", "StudyOutput", "StudyReport", "add_runner_arguments", "dask_client",
           "execute", "job_path", "limit_threads", "load_record", "resolve", "run_jobs", "run_study",
           "settings_of", "write_json", "write_text"]
