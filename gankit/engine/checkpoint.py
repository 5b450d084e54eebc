"""Checkpoints: one safetensors file per save, written atomically; nothing is unpickled on load.

A checkpoint holds every network (G, D, G_ema, ...), both optimisers' states, the step counters,
every RNG state (torch, numpy, python), the data sampler's position and the config. Tensors go in
the safetensors body; everything else is JSON in the file's metadata under the key ``"gankit"``.
The file is written to ``NAME.tmp``, flushed to disk, then renamed over ``NAME``, so a crash
mid-write never leaves a half checkpoint under a real name, and the last good one stays.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from gankit.errors import CheckpointError
from gankit.limits import MAX_INT, excerpt
from gankit.validation import error_key, error_message

FORMAT_VERSION = 1
CKPT_RE = re.compile(r"^ckpt-(\d+)\.safetensors$")


@dataclass
class Checkpoint:
    tensors: dict[str, torch.Tensor]
    meta: dict[str, Any]
    path: Path

    def prefixed(self, prefix: str) -> dict[str, torch.Tensor]:
        """The tensors stored under ``prefix + "."``, with the prefix stripped."""
        p = prefix + "."
        return {k[len(p) :]: v for k, v in self.tensors.items() if k.startswith(p)}


# ----------------------------------------------------------------------------------------------
# What gankit writes into a checkpoint's metadata, as a schema: a file whose JSON reads but is not this
# (a null or negative step, no config, a list, RNG state of the wrong size) is "not a gankit checkpoint".

Count = Field(ge=0, le=2**62)  # steps and images: never negative, far from int64's end


class _Meta(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False, strict=True)


class OptimizerMeta(_Meta):
    param_groups: list[dict[str, Any]] = Field(min_length=1)
    scalars: dict[str, int | float | bool | None]

    @field_validator("param_groups")
    @classmethod
    def _groups(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for g in v:
            params = g.get("params")
            if not isinstance(params, list) or not all(isinstance(p, int) and not isinstance(p, bool) and
                                                       0 <= p <= MAX_INT for p in params):
                raise ValueError("each param group needs 'params', a list of parameter ids")
        return v

    @field_validator("scalars")
    @classmethod
    def _scalar_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            pid, dot, _ = key.partition(".")
            if not (dot and pid.isdigit() and len(pid) < 10):
                raise ValueError(f"scalar key {excerpt(key)} is not PARAM_ID.NAME")
        return v


class SamplerMeta(_Meta):
    epoch: int = Field(ge=0, le=MAX_INT)
    position: int = Field(ge=0, le=2**62)


class NumpyRNGMeta(_Meta):
    kind: Literal["MT19937"]
    pos: int = Field(ge=0, le=624)
    has_gauss: int = Field(ge=0, le=1)
    cached: float


class PythonRNGMeta(_Meta):
    version: Literal[3]
    state: list[int] = Field(min_length=625, max_length=625)
    gauss_next: float | None

    @field_validator("state")
    @classmethod
    def _words(cls, v: list[int]) -> list[int]:
        if not all(0 <= w < 2**32 for w in v[:624]) or not 0 <= v[624] <= 624:
            raise ValueError("not a Mersenne Twister state (624 words of 32 bits and a position 0..624)")
        return v


class RNGMeta(_Meta):
    numpy: NumpyRNGMeta
    python: PythonRNGMeta


class CheckpointMeta(_Meta):
    """The JSON metadata of a gankit checkpoint (what :func:`gankit.engine.trainer` writes). Keys added by
    later versions are allowed; ``precision`` and ``lr_decay`` are absent from older checkpoints."""

    format_version: Literal[1]
    step: int = Count
    images_seen: int = Count
    config: dict[str, Any]
    opt_g: OptimizerMeta
    opt_d: OptimizerMeta | None
    sampler: SamplerMeta
    rng: RNGMeta
    nets: list[str] = Field(min_length=1)
    precision: dict[str, dict[str, Any]] = Field(default_factory=dict)
    lr_decay: dict[str, Any] | None = None


def _tensor_problem(tensors: dict[str, torch.Tensor], meta: CheckpointMeta) -> str | None:
    """Why the RNG and weight tensors do not fit the metadata, or None."""
    expected_torch = torch.get_rng_state()
    t = tensors.get("rng.torch")
    if t is None or t.dtype != torch.uint8 or t.shape != expected_torch.shape:
        got = "missing" if t is None else f"{t.dtype} {tuple(t.shape)}"
        return f"rng.torch must be uint8 {tuple(expected_torch.shape)}, got {got}"
    n = tensors.get("rng.numpy")
    if n is None or n.dtype != torch.int64 or tuple(n.shape) != (624,):
        got = "missing" if n is None else f"{n.dtype} {tuple(n.shape)}"
        return f"rng.numpy must be int64 (624,), got {got}"
    if bool(((n < 0) | (n >= 2**32)).any()):
        return "rng.numpy holds words outside 0..2**32 - 1"
    for key, c in tensors.items():
        if key.startswith("rng.cuda.") and c.dtype != torch.uint8:
            return f"{key} must be uint8, got {c.dtype}"
    for name in meta.nets:
        if not any(k.startswith(name + ".") for k in tensors):
            return f"metadata lists net {excerpt(name)} but the file holds none of its weights"
    return None


def validate_meta(raw: Any, tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """``raw`` (the parsed JSON) checked against :class:`CheckpointMeta` and the tensors it describes;
    returns it as a dict, or raises ValueError saying why it is not what gankit writes."""
    if not isinstance(raw, dict):
        raise ValueError(f"its metadata is a JSON {type(raw).__name__}, not an object")
    if raw.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"format {excerpt(raw.get('format_version'))}, expected {FORMAT_VERSION}")
    try:
        meta = CheckpointMeta.model_validate(raw)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        got = "" if isinstance(err.get("input"), (dict, list)) else f" (got {excerpt(err.get('input'))})"
        raise ValueError(f"{error_key(err, 'metadata')}: {error_message(err)}{got}") from None
    problem = _tensor_problem(tensors, meta)
    if problem:
        raise ValueError(problem)
    from gankit.config import build_config
    from gankit.errors import ConfigError

    try:
        build_config(dict(meta.config))  # the schema only; the plugin names are checked where it is used
    except ConfigError as e:
        raise ValueError(f"its config: {str(e).removeprefix('config error: ')}") from None
    return raw


def optimizer_to_flat(opt: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimiser's state_dict into tensors (``prefix.state.<param>.<key>``) and JSON."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, st in sd["state"].items():
        for key, val in st.items():
            if isinstance(val, torch.Tensor):
                tensors[f"{prefix}.state.{pid}.{key}"] = val
            else:
                scalars[f"{pid}.{key}"] = val
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def optimizer_from_flat(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Inverse of :func:`optimizer_to_flat`; ``tensors`` are its tensors with ``prefix.`` stripped."""
    state: dict[int, dict[str, Any]] = {}
    flat = {k[len("state."):]: v for k, v in tensors.items() if k.startswith("state.")} | meta["scalars"]
    for key, val in flat.items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = val
    # JSON turns tuples such as Adam's betas into lists; give them back their type.
    groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
              for g in meta["param_groups"]]
    opt.load_state_dict({"state": state, "param_groups": groups})


