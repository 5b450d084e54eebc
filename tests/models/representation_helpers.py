"""Shared checks of the representation families (BiGAN, semi-supervised GAN, VAE, GAN in feature space):
one seed gives bitwise equal weights of EVERY net (encoders and counters included), and N steps straight
equal N/2 steps + a resume."""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.config import Config
from gankit.plugins import load_config
from gankit.engine.checkpoint import load_latest
from gankit.engine.trainer import train
from tests.models.conditional_helpers import assert_same


def net_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    """Every tensor of the newest checkpoint that belongs to a net (all of ``model.nets`` and G_ema)."""
    ckpt = load_latest(Path(run_dir) / "checkpoints")
    nets = set(ckpt.meta["nets"])
    return {k: v for k, v in ckpt.tensors.items() if k.split(".")[0] in nets}


def check_determinism_and_resume(cfg: Config, tmp_path: Path, nets: set[str]) -> dict[str, torch.Tensor]:
    """Same seed twice -> equal weights; another seed -> other weights; half + resume -> equal weights.

    Returns the weights of the straight run."""
    full = net_weights(train(cfg, run_dir=tmp_path / "full", progress=False).run_dir)
    assert {k.split(".")[0] for k in full} == nets
    again = net_weights(train(cfg, run_dir=tmp_path / "again", progress=False).run_dir)
    assert_same(full, again)
    other = net_weights(train(load_config(base=cfg.to_dict(), overrides=["seed=1"]), run_dir=tmp_path / "other",
                              progress=False).run_dir)
    assert any(not torch.equal(full[k], other[k]) for k in full if k.startswith("G."))
    half = cfg.train.steps // 2
    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == half)
    assert part.interrupted and part.step == half
    resumed = train(resume=part.run_dir, progress=False)
    assert resumed.step == cfg.train.steps
    assert_same(full, net_weights(resumed.run_dir))
    return full
