"""What a run folder holds, read once for the report, the doctor and the comparison.

:func:`read_run` checks that ``RUN`` is a complete run folder and returns a :class:`RunRecord`; a
missing folder, a folder that is not a run, or a half-written one (no config.json, no checkpoint, a
metrics.jsonl or JSON file cut short) is a :class:`gankit.errors.GankitError` of one line naming it.

Example::

    record = read_run("runs/00003-mnist5k-dcgan-nonsaturating")
    record.series("d_acc_real"), record.grids[-1], record.quality["values"]["fid"]
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.errors import GankitError

STEP_RE = re.compile(r"^step-(\d+)\.(png|npz)$")
CKPT_RE = re.compile(r"^ckpt-(\d+)\.safetensors$")


@dataclass
class CheckpointInfo:
    name: str
    step: int
    size_bytes: int
    time: str  # when it was written (its metadata), "" when unreadable


@dataclass
class RunRecord:
    """A run folder's contents: config, logged metrics, grids, 2D frames, checkpoints and result files."""

    path: Path
    config: dict[str, Any]
    metrics: list[dict[str, Any]]
    grids: list[tuple[int, Path]] = field(default_factory=list)
    toy_frames: list[tuple[int, Path]] = field(default_factory=list)
    checkpoints: list[CheckpointInfo] = field(default_factory=list)
    quality: dict[str, Any] | None = None
    quality_drs: dict[str, Any] | None = None
    eval: dict[str, Any] | None = None
    model_figures: dict[str, Any] | None = None
    diverged: dict[str, Any] | None = None
    measurements: dict[str, Any] | None = None  # gankit doctor's own measurements (doctor.json)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def step(self) -> int:
        """The newest step the folder records (logged or checkpointed)."""
        steps = [int(m.get("step", 0)) for m in self.metrics] + [c.step for c in self.checkpoints]
        return max(steps, default=0)

    @property
    def target_steps(self) -> int:
        return int(self.config.get("train", {}).get("steps", 0))

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """(steps, values) of one logged stat; values that were not numbers are nan."""
        steps, values = [], []
        for m in self.metrics:
            if key in m:
                steps.append(int(m["step"]))
                values.append(as_float(m[key]))
        return steps, values

    def stat_names(self) -> list[str]:
        skip = {"step", "images_seen", "time_s"}
        names: list[str] = []
        for m in self.metrics:
            names += [k for k in m if k not in skip and k not in names]
        return names

    @property
    def wall_time_s(self) -> float:
        """Training wall time: the sum over the run's segments (the clock restarts at each resume)."""
        total, last = 0.0, 0.0
        for m in self.metrics:
            t = as_float(m.get("time_s", 0.0))
            if t < last:  # a resume restarted the clock
                total += last
            last = t
        return total + last

    @property
    def data_kind(self) -> str:
        """"2d" when the run keeps 2D frames, "vector" for other toy data, else "image"."""
        if self.toy_frames:
            return "2d"
        name = str(self.config.get("data", {}).get("name", ""))
        return "vector" if name in ("ring8", "grid25", "spiral", "gauss1d", "mog1d") else "image"


def as_float(value: Any) -> float:
    """A logged number as float: JSON numbers, and "nan" / "inf" strings (json_safe writes them so)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        raise GankitError(f"{path}: {what} is not complete JSON (a half-written run folder?); "
                          "wait for the run to finish, or train it again") from None
    except OSError as e:
        raise GankitError(f"{path}: cannot read {what} ({e.strerror})") from None


def _optional(path: Path, what: str) -> Any:
    return _read_json(path, what) if path.is_file() else None


def _read_metrics(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    records = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise GankitError(f"{path}: line {i} is not complete JSON (a half-written run folder?); "
                              "wait for the run to finish, or train it again") from None
        if not isinstance(record, dict) or "step" not in record:
            raise GankitError(f"{path}: line {i} is not a logged step (no 'step' key)")
        records.append(record)
    return records


def _checkpoint_infos(folder: Path) -> list[CheckpointInfo]:
    from safetensors import safe_open

    infos = []
    for p in sorted(folder.glob("ckpt-*.safetensors")):
        m = CKPT_RE.match(p.name)
        if not m:
            continue
        written = ""
        try:
            with safe_open(str(p), framework="pt") as f:
                written = json.loads((f.metadata() or {}).get("gankit", "{}")).get("time", "")
        except Exception:  # noqa: BLE001 - an unreadable checkpoint is listed without its time
            written = "unreadable"
        infos.append(CheckpointInfo(p.name, int(m.group(1)), p.stat().st_size, written))
    return infos


def _stepped(folder: Path, suffix: str) -> list[tuple[int, Path]]:
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := STEP_RE.match(p.name)) and m.group(2) == suffix]
    return sorted(found)


def read_run(run_dir: str | Path) -> RunRecord:
    """The :class:`RunRecord` of a complete run folder; one-line GankitError otherwise."""
    path = Path(run_dir)
    if not path.exists():
        raise GankitError(f"{path}: run folder not found")
    if not path.is_dir():
        raise GankitError(f"{path}: not a folder; give a run folder (runs/NNNNN-name)")
    if not (path / "config.json").is_file():
        raise GankitError(f"{path}: not a gankit run folder (no config.json inside)")
    config = _read_json(path / "config.json", "config.json")
    if not isinstance(config, dict):
        raise GankitError(f"{path / 'config.json'}: not a config (expected a JSON object)")
    checkpoints = _checkpoint_infos(path / "checkpoints") if (path / "checkpoints").is_dir() else []
    diverged = _optional(path / "diverged.json", "diverged.json")
    if not checkpoints and diverged is None:
        raise GankitError(f"{path}: half-written run folder (no checkpoint in checkpoints/ yet); "
                          "wait for the first checkpoint, or train it again")
    return RunRecord(
        path=path, config=config, metrics=_read_metrics(path / "metrics.jsonl"),
        grids=_stepped(path / "samples", "png"), toy_frames=_stepped(path / "samples", "npz"),
        checkpoints=checkpoints,
        quality=_optional(path / "quality.json", "quality.json"),
        quality_drs=_optional(path / "quality_drs.json", "quality_drs.json"),
        eval=_optional(path / "eval.json", "eval.json"),
        model_figures=_optional(path / "model_figures.json", "model_figures.json"),
        diverged=diverged,
        measurements=_optional(path / "doctor.json", "doctor.json"),
    )


__all__ = ["CheckpointInfo", "RunRecord", "as_float", "read_run"]
