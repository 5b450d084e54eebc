"""gankit's studies: experiments that answer one question each, run as independent resumable jobs.

``gankit study NAME ...`` on the command line; :func:`run` (``gankit.study``) in Python. The shared machinery
is :mod:`gankit.studies.runner`; the list of studies is :data:`gankit.studies.registry.STUDIES`.
"""

from __future__ import annotations

from typing import Any


def run(name: str, out: str | None = None, workers: int = 1, scheduler: Any = None, progress: bool | None = None,
        **settings: Any):
    """Run study ``name`` (the twin of ``gankit study NAME``); returns a :class:`~gankit.studies.runner.StudyOutput`.

    Example::

        gankit.study("demo", seeds=4, out="studies/demo", workers=2)
    """
    from gankit.studies.registry import build_study, default_out
    from gankit.studies.runner import run_study

    study = build_study(name, **settings)
    return run_study(study, out or default_out(name), workers=workers, scheduler=scheduler, progress=progress)


__all__ = ["run"]
