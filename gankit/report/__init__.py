"""HTML pages of runs: the blocks (html.py), the run report (run.py), the doctor (doctor.py), the
comparison (compare.py), the 2D game frames (toy.py) and the run-folder reader (record.py).

``gankit.report`` is also the Python twin of ``gankit report``: ``gankit.report(run_dir, out=None)``
writes a run's page and returns its path. A function of that name in ``gankit/__init__.py`` would be
replaced by this package as soon as any of its modules is imported (Python sets the submodule as an
attribute of its parent), so the package itself is callable.

Example::

    import gankit
    gankit.report("runs/00003-mnist5k-dcgan-nonsaturating")            # -> RUN/report.html
    from gankit.report import html                                       # the blocks, as before
"""

from __future__ import annotations

import sys
import types
from pathlib import Path


def report(run_dir: str | Path, out: str | Path | None = None, measure: bool = True, device: str = "cpu") -> Path:
    """Write the report page of a run (default RUN/report.html); see :func:`gankit.report.run.write_report`."""
    from gankit.report.run import write_report

    return write_report(run_dir, out, measure=measure, device=device)


class CallablePackage(types.ModuleType):
    """This package's type: calling it calls :func:`report`."""

    def __call__(self, *args, **kwargs) -> Path:
        return report(*args, **kwargs)


sys.modules[__name__].__class__ = CallablePackage