def save_checkpoint(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Write tensors + JSON metadata to ``path`` atomically (tmp file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # safetensors wants contiguous CPU tensors that share no storage.
    body = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    try:
        save_file(body, str(tmp), metadata={"gankit": json.dumps({"format_version": FORMAT_VERSION, **meta})})
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, SafetensorError) as e:  # a full disk (ENOSPC), a removed folder: the last good one stays
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        reason = getattr(e, "strerror", None) or (str(e).splitlines() or [type(e).__name__])[0][:120]
        raise CheckpointError(f"{path}: cannot write the checkpoint ({reason}); "
                              f"{newest_good_checkpoint(path.parent)}") from None
    return path


def newest_good_checkpoint(folder: Path, run: Path | None = None) -> str:
    """One sentence naming the newest checkpoint in ``folder`` that loads and passes the checks (for the
    message of a run that stopped), and how to continue from it."""
    for p in reversed(list_checkpoints(folder)):
        try:
            load_checkpoint(p)
        except CheckpointError:
            continue
        resume = f" (continue with: gankit train --resume {run})" if run is not None else ""
        return f"The newest good checkpoint is {p}{resume}."
    return "No good checkpoint had been written yet."


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> Checkpoint:
    """Read a checkpoint; any problem is a one-line CheckpointError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw_meta = (f.metadata() or {}).get("gankit")
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, TypeError, RuntimeError) as e:
        first = (str(e).splitlines() or [type(e).__name__])[0]
        raise CheckpointError(f"{path}: not a readable checkpoint ({first[:120]})") from None
    if raw_meta is None:
        raise CheckpointError(f"{path}: not a gankit checkpoint: a safetensors file without gankit metadata")
    try:
        meta = json.loads(raw_meta)
    except (json.JSONDecodeError, RecursionError, ValueError):
        raise CheckpointError(f"{path}: not a gankit checkpoint: its metadata is not valid JSON") from None
    try:
        meta = validate_meta(meta, tensors)
    except ValueError as e:
        raise CheckpointError(f"{path}: not a gankit checkpoint: {e}") from None
    if str(device) != "cpu":
        tensors = {k: v.to(device) for k, v in tensors.items()}
    return Checkpoint(tensors, meta, path)


def list_checkpoints(folder: Path) -> list[Path]:
    """Checkpoints in ``folder``, oldest first (by step number)."""
    if not Path(folder).is_dir():
        return []
    found = [(int(m.group(1)), p) for p in Path(folder).iterdir() if (m := CKPT_RE.match(p.name))]
    return [p for _, p in sorted(found)]


def checkpoint_name(step: int) -> str:
    return f"ckpt-{step:07d}.safetensors"


def prune_checkpoints(folder: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints (and stale ``.tmp`` files from a crash)."""
    for p in list_checkpoints(folder)[:-keep]:
        p.unlink(missing_ok=True)
    for p in Path(folder).glob("*.tmp"):
        p.unlink(missing_ok=True)


def load_latest(folder: Path, device: torch.device | str = "cpu") -> Checkpoint:
    """The newest readable checkpoint in ``folder``; an unreadable newer one is skipped with a warning."""
    found = list_checkpoints(folder)
    if not found:
        raise CheckpointError(f"{folder}: no checkpoints (ckpt-*.safetensors) to resume from; a run stopped before "
                              f"its first checkpoint starts again from step 0 with gankit train --resume "
                              f"{Path(folder).parent}")
    errors = []
    for path in reversed(found):
        try:
            ckpt = load_checkpoint(path, device)
        except CheckpointError as e:
            errors.append(str(e))
            print(f"warning: skipping {path.name}: {e}", flush=True)
            continue
        if errors:
            print(f"note: using {path.name}, the newest checkpoint that is readable and passes the checks", flush=True)
        return ckpt
    raise CheckpointError(f"{folder}: no readable checkpoint that is a gankit one; newest error: {errors[0]}")
