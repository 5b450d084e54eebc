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
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from gankit.version import gankit_version

# What gankit does to images before the extractor sees them. It is part of every image fingerprint:
# a FID from resized or differently scaled images is a different number.
IMAGE_PREPROCESSING = "float32 in [-1, 1], no resize, fed to the extractor as is"


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float (nan, inf) turned into its string, so the JSON is standard."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def kid_text(mean: float, std: float, subsets: int) -> str:
    """A KID value as printed: ``mean +- std`` over several subsets, the mean alone for one subset.

    One subset holding all the data has no spread to show; a "+- 0" would read as a precise value."""
    def num(x: float) -> str:
        return f"{x:.4f}" if x == 0 or abs(x) >= 1e-3 or not math.isfinite(x) else f"{x:.2e}"

    return f"{num(mean)} +- {num(std)}" if subsets > 1 else num(mean)


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


def voxel_text(v: dict[str, Any]) -> str:
    """The voxel figure as printed (:mod:`gankit.metrics.voxels`): each value beside its real counterpart."""
    return (f"NN-IoU to train {v['nn_iou']:.3f} (held-out real {v['real_nn_iou']:.3f})  "
            f"copies {100 * v['copies']:.1f} % ({100 * v['real_copies']:.1f} %)  "
            f"coverage {100 * v['coverage']:.1f} % (real {100 * v['real_coverage']:.1f} %)  "
            f"MMD-IoU {v['mmd_iou']:.3f} (real {v['real_mmd_iou']:.3f})")


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


@dataclass
class QualityReport:
    """A quality figure (the end-of-training figure, :func:`gankit.metrics.evaluate_generator`), its values
    and its fingerprint.

    ``kind`` is "fid_kid" (images with a feature extractor), "modes" (mixtures with known centres),
    "stacked_modes" (Stacked MNIST, :mod:`gankit.metrics.stacked`), "voxel" (3D shapes,
    :mod:`gankit.metrics.voxels`) or "none" (no figure;
    ``fingerprint["reason"]`` says why). ``values`` holds plain floats and ints; ``fingerprint`` says
    what produced them. ``lines()`` is the printable form.

    Example::

        report = evaluate_generator(G, 2, make_toy("ring8", ring8(), 1000))
        report.values["modes_covered"], report.values["true_modes_covered"]
        json.dumps(report.to_dict())
    """

    kind: Literal["fid_kid", "modes", "stacked_modes", "voxel", "none"]
    values: dict[str, Any] = field(default_factory=dict)
    fingerprint: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; non-finite floats become the strings "inf" / "-inf" / "nan"."""
        return {"kind": self.kind, "values": json_safe(self.values), "fingerprint": json_safe(self.fingerprint)}

    def lines(self) -> list[str]:
        fp, v = self.fingerprint, self.values
        if self.kind == "fid_kid":
            kid_rr = kid_text(v["kid_real_vs_real"], v["kid_real_vs_real_std"], fp["kid_subsets"])
            figure = (
                f"FID {v['fid']:.2f} (real-vs-real {v['fid_real_vs_real']:.2f})  "
                f"KID {kid_text(v['kid'], v['kid_std'], fp['kid_subsets'])} (real-vs-real {kid_rr})"
            )
            where = (
                f"{fp['dataset']} {fp['split']}, N={fp['n_generated']} generated vs {fp['n_real']} real; "
                f"extractor {fp['extractor']} sha256:{fp['extractor_sha256'][:12]}..; seed {fp['seed']}"
            )
            out = [f"{figure}  | {where}"]
            if v.get("non_finite_generated"):
                out.append(f"warning: G produced {v['non_finite_generated']} non-finite images; FID/KID are nan")
            return out
        if self.kind == "modes":
            k = v["n_modes"]
            figure = (
                f"modes {v['modes_covered']}/{k} (true data {v['true_modes_covered']}/{k})  "
                f"HQ {100 * v['hq_fraction']:.1f} % ({100 * v['true_hq_fraction']:.1f} %)  "
                f"reverse KL {v['reverse_kl']:.4f} ({v['true_reverse_kl']:.4f})"
                + (f"  spread {v['hq_spread']:.2f} ({v['true_hq_spread']:.2f})" if "hq_spread" in v else "")
            )
            where = (
                f"{fp['dataset']}, N={fp['n_generated']} generated vs {fp['n_real']} true samples "
                f"({fp['split']} split); HQ = within {fp['n_std']:g} std ({fp['n_std'] * fp['std']:g}) "
                f"of a centre; seed {fp['seed']}"
            )
            return [f"{figure}  | {where}"]
        if self.kind == "voxel":
            where = (f"{fp['dataset']} {fp['split']}, N={fp['n_generated']} generated vs {fp['n_real']} real; "
                     f"IoU of occupancies (voxel > 0); seed {fp['seed']}")
            return [f"{voxel_text(v)}  | {where}"]
        return [f"no quality figure: {fp.get('reason', 'unknown reason')}"]


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


__all__ = ["IMAGE_PREPROCESSING", "MetricResult", "QualityReport", "cache_dir", "cached_tensors", "describe",
           "fingerprint", "fingerprint_hash", "json_safe", "kid_text", "voxel_text"]
