"""gankit's version, in one place that every module may import without importing the package's face.

Example::

    from gankit.version import __version__, gankit_version
    gankit_version()  # "0.1.0"
"""

from __future__ import annotations

__version__ = "0.1.0"


def gankit_version() -> str:
    """``__version__`` if it is set, else the installed distribution's version, else ``"unknown"``.

    Every fingerprint records it, so a score says which gankit computed it.
    """
    if __version__:
        return str(__version__)
    from importlib.metadata import PackageNotFoundError, version as dist_version

    try:
        return dist_version("gankit")
    except PackageNotFoundError:
        return "unknown"


__all__ = ["__version__", "gankit_version"]
