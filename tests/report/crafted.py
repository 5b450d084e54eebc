"""Run folders written by hand for the doctor's rules: a healthy one, and one file changed per rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

HEALTHY_CONFIG = {"description": "crafted", "seed": 0, "data": {"name": "mnist5k"}, "model": {"name": "gan"},
                  "net": {"name": "dcgan"}, "objective": {"name": "nonsaturating"},
                  "train": {"steps": 1000, "lr_decay": "none"}}


def healthy_metrics(n: int = 20, acc_real: float = 0.75, acc_fake: float = 0.7) -> list[dict[str, Any]]:
    return [{"step": 50 * (i + 1), "images_seen": 3200 * (i + 1), "time_s": 2.0 * (i + 1), "d_loss": 1.1,
             "d_acc_real": acc_real, "d_acc_fake": acc_fake, "g_loss": 1.4} for i in range(n)]


HEALTHY_QUALITY = {"kind": "fid_kid", "values": {"fid": 12.0, "fid_real_vs_real": 1.5, "kid": 0.01, "kid_std": 0.0,
                                                 "kid_real_vs_real": 0.0, "kid_real_vs_real_std": 0.0,
                                                 "non_finite_generated": 0},
                   "fingerprint": {"dataset": "mnist5k", "split": "test", "seed": 0}}
HEALTHY_EVAL = {"step": 1000, "generator": "G", "results": {
    "memorization": {"metric": "memorization", "text": "", "fingerprint": {}, "values": {
        "gen_median_distance": 9.0, "test_median_distance": 9.2, "ratio": 0.98, "near_copy_threshold": 5.0,
        "near_copy_share": 0.012, "test_near_copy_share": 0.01}},
    "entropy": {"metric": "entropy", "text": "", "fingerprint": {}, "values": {"entropy": 40.0, "entropy_real": 40.5}},
}}
HEALTHY_MEASUREMENTS = {
    "checkpoints": ["ckpt-0000800.safetensors", "ckpt-0000900.safetensors", "ckpt-0001000.safetensors"],
    "weights": {"checkpoint": "ckpt-0001000.safetensors", "non_finite": 0, "total": 1000},
    "fid_trend": {"points": [{"step": 800, "fid": 12.3, "fid_real_vs_real": 1.5},
                             {"step": 900, "fid": 12.1, "fid_real_vs_real": 1.5},
                             {"step": 1000, "fid": 12.0, "fid_real_vs_real": 1.5}]},
    "classes": {"counts": [100, 95, 105, 98, 102, 99, 101, 97, 103, 100], "classifier": "digit-mnist5k", "n": 1000},
}


def craft(folder: Path, metrics: list[dict] | None = None, **files: Any) -> Path:
    """A run folder: config.json, metrics.jsonl, one checkpoint and the JSON files given by name
    (quality, eval, doctor, diverged, model_figures); ``None`` leaves a file out."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(files.pop("config", HEALTHY_CONFIG)))
    (folder / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in (metrics or healthy_metrics())))
    (folder / "checkpoints").mkdir()
    save_file({"G.w": torch.zeros(2)}, str(folder / "checkpoints" / "ckpt-0001000.safetensors"),
              metadata={"gankit": json.dumps({"format_version": 1, "step": 1000, "time": "2026-12-04T09:00:00"})})
    defaults = {"quality": HEALTHY_QUALITY, "eval": HEALTHY_EVAL, "doctor": HEALTHY_MEASUREMENTS}
    for name, content in {**defaults, **files}.items():
        if content is not None:
            (folder / f"{name}.json").write_text(json.dumps(content))
    return folder
