"""Where a command may write: ``--out`` files and folders checked before any work is done.

A picture goes to a file whose extension names a format gankit writes (``.png``, ``.jpg``, ``.jpeg``);
a path that is an existing folder, or that lies under a regular file, is one :class:`GankitError` line
naming the path and what is allowed, never a traceback after the samples were drawn. A write that
fails anyway (a full disk, no permission) is one line naming the file (:func:`writing`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from gankit.errors import GankitError
from gankit.limits import excerpt

IMAGE_OUTPUTS = (".png", ".jpg", ".jpeg")


def user_path(path: str | os.PathLike, key: str) -> Path:
    """``path`` as given by a user (``~`` expanded), or a GankitError naming ``key`` when it is not a usable
    path (a NUL byte, a name too long, ``~nosuchuser``)."""
    return _as_path(path, key)


def _as_path(path: str | os.PathLike, key: str) -> Path:
    try:
        p = Path(path).expanduser()
        p.exists()
    except (OSError, ValueError, RuntimeError) as e:  # NUL byte, a name too long, an unknown ~user
        raise GankitError(f"{key}: {excerpt(str(path))} is not a usable path ({type(e).__name__})") from None
    return p


def _check_parents(folder: Path, key: str, target: Path) -> None:
    """The nearest existing ancestor of ``folder`` must be a writable folder."""
    for ancestor in (folder, *folder.parents):
        try:
            exists = ancestor.exists()
        except OSError:
            continue
        if not exists:
            continue
        if not ancestor.is_dir():
            raise GankitError(f"{key}: cannot write {target}: {ancestor} is a file, not a folder")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise GankitError(f"{key}: cannot write {target}: no permission to write in {ancestor}")
        return


def check_output_file(path: str | os.PathLike, key: str = "--out", allowed: tuple[str, ...] = IMAGE_OUTPUTS) -> Path:
    """``path`` as a file a picture can be written to, checked before anything is computed.

    Example::

        check_output_file("runs/grid.png")     # Path('runs/grid.png')
        check_output_file("runs")              # GankitError: --out: runs is an existing folder; ...
    """
    p = _as_path(path, key)
    if p.is_dir():
        raise GankitError(f"{key}: {p} is an existing folder; give a file name, e.g. {p / ('grid' + allowed[0])}")
    if p.suffix.lower() not in allowed:
        got = f"extension {excerpt(p.suffix)}" if p.suffix else "no extension"
        raise GankitError(f"{key}: {p} has {got}; allowed: {', '.join(allowed)}")
    _check_parents(p.parent, key, p)
    return p


def check_output_dir(path: str | os.PathLike, key: str = "--out") -> Path:
    """``path`` as a folder that files can be written into (it may not exist yet)."""
    p = _as_path(path, key)
    if p.exists() and not p.is_dir():
        raise GankitError(f"{key}: {p} is a file; give a folder (it is created if missing)")
    _check_parents(p, key, p)
    return p


@contextlib.contextmanager
def writing(path: str | os.PathLike, key: str = "--out"):
    """Turn an OSError while writing ``path`` (a full disk, a permission) into one line naming it."""
    try:
        yield
    except OSError as e:
        raise GankitError(f"{key}: cannot write {path} ({e.strerror or type(e).__name__})") from None


__all__ = ["IMAGE_OUTPUTS", "check_output_dir", "check_output_file", "user_path", "writing"]
