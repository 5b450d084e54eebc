"""One run's learning curve from its kept checkpoints: the class fidelity of G_ema at every checkpoint.

For a class-conditional run (cgan, acgan) the figure is the bundled digit classifier's accuracy on
``--per-class`` images of each requested class; for InfoGAN the Hungarian code -> digit matching (as in
benchmarks/conditional.py, eval seed 2024). Train with ``train.checkpoint_every=N`` and
``train.keep_checkpoints`` large enough to keep them all, e.g.

    OMP_NUM_THREADS=1 python benchmarks/conditional.py --families acgan --steps 6000 \\
        --set train.checkpoint_every=1000 --set train.keep_checkpoints=6
    python benchmarks/checkpoint_curve.py runs/bench-conditional/acgan-6000_train-checkpoint_every-1000_...
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gankit.api import load_run  # noqa: E402
from gankit.engine.checkpoint import list_checkpoints, load_checkpoint  # noqa: E402
from gankit.metrics.extractor import load_extractor  # noqa: E402
from gankit.models.infogan import code_class_matching  # noqa: E402
from gankit.sampling import generate  # noqa: E402

EVAL_SEED = 2024


def generators(run_dir: Path, model) -> Iterator[tuple[int, torch.nn.Module]]:
    """(step, G_ema in eval mode) for every checkpoint the run kept, oldest first (one G, reloaded)."""
    G = copy.deepcopy(model.nets["G"]).eval()
    for path in list_checkpoints(Path(run_dir) / "checkpoints"):
        ckpt = load_checkpoint(path)
        G.load_state_dict(ckpt.prefixed("G_ema"))
        yield int(ckpt.meta["step"]), G


@torch.no_grad()
def class_fidelity(G: torch.nn.Module, prior, extractor, per_class: int, matched: bool) -> tuple[float, list[int]]:
    """Accuracy of the digit classifier on ``per_class`` images per class (or code, ``matched``: after the
    Hungarian code -> digit matching), and the mapping used (identity when not matched)."""
    k = prior.num_classes
    asked = torch.arange(k).repeat_interleave(per_class)
    pred = extractor.classify(generate(G, prior.sample(k * per_class, seed=EVAL_SEED, y=asked)))
    if matched:
        acc, mapping = code_class_matching(asked.numpy(), pred.numpy(), k)
        return float(acc), mapping.tolist()
    return float((pred == asked).float().mean()), list(range(k))


def curve(run_dir: Path, model, per_class: int = 200) -> list[dict]:
    extractor = load_extractor("digit-mnist5k")
    matched = model.__class__.__name__ == "InfoGAN"
    return [{"step": step, "class_fidelity": class_fidelity(G, model.prior, extractor, per_class, matched)[0]}
            for step, G in generators(run_dir, model)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("--per-class", type=int, default=200)
    args = ap.parse_args()
    _, model, _ = load_run(args.run_dir)
    print(json.dumps(curve(Path(args.run_dir), model, args.per_class)))


if __name__ == "__main__":
    main()
