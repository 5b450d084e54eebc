"""Progress bars that say something, on stderr, and only where a person watches.

A bar shows when stderr is a terminal, unless the quiet switch is on (``gankit --quiet ...`` or the
environment variable ``GANKIT_QUIET=1``); piped or captured output (tests, logs, CI) stays clean.

Example::

    from gankit.progress import progress_bar
    with progress_bar(total=len(chunks), desc="FID features", unit="batch") as bar:
        for chunk in chunks:
            ...
            bar.update(1)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

QUIET_ENV = "GANKIT_QUIET"
T = TypeVar("T")


def quiet() -> bool:
    """Whether the quiet switch is on (``GANKIT_QUIET`` set to anything but "" or "0")."""
    return os.environ.get(QUIET_ENV, "") not in ("", "0")


def shown(show: bool | None = None) -> bool:
    """Whether a bar is drawn: ``show`` if given, else stderr is a TTY and the quiet switch is off."""
    if show is not None:
        return show
    return not quiet() and sys.stderr.isatty()


def progress_bar(total: int | None, desc: str, unit: str = "it", show: bool | None = None, initial: int = 0,
                 leave: bool = False) -> Any:
    """A tqdm bar on stderr (disabled where :func:`shown` says so); use it as a context manager or close it."""
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, disable=not shown(show), file=sys.stderr,
                dynamic_ncols=True, mininterval=0.5, leave=leave)


def track(items: Iterable[T], desc: str, total: int | None = None, unit: str = "it",
          show: bool | None = None) -> Iterator[T]:
    """Iterate ``items`` with a bar (see :func:`progress_bar`)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_bar(total, desc, unit, show) as bar:
        for item in items:
            yield item
            bar.update(1)


__all__ = ["QUIET_ENV", "progress_bar", "quiet", "shown", "track"]
