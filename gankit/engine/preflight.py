"""Checks a training config against its data and the machine before anything is allocated or written.

``gankit train`` runs them at start-up, before the run folder exists, and ``gankit train --dry-run``
runs the same ones, so that every value that would make the real run fail for a reason the config
could have known is refused by the dry run too (issue 19):

- :func:`estimate_training_bytes`: the networks' parameters (built on PyTorch's ``meta`` device, which
  allocates nothing) times what training keeps per parameter (weights, gradients, Adam's two moments,
  the EMA copy), plus the activations of one batch through G and D (measured on ``meta`` tensors by
  forward hooks), against :func:`gankit.limits.memory_budget`; the error names the key to lower;
- :func:`check_eval_n`: ``eval.n`` against the splits the end-of-run figure draws from (today's FID
  would otherwise fail after the whole training).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.limits import check_memory, human_bytes

# bytes kept per parameter while training: fp32 weight, gradient, Adam's exp_avg and exp_avg_sq, G_ema
BYTES_PER_PARAMETER = 4 * 5
ACTIVATION_FACTOR = 3  # forward outputs kept for backward, their gradients, and workspace


def _meta_nets(cfg, info) -> tuple[nn.Module, nn.Module] | None:
    """(G, D) of ``cfg.net`` built on the meta device (no memory), or None where a net cannot be."""
    from gankit.nets import build_nets

    try:
        with torch.device("meta"):
            return build_nets(cfg.net, info)
    except ConfigError:
        raise
    except Exception:  # noqa: BLE001 - a net that cannot be built on meta is simply not estimated
        return None


def _activation_numel(net: nn.Module, x: torch.Tensor) -> int | None:
    """Elements of every module output of one forward pass of ``net`` on the meta tensor ``x``."""
    total = [0]

    def hook(module, inputs, output):
        for t in output if isinstance(output, (tuple, list)) else (output,):
            if isinstance(t, torch.Tensor):
                total[0] += t.numel()

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    try:
        with torch.no_grad():
            net(x)
    except Exception:  # noqa: BLE001 - a net whose forward takes other inputs: not estimated
        return None
    finally:
        for h in handles:
            h.remove()
    return total[0]


def estimate_training_bytes(cfg, info) -> dict[str, Any] | None:
    """Bytes training ``cfg`` on data ``info`` needs, split into parameters and activations, or None when
    the nets cannot be built without memory. Allocates nothing."""
    nets = _meta_nets(cfg, info)
    if nets is None:
        return None
    G, D = nets
    params = sum(p.numel() for net in nets for p in net.parameters())
    batch = max(cfg.train.batch_size, cfg.train.grid_size)
    z_dim = cfg.net.z_dim
    per_sample = 0
    for net, x in ((G, torch.empty((1, z_dim), device="meta")),
                   (D, torch.empty((1, *info.shape), device="meta"))):
        n = _activation_numel(net, x)
        per_sample += n or 0
    est = {"parameters": params, "parameter_bytes": params * BYTES_PER_PARAMETER,
           "activation_bytes": per_sample * batch * 4 * ACTIVATION_FACTOR, "minibatch_bytes": 0}
    kernels, dim = cfg.reg.minibatch_discrimination, cfg.reg.minibatch_kernel_dim
    if kernels:  # the family adds T (features x B x C) to D, and M (batch x B x C), |M_i - M_j| (batch^2 x B x C)
        try:
            with torch.no_grad():
                features = D(torch.empty((1, *info.shape), device="meta"), with_features=True)[1].shape[-1]
        except Exception:  # noqa: BLE001 - a D without features: minibatch discrimination refuses it elsewhere
            features = 0
        est["minibatch_bytes"] = (features * kernels * dim * BYTES_PER_PARAMETER
                                  + (batch + batch * batch) * kernels * dim * 4 * ACTIVATION_FACTOR)
    return est


def check_training_memory(cfg, info) -> None:
    """A :class:`ConfigError` naming the key to lower when training ``cfg`` cannot fit in memory."""
    est = estimate_training_bytes(cfg, info)
    if est is None:
        return
    total = est["parameter_bytes"] + est["activation_bytes"] + est["minibatch_bytes"]
    if est["minibatch_bytes"] > est["parameter_bytes"] + est["activation_bytes"]:
        key = "reg.minibatch_discrimination"
        what = (f"{cfg.reg.minibatch_discrimination:,} kernels of dimension {cfg.reg.minibatch_kernel_dim:,} over "
                f"batches of {cfg.train.batch_size:,}")
    elif est["parameter_bytes"] >= est["activation_bytes"]:
        key = "net.params" if cfg.net.params else "net.width"
        what = f"{est['parameters']:,} parameters of G and D at net.width={cfg.net.width}"
    else:
        batch = max(cfg.train.batch_size, cfg.train.grid_size)
        if batch > 1024:  # the batch is what is large
            key = "train.batch_size" if cfg.train.batch_size >= cfg.train.grid_size else "train.grid_size"
        elif cfg.data.image_size is not None and math.prod(info.shape) > 3 * 64 * 64:
            key = "data.image_size"
        else:  # a normal batch of normal samples: the layers are what is wide
            key = "net.params" if cfg.net.params else "net.width"
        what = (f"activations of {max(cfg.train.batch_size, cfg.train.grid_size):,} samples of shape "
                f"{tuple(info.shape)} through G and D, {human_bytes(est['activation_bytes'])}")
    check_memory(total, key, what + "; train.batch_size, net.width and the image size all scale it")


def _figure_splits(dataset) -> list[str] | None:
    """The splits the end-of-training figure draws n samples from besides G's (None: no figure uses n)."""
    from gankit.metrics.extractor import EXTRACTORS

    info = dataset.info
    if getattr(dataset, "digits", None) is not None:  # Stacked MNIST draws its own samples
        return None
    if getattr(dataset, "centres", None) is not None:  # toy mixtures: mode metrics on the reference split
        return []
    shape = tuple(info.shape)
    if info.kind == "image" and len(shape) == 3 and shape[0] == 1 and shape[1:] in {(s, s) for s in EXTRACTORS.values()}:
        return ["train"]  # FID/KID: n of the reference split, and real-vs-real n of train
    return None


