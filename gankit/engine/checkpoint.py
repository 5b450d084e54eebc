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
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from gankit.errors import CheckpointError

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
    save_file(body, str(tmp), metadata={"gankit": json.dumps({"format_version": FORMAT_VERSION, **meta})})
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> Checkpoint:
    """Read a checkpoint; any problem is a one-line CheckpointError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw_meta = (f.metadata() or {}).get("gankit")
        tensors = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a readable checkpoint ({str(e).splitlines()[0][:120]})") from None
    if raw_meta is None:
        raise CheckpointError(f"{path}: safetensors file without gankit metadata; not a gankit checkpoint")
    try:
        meta = json.loads(raw_meta)
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: checkpoint metadata is not valid JSON") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {meta.get('format_version')!r}, expected {FORMAT_VERSION}")
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
        raise CheckpointError(f"{folder}: no checkpoints (ckpt-*.safetensors) to resume from")
    errors = []
    for path in reversed(found):
        try:
            return load_checkpoint(path, device)
        except CheckpointError as e:
            errors.append(str(e))
            print(f"warning: skipping {path.name}: {e}", flush=True)
    raise CheckpointError(f"{folder}: no readable checkpoint; newest error: {errors[0]}")
