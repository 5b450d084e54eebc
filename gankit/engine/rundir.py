"""Numbered run folders: ``runs/00003-mnist5k-dcgan-nonsaturating/`` holding

- ``config.json``: the resolved config;
- ``metrics.jsonl``: one JSON object per logged step;
- ``samples/step-0001000.png``: grids from a fixed z;
- ``checkpoints/ckpt-0001000.safetensors``: the last few checkpoints;
- ``tensorboard/``: TensorBoard scalars;
- ``quality.json``: the end-of-training quality figure with its fingerprint.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from gankit.errors import CheckpointError, ConfigError, GankitError

LOCK_NAME = ".lock"

RUN_RE = re.compile(r"^(\d{5})-")


class RunDir:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # -- creating and opening ----------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path | str = "runs", name: str = "run", path: Path | str | None = None) -> "RunDir":
        """A new numbered folder under ``root``, or exactly ``path`` if given (which must not hold a run)."""
        if path is not None:
            path = Path(path)
            if (path / "config.json").exists() or (path / "checkpoints").exists():
                raise ConfigError(f"--run-dir: {path} already holds a run; resume it with --resume {path} or pick another folder")
        else:
            root = Path(root)
            root.mkdir(parents=True, exist_ok=True)
            taken = [int(m.group(1)) for p in root.iterdir() if (m := RUN_RE.match(p.name))]
            number = max(taken, default=-1) + 1
            while True:  # two runs started at once must not share a number: mkdir is the arbiter
                path = root / f"{number:05d}-{name}"
                try:
                    path.mkdir()
                    return cls(path)
                except FileExistsError:
                    number += 1
        path.mkdir(parents=True, exist_ok=True)
        return cls(path)

    @classmethod
    def open(cls, path: Path | str) -> "RunDir":
        path = Path(path)
        if not path.is_dir():
            raise CheckpointError(f"{path}: run folder not found")
        if not (path / "checkpoints").is_dir():
            raise CheckpointError(f"{path}: not a gankit run folder (no checkpoints/ inside)")
        return cls(path)

    # -- one writer at a time --------------------------------------------------------------------------
    def lock(self) -> None:
        """Hold this folder for the calling process until it exits (or :meth:`unlock`): a second gankit
        process that tries to write into it gets a one-line error instead of interleaving checkpoints.

        An OS lock (``flock``) on ``RUN/.lock``: released by the kernel when the holder dies, so a crashed
        run never leaves a stale lock behind."""
        import fcntl

        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise GankitError(f"{self.path}: another gankit process (pid {holder}) is writing into this run "
                              "folder; wait for it to finish, or stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def unlock(self) -> None:
        fd = getattr(self, "_lock_fd", None)
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    # -- places ------------------------------------------------------------------------------------
    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.jsonl"

    # -- writing -----------------------------------------------------------------------------------
    def write_json(self, name: str, data: Any) -> Path:
        path = self.path / name
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(path)
        return path

    def append_metrics(self, record: dict[str, Any]) -> None:
        with open(self.metrics_file, "a") as f:
            f.write(json.dumps(record) + "\n")

    def truncate_metrics(self, after_step: int) -> None:
        """Drop records logged after ``after_step`` (written after the checkpoint a resume starts from)."""
        if not self.metrics_file.exists():
            return
        keep = [line for line in self.metrics_file.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= after_step]
        self.metrics_file.write_text("".join(line + "\n" for line in keep))

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics_file.exists():
            return []
        return [json.loads(line) for line in self.metrics_file.read_text().splitlines() if line.strip()]
