"""Shared checks of the conditional families (CGAN, ACGAN, InfoGAN): determinism and resume round trips."""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.config import Config
from gankit.plugins import load_config
from gankit.engine.checkpoint import load_latest
from gankit.engine.trainer import train
from tests.conftest import TINY_IMAGE


def tiny(*overrides: str, base: list[str] = TINY_IMAGE) -> Config:
    return load_config(overrides=[*base, *overrides])


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    """Every tensor of the newest checkpoint that is a network weight (not optimiser or RNG state)."""
    tensors = load_latest(Path(run_dir) / "checkpoints").tensors
    return {k: v for k, v in tensors.items() if k.split(".")[0] in {"G", "D", "Q", "G_ema"}}


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]


def check_determinism(cfg: Config, tmp_path: Path, nets: set[str]) -> None:
    """Two runs with one seed give bitwise equal weights of ``nets``; another seed gives other weights."""
    a = weights(train(cfg, run_dir=tmp_path / "a", progress=False).run_dir)
    b = weights(train(cfg, run_dir=tmp_path / "b", progress=False).run_dir)
    assert {k.split(".")[0] for k in a} == nets
    assert_same(a, b)
    c = weights(train(load_config(base=cfg.to_dict(), overrides=["seed=1"]), run_dir=tmp_path / "c",
                      progress=False).run_dir)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def check_resume(cfg: Config, tmp_path: Path) -> None:
    """N steps straight equal N/2 steps, a checkpoint, and a resume to N: bitwise."""
    full = train(cfg, run_dir=tmp_path / "full", progress=False)
    half = cfg.train.steps // 2
    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == half)
    assert part.interrupted and part.step == half
    resumed = train(resume=part.run_dir, progress=False)
    assert resumed.step == cfg.train.steps
    assert_same(weights(full.run_dir), weights(resumed.run_dir))
