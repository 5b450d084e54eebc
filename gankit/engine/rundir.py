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


def _has_checkpoints(folder: Path) -> bool:
    from gankit.engine.checkpoint import list_checkpoints

    return bool(list_checkpoints(folder))


def _step_of(record: dict[str, Any]) -> float:
    step = record.get("step", 0)
    return step if isinstance(step, (int, float)) and not isinstance(step, bool) else 0


MAX_CONFIG_JSON = 1 << 20


class RunDir:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.reused = False  # create(): a folder whose run stopped before its first checkpoint, taken over

    # -- creating and opening ----------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path | str = "runs", name: str = "run", path: Path | str | None = None) -> "RunDir":
        """A new numbered folder under ``root``, or exactly ``path`` if given (which must not hold a run)."""
        reused = False
        if path is not None:
            path = cls.check_new(path)
            if (path / "config.json").exists():  # a run that stopped before its first checkpoint
                print(f"note: reusing {path}: it holds no checkpoint (a run stopped before its first one); its "
                      "config.json and metrics.jsonl are replaced by this run's", flush=True)
            reused = any((path / name).exists() for name in ("config.json", "checkpoints", "metrics.jsonl"))
        else:
            root = Path(root)
            try:
                root.mkdir(parents=True, exist_ok=True)
                taken = [int(m.group(1)) for p in root.iterdir() if (m := RUN_RE.match(p.name))]
            except OSError as e:
                raise ConfigError(f"--runs-root: cannot use {root} as the parent of run folders "
                                  f"({e.strerror or type(e).__name__})") from None
            number = max(taken, default=-1) + 1
            while True:  # two runs started at once must not share a number: mkdir is the arbiter
                path = root / f"{number:05d}-{name}"
                try:
                    path.mkdir()
                    return cls(path)
                except FileExistsError:
                    number += 1
                except OSError as e:
                    raise ConfigError(f"--runs-root: cannot create {path} ({e.strerror or type(e).__name__})") from None
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"--run-dir: cannot create {path} ({e.strerror or type(e).__name__})") from None
        run = cls(path)
        run.reused = reused
        return run

    @staticmethod
    def check_new(path: Path | str) -> Path:
        """``path`` as a folder a new run may be written into (``--run-dir``): not a file, not under a file,
        and holding no run with checkpoints; a ConfigError naming it otherwise."""
        try:
            path = Path(path).expanduser()
            path.exists()
        except (OSError, ValueError, RuntimeError) as e:
            raise ConfigError(f"--run-dir: {str(path)[:80]!r} is not a usable path ({type(e).__name__})") from None
        if path.exists() and not path.is_dir():
            raise ConfigError(f"--run-dir: {path} is a file, not a folder; pick a folder name")
        for ancestor in path.parents:
            if ancestor.exists():
                if not ancestor.is_dir():
                    raise ConfigError(f"--run-dir: cannot create {path}: {ancestor} is a file, not a folder")
                break
        if _has_checkpoints(path / "checkpoints"):
            raise ConfigError(f"--run-dir: {path} already holds a run; resume it with --resume {path} or pick another folder")
        return path

    @classmethod
    def open(cls, path: Path | str) -> "RunDir":
        """An existing run folder: one with checkpoints/, or with the config.json of a run that stopped
        before its first checkpoint (which ``--resume`` starts again from step 0)."""
        path = Path(path)
        if not path.is_dir():
            raise CheckpointError(f"{path}: run folder not found")
        if not (path / "checkpoints").is_dir() and not (path / "config.json").is_file():
            raise CheckpointError(f"{path}: not a gankit run folder (no checkpoints/ or config.json inside)")
        return cls(path)

    def read_config(self) -> dict[str, Any]:
        """The run's saved config.json (a run stopped before its first checkpoint resumes from it)."""
        path = self.path / "config.json"
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_CONFIG_JSON + 1)
            if len(raw) > MAX_CONFIG_JSON:
                raise ValueError("larger than 1 MiB")
            data = json.loads(raw.decode("utf-8"))
        except FileNotFoundError:
            raise CheckpointError(f"{self.path}: no checkpoint and no config.json to start again from") from None
        except (OSError, ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise CheckpointError(f"{path}: not a readable gankit config ({str(e)[:100]})") from None
        if not isinstance(data, dict):
            raise CheckpointError(f"{path}: not a gankit config (a JSON {type(data).__name__}, not an object)")
        return data

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
        """Drop records logged after ``after_step`` (written after the checkpoint a resume starts from).

        A torn last line (a crash mid-write) and any line that is not a JSON record are dropped, and said so."""
        if not self.metrics_file.exists():
            return
        records, dropped = self._parse_metrics()
        if dropped:
            print(f"note: {self.metrics_file}: dropped {dropped} unreadable line{'s' if dropped > 1 else ''} "
                  "(a record torn by a crash mid-write)", flush=True)
        keep = [r for r in records if _step_of(r) <= after_step]
        tmp = self.metrics_file.with_name(self.metrics_file.name + ".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in keep))
        tmp.replace(self.metrics_file)

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics_file.exists():
            return []
        return self._parse_metrics()[0]

    def _parse_metrics(self) -> tuple[list[dict[str, Any]], int]:
        """(records, how many lines were not a JSON object)."""
        try:
            text = self.metrics_file.read_bytes().decode("utf-8", errors="replace")
        except OSError as e:
            raise GankitError(f"{self.metrics_file}: cannot be read ({e.strerror or type(e).__name__})") from None
        records, dropped = [], 0
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                record = None
            if isinstance(record, dict):
                records.append(record)
            else:
                dropped += 1
        return records, dropped
