"""Train the bundled digit-classifier feature extractor and write its weights and JSON sidecar.

Trains :class:`gankit.metrics.extractor.DigitClassifier` on the TRAIN split only. The val split picks
the epoch whose weights are kept; the test split is scored once, at the end, for the record and is
never used for any choice. Deterministic: seeded, CPU, its own random generators for shuffling and
augmentation (light random affine: small shifts, rotations and scalings).

Usage::

    python scripts/train_digit_classifier.py --dataset mnist5k   # -> gankit/metrics/weights/digit-mnist5k.*
    python scripts/train_digit_classifier.py --dataset digits    # -> gankit/metrics/weights/digit-digits.*
    python scripts/train_digit_classifier.py --dataset digits --out /tmp/d.safetensors --epochs 5
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import math
import platform
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from gankit.data.base import Dataset
from gankit.data.digits import load_digits_dataset, load_mnist5k
from gankit.metrics.extractor import (
    DigitClassifier,
    calibrate_feature_scale,
    file_sha256,
    sidecar_path,
    weights_path,
)


@dataclass(frozen=True)
class Recipe:
    """Per-dataset training settings (the only ones that differ are here)."""

    epochs: int
    max_shift_px: float  # augmentation: uniform random shift in pixels, each axis
    max_rotate_deg: float
    max_scale: float  # scale drawn from [1 - max_scale, 1 + max_scale]
    lr: float = 2e-3
    batch_size: int = 64
    weight_decay: float = 1e-4


RECIPES = {
    "mnist5k": Recipe(epochs=30, max_shift_px=2.0, max_rotate_deg=10.0, max_scale=0.1),
    # 8x8 digits: one pixel is an eighth of the image, so the shifts stay small.
    "digits": Recipe(epochs=60, max_shift_px=0.5, max_rotate_deg=8.0, max_scale=0.08),
}
LOADERS = {"mnist5k": load_mnist5k, "digits": load_digits_dataset}


def augment(x: torch.Tensor, recipe: Recipe, g: torch.Generator) -> torch.Tensor:
    """A random small affine map of each image (N, 1, H, W) in [-1, 1]; background stays -1."""
    n, _, h, w = x.shape
    angle = (torch.rand(n, generator=g) * 2 - 1) * math.radians(recipe.max_rotate_deg)
    scale = 1 + (torch.rand(n, generator=g) * 2 - 1) * recipe.max_scale
    shift = (torch.rand(n, 2, generator=g) * 2 - 1) * recipe.max_shift_px
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin, shift[:, 0] * 2 / w], dim=1),  # grid units: 2 / side per pixel
            torch.stack([sin, cos, shift[:, 1] * 2 / h], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Sample x + 1 with zero padding, so pixels moved in from outside are background (-1), not grey (0).
    return F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1


@torch.no_grad()
def accuracy(net: DigitClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    pred = torch.cat([net(chunk).argmax(1) for chunk in x.split(500)])
    return (pred == y).float().mean().item()


def train(data: Dataset, recipe: Recipe, seed: int, log: bool = True) -> tuple[DigitClassifier, dict]:
    """Train on data's train split; keep the weights of the epoch with the best val accuracy (last on ties)."""
    torch.manual_seed(seed)  # the network's initial weights
    g = torch.Generator().manual_seed(seed + 1)  # shuffling and augmentation, apart from init
    train_split, val = data.split("train"), data.split("val")
    net = DigitClassifier(data.info.image_size)
    opt = torch.optim.AdamW(net.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    steps_per_epoch = math.ceil(len(train_split) / recipe.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=recipe.lr, total_steps=recipe.epochs * steps_per_epoch, pct_start=0.15
    )
    best = (-1.0, 0, copy.deepcopy(net.state_dict()))
    for epoch in range(1, recipe.epochs + 1):
        net.train()
        order = torch.randperm(len(train_split), generator=g)
        total = 0.0
        for idx in order.split(recipe.batch_size):
            x = augment(train_split.float_x(idx), recipe, g)
            loss = F.cross_entropy(net(x), train_split.y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        val_acc = accuracy(net, val.float_x(), val.y)
        if val_acc >= best[0]:
            best = (val_acc, epoch, copy.deepcopy(net.state_dict()))
        if log:
            print(f"epoch {epoch:3d}  loss {total / len(train_split):.4f}  val acc {val_acc:.4f}", flush=True)
    net.load_state_dict(best[2])
    return net.eval(), {"val_accuracy": best[0], "chosen_epoch": best[1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(RECIPES), default="mnist5k")
    parser.add_argument("--out", type=Path, default=None, help="weights file (default: the shipped location)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epoch count")
    parser.add_argument(
        "--threads", type=int, default=1,
        help="CPU threads (default 1: the same bits whatever the core count, and no slowdown on shared cores)",
    )
    args = parser.parse_args(argv)

    recipe = RECIPES[args.dataset]
    if args.epochs is not None:
        recipe = Recipe(**{**recipe.__dict__, "epochs": args.epochs})
    out = args.out or weights_path(f"digit-{args.dataset}")
    data = LOADERS[args.dataset]()

    # Global torch settings for the run only, restored afterwards (main may be called from a test).
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)
    try:
        start = time.perf_counter()
        net, result = train(data, recipe, args.seed)
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    test_acc = accuracy(net, data.split("test").float_x(), data.split("test").y)  # scored once, chosen by nothing
    scale = calibrate_feature_scale(net, data.split("train").float_x())

    out.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in net.state_dict().items()}
    save_file(tensors, str(out), metadata={"name": f"digit-{args.dataset}", "image_size": str(net.image_size)})
    out.chmod(0o644)  # safetensors creates the file owner-only; a shipped package file must be readable by all
    sidecar = {
        "name": f"digit-{args.dataset}",
        "file": out.name,
        "sha256": file_sha256(out),
        "architecture": f"DigitClassifier(image_size={net.image_size}), features: 128-dim ReLU penultimate layer",
        "feature_scale": scale,
        "feature_scale_rule": "mean squared feature = 1 on the train split (stored as tensor feature_scale)",
        "dataset": args.dataset,
        "split": "train",
        "n_train": len(data.split("train")),
        "model_selection": "epoch with the best val accuracy (last on ties); test never used for a choice",
        "epochs": recipe.epochs,
        "chosen_epoch": result["chosen_epoch"],
        "seed": args.seed,
        "recipe": recipe.__dict__,
        "val_accuracy": round(result["val_accuracy"], 6),
        "n_val": len(data.split("val")),
        "test_accuracy": round(test_acc, 6),
        "n_test": len(data.split("test")),
        "train_seconds": round(seconds, 1),
        "torch_version": torch.__version__,
        "torch_threads": args.threads,
        "python_version": platform.python_version(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(
            ["python", "scripts/train_digit_classifier.py",
             *map(shlex.quote, argv if argv is not None else sys.argv[1:])]
        ),
    }
    sidecar_path(out).write_text(json.dumps(sidecar, indent=2) + "\n")
    print(
        f"digit-{args.dataset}: val acc {result['val_accuracy']:.4f} (epoch {result['chosen_epoch']}/{recipe.epochs}), "
        f"test acc {test_acc:.4f}; trained in {seconds:.0f} s on {args.threads} thread(s)"
    )
    print(f"wrote {out} (sha256 {sidecar['sha256'][:12]}..) and {sidecar_path(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
