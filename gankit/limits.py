"""What the machine can do, checked where a user-controlled number enters (issue 19).

A config or a command-line argument can hold numbers that the schema accepts as numbers but that the
machine cannot honour: a seed beyond what torch's generators take, a width or an image size whose
tensors would need terabytes. Every such value is checked where it enters, against the bounds here:

- :data:`MAX_SEED`: seeds are 0 .. 2**32 - 1 (numpy's legacy seeds; torch takes them all, and the
  derived seeds ``seed * 1000 + k`` of :mod:`gankit.metrics.samples` stay far from 64 bits);
- :data:`MAX_INT`: every other integer of a config, at most 2**31 - 1;
- :func:`check_memory`: an estimate of the bytes a size asks for, before anything is allocated, against
  :func:`memory_budget` (the machine's RAM, or ``$GANKIT_MEMORY_LIMIT_MB``). The error names the key to
  lower and the estimate.

This module imports nothing of gankit but its errors: every layer may use it.
"""

from __future__ import annotations

import math
import os

from gankit.errors import ConfigError, GankitError
from gankit.validation import MAX_EXCERPT, MAX_INT, MAX_SEED, excerpt  # defined beside the schema helpers


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def memory_budget() -> int:
    """Bytes gankit may plan to allocate at once: ``$GANKIT_MEMORY_LIMIT_MB`` MiB if set, else the machine's RAM."""
    env = os.environ.get("GANKIT_MEMORY_LIMIT_MB")
    if env:
        try:
            mb = float(env)
        except ValueError:
            raise GankitError(f"$GANKIT_MEMORY_LIMIT_MB: expected a number of MiB, got {excerpt(env)}") from None
        if math.isfinite(mb) and mb > 0:
            return int(mb * 2**20)
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 16 * 2**30


def check_memory(nbytes: float, key: str, what: str, error: type[GankitError] = ConfigError,
                 advice: str | None = None) -> None:
    """Raise ``error`` naming ``key`` when ``nbytes`` (an estimate) exceeds :func:`memory_budget`.

    Example::

        check_memory(n * 3 * 64 * 64 * 4, "--n", "64x64 RGB samples")
        # ConfigError: --n: needs about 4.6 TiB of memory (64x64 RGB samples); this machine has 23.5 GiB
    """
    budget = memory_budget()
    if not math.isfinite(nbytes) or nbytes > budget:
        raise error(f"{key}: needs about {human_bytes(nbytes)} of memory ({what}); this machine has "
                    f"{human_bytes(budget)} (set $GANKIT_MEMORY_LIMIT_MB to change the limit): {advice or f'lower {key}'}")


def check_int(value: int, key: str, lo: int = 0, hi: int = MAX_INT) -> int:
    """``value`` when ``lo <= value <= hi``, else a :class:`ConfigError` naming ``key`` and the range."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{key}: must be an integer in {lo:,}..{hi:,}, got {excerpt(value)}")
    return value


__all__ = ["MAX_EXCERPT", "MAX_INT", "MAX_SEED", "check_int", "check_memory", "excerpt", "human_bytes",
           "memory_budget"]