def check_eval_n(cfg, dataset) -> None:
    """``eval.n`` (or its default, the reference split's size) against the splits the end-of-training figure
    compares (what :class:`gankit.metrics.context.EvalContext` checks after training), at start-up."""
    if not cfg.eval.at_end:
        return
    extra = _figure_splits(dataset)
    if extra is None:
        return
    info = dataset.info
    reference = len(dataset.split(cfg.eval.split))
    n = cfg.eval.n if cfg.eval.n is not None else (reference if info.kind == "image" else min(2500, reference))
    if n < 2:
        raise ConfigError(f"eval.split: the {cfg.eval.split!r} split of {info.name} holds {reference} samples; the "
                          "end-of-training figure needs at least 2 (add data, or set eval.at_end=false)")
    for split in [cfg.eval.split] + extra:
        available = len(dataset.split(split))
        if n > available:
            raise ConfigError(f"eval.n: {n:,} exceeds the {available:,} samples of {info.name}'s {split!r} "
                              f"split (scores compare equal sample counts); choose eval.n <= {available:,}")


def preflight(cfg, dataset) -> None:
    """Every start-up check of a training config against its dataset and the machine (no allocation)."""
    check_eval_n(cfg, dataset)
    check_training_memory(cfg, dataset.info)
    if not math.isfinite(cfg.train.lr_g * cfg.train.lr_d):  # pragma: no cover - the schema refuses these
        raise ConfigError("train.lr_g / train.lr_d: must be finite")


__all__ = ["check_eval_n", "check_training_memory", "estimate_training_bytes", "preflight"]
