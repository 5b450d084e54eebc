"""A small, valid gankit checkpoint (tensors + metadata as the trainer writes them), for checkpoint tests."""

from __future__ import annotations

from typing import Any

import torch

from gankit.config import Config
from gankit.engine.checkpoint import optimizer_to_flat
from gankit.engine.seed import rng_state


def valid_checkpoint(step: int = 1, **meta_changes: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, meta) of a checkpoint that passes :func:`gankit.engine.checkpoint.validate_meta`."""
    torch.manual_seed(step)
    G = torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(G.parameters(), lr=1e-3)
    G(torch.randn(3, 2)).sum().backward()
    opt.step()
    og_t, og_meta = optimizer_to_flat(opt, "opt_g")
    rng_t, rng_meta = rng_state()
    tensors = {f"G.{k}": v.detach().clone() for k, v in G.state_dict().items()} | og_t | rng_t
    meta = {"step": step, "images_seen": 16 * step, "config": Config().to_dict(), "opt_g": og_meta, "opt_d": None,
            "sampler": {"epoch": 0, "position": 0}, "precision": {}, "lr_decay": {"kind": "none", "total_steps": None},
            "rng": rng_meta, "nets": ["G"]}
    meta.update(meta_changes)
    return tensors, meta
