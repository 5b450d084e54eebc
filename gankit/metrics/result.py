"""What every gankit metric returns: its values with a fingerprint, and the on-disk cache of real statistics.

A score without its fingerprint cannot be compared with another, so :class:`MetricResult` always
carries one: metric, dataset and split, sample counts, feature extractor name and weights SHA-256,
preprocessing, seed and gankit version (:func:`fingerprint`). Real-data features depend only on
such a fingerprint, so they are cached on disk under its hash (:func:`cached_tensors`), in
``$GANKIT_CACHE`` or else ``~/.cache/gankit`` (the layout of stylegan2-ada's dataset statistics).

Example::

    fp = fingerprint("fid", dataset="mnist5k", split="test", n_generated=500, n_real=500,
                     extractor=extractor, seed=0)
    feats = cached_tensors({**fp, "what": "real features"}, lambda: {"x": extractor(real)})["x"]
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gankit.metrics.quality import json_safe
from gankit.version import gankit_version

# What gankit does to images before the extractor sees them. It is part of every image fingerprint:
# a FID from resized or differently scaled images is a different number.
IMAGE_PREPROCESSING = "float32 in [-1, 1], no resize, fed to the extractor as is"


def fingerprint(
    metric: str,
    dataset: str,
    split: str,
    n_generated: int | None,
    n_real: int | None,
    seed: int,
    extractor: Any = None,
    preprocessing: str = IMAGE_PREPROCESSING,
    **extra: Any,
) -> dict[str, Any]:
    """The fingerprint dict of one metric value (``extractor``: a FeatureExtractor or None for raw data)."""
    fp: dict[str, Any] = {
        "metric": metric,
        "dataset": dataset,
        "split": split,
        "n_generated": n_generated,
        "n_real": n_real,
        "extractor": getattr(extractor, "name", None) or "none (raw samples)",
        "extractor_sha256": getattr(extractor, "sha256", None),
        "preprocessing": preprocessing,
        "seed": seed,
        "gankit_version": gankit_version(),
    }
    fp.update(extra)
    return fp


def describe(fp: dict[str, Any]) -> str:
    """The one-line provenance printed after each figure."""
    ext = fp.get("extractor") or "none"
    sha = fp.get("extractor_sha256")
    ext_text = f"extractor {ext} sha256:{sha[:12]}.." if sha else f"extractor {ext}"
    gen, real = fp.get("n_generated"), fp.get("n_real")
    counts = " vs ".join(p for p in (f"N={gen} generated" if gen else "", f"{real} real" if real else "") if p)
    return f"{fp.get('dataset')} {fp.get('split')}, {counts}; {ext_text}; seed {fp.get('seed')}; gankit {fp.get('gankit_version')}"


@dataclass
class MetricResult:
    """One metric's values, fingerprint and printable figure.

    ``values`` holds plain floats/ints/lists (JSON-ready); ``text`` is the figure ("FID 21.8
    (real-vs-real 23.1)"); ``line()`` appends the provenance; ``to_dict()`` is what eval.json stores.

    Example::

        result = MetricResult("is", {"is": 8.9}, fp, "IS 8.90")
        print(result.line())
    """

    metric: str
    values: dict[str, Any]
    fingerprint: dict[str, Any]
    text: str
    files: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{self.text}  | {describe(self.fingerprint)}"

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "text": self.text, "values": json_safe(self.values),
                "fingerprint": json_safe(self.fingerprint), "files": list(self.files)}


def cache_dir(path: str | Path | None = None) -> Path:
    """``path``, else ``$GANKIT_CACHE``, else ``~/.cache/gankit``."""
    return Path(path or os.environ.get("GANKIT_CACHE") or "~/.cache/gankit").expanduser()


def fingerprint_hash(fp: dict[str, Any]) -> str:
    """SHA-256 (first 20 hex digits) of the fingerprint's canonical JSON (sorted keys)."""
    text = json.dumps(json_safe(fp), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cached_tensors(
    fp: dict[str, Any],
    compute: Callable[[], dict[str, torch.Tensor]],
    directory: str | Path | None = None,
) -> dict[str, torch.Tensor]:
    """Tensors for fingerprint ``fp``: read from the cache, or computed by ``compute()`` and stored.

    The file is ``<cache>/stats-<hash>.safetensors`` with a JSON sidecar holding ``fp`` itself, so a
    cache entry says what it is. Writes go to a temporary file renamed into place (atomic), and an
    unreadable entry is recomputed rather than trusted.
    """
    from safetensors.torch import load_file, save_file

    root = cache_dir(directory)
    path = root / f"stats-{fingerprint_hash(fp)}.safetensors"
    if path.is_file():
        try:
            return load_file(path)
        except Exception:  # noqa: BLE001, S110 - a truncated or foreign file: recompute below, overwrite it
            pass
    tensors = {k: v.detach().cpu().contiguous() for k, v in compute().items()}
    root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    save_file(tensors, tmp)
    os.replace(tmp, path)
    path.with_suffix(".json").write_text(json.dumps(json_safe(fp), indent=1, sort_keys=True, default=str))
    return tensors


__all__ = ["IMAGE_PREPROCESSING", "MetricResult", "cache_dir", "cached_tensors", "describe", "fingerprint",
           "fingerprint_hash"]
