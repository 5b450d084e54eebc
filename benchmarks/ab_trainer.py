"""Before/after A/B of the trainer: the same default run from two checkouts of gankit, interleaved.

Use it when a change touches the training loop, to show what the change itself costs (the trainer
overhead benchmark compares against a hand-written loop, whose noise on a shared machine is larger than
a few per cent):

    git worktree add /tmp/gankit-before 77cbaab
    python benchmarks/ab_trainer.py --before /tmp/gankit-before --after . [--steps 150] [--rounds 6]

Each run is a fresh process (`gankit train`, the default DCGAN on mnist5k) of ``--steps`` generator steps
with checkpoints, grids, TensorBoard and the end-of-run figure off; its loop time is read from
metrics.jsonl. Rounds alternate the order. Writes the section "trainer_ab" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import git_rev, write_section  # noqa: E402


def loop_seconds(checkout: Path, steps: int, run_dir: Path) -> float:
    sets = [f"train.steps={steps}", f"train.log_every={steps}", "train.checkpoint_every=0", "train.sample_every=0",
            "eval.at_end=false", "train.tensorboard=false"]
    cmd = [sys.executable, "-c", "import sys; from gankit.cli import main; sys.exit(main())", "train",
           "--run-dir", str(run_dir), *[a for s in sets for a in ("--set", s)]]
    subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(checkout)}, check=True, capture_output=True,
                   cwd=tempfile.gettempdir())
    return float(json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])["time_s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    before, after = args.before.resolve(), args.after.resolve()
    times: dict[str, list[float]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = [("before", before), ("after", after)][:: 1 if r % 2 == 0 else -1]
            for name, checkout in order:
                times[name].append(loop_seconds(checkout, args.steps, Path(tmp) / f"{r}-{name}"))
            print(f"round {r}: before {times['before'][-1]:.2f}s  after {times['after'][-1]:.2f}s", flush=True)
    ratios = [b / a for b, a in zip(times["before"], times["after"])]
    rev_before = subprocess.run(["git", "-C", str(before), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip() or str(before)
    body = f"""## The trainer before and after a change

`python benchmarks/ab_trainer.py --before CHECKOUT --after . --steps {args.steps} --rounds {args.rounds}`: the default
DCGAN on mnist5k, {args.steps} generator steps per run, loop time only, each run a fresh process, the two
checkouts interleaved. Before: gankit {rev_before}; after: gankit {git_rev()}.

| | before | after |
|---|---|---|
| median loop seconds | {statistics.median(times['before']):.2f} | {statistics.median(times['after']):.2f} |

Throughput ratio after / before, per round: {', '.join(f'{q:.3f}' for q in ratios)}; **median {statistics.median(ratios):.3f}**
(above 1: the new trainer is faster).
"""
    print(f"median after/before throughput {statistics.median(ratios):.3f}")
    print(f"wrote {write_section('trainer_ab', body)}")


if __name__ == "__main__":
    main()
