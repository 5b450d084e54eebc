"""Throughput of the scale switches on the CPU: 2 processes (torchrun, gloo) vs 1, and bf16 vs fp32.

The default main job (DCGAN on mnist5k, global batch 64) runs ``--steps`` generator steps per run, each
run a fresh process (or a fresh torchrun of 2 processes), its loop time read from metrics.jsonl
(start-up, data loading and evaluation excluded). The variants run interleaved, rotating the order
every round, and the ratios are taken within each round, so the slow drifts of a shared machine cancel:

- ``1p x 2t``: one process, 2 threads (what `gankit train` does on this 2-core machine);
- ``1p x 1t``: one process, 1 thread;
- ``2p x 1t``: `torchrun --nproc_per_node=2`, one thread each: the same global batch, 32 per process;
- ``bf16``: one process, 2 threads, ``train.precision=bf16``.

    python benchmarks/scale.py [--steps 100] [--rounds 5]

Writes the section "scale" of docs/benchmarks.md.
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
from _report import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "1p x 2t": {"threads": "2", "procs": 1, "extra": []},
    "1p x 1t": {"threads": "1", "procs": 1, "extra": []},
    "2p x 1t": {"threads": "1", "procs": 2, "extra": []},
    "bf16": {"threads": "2", "procs": 1, "extra": ["train.precision=bf16"]},
}


def run(variant: str, steps: int, run_dir: Path) -> float:
    """Loop seconds of one run of ``variant``."""
    v = VARIANTS[variant]
    sets = [f"train.steps={steps}", f"train.log_every={steps}", "train.checkpoint_every=0", "train.sample_every=0",
            "eval.at_end=false", "train.tensorboard=false", "train.device=cpu", *v["extra"]]
    args = ["-m", "gankit", "train", "--run-dir", str(run_dir), *[a for s in sets for a in ("--set", s)]]
    if v["procs"] > 1:
        args = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={v['procs']}", *args]
    env = {**os.environ, "OMP_NUM_THREADS": v["threads"], "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    last = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    return float(last["time_s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    names = list(VARIANTS)
    times: dict[str, list[float]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                times[name].append(run(name, args.steps, Path(tmp) / f"{r}-{name.replace(' ', '')}"))
            print(f"round {r}: " + "  ".join(f"{n} {times[n][-1]:.2f}s" for n in names), flush=True)
    ratio = {
        "2p x 1t / 1p x 2t": [a / b for a, b in zip(times["1p x 2t"], times["2p x 1t"])],
        "2p x 1t / 1p x 1t": [a / b for a, b in zip(times["1p x 1t"], times["2p x 1t"])],
        "bf16 / fp32": [a / b for a, b in zip(times["1p x 2t"], times["bf16"])],
    }
    med = {k: statistics.median(v) for k, v in ratio.items()}
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    bf16_units = ("this CPU has " + ", ".join(f for f in ("avx512_bf16", "amx_bf16") if f in flags)
                  if "bf16" in flags else "this CPU reports none")
    rows = "\n".join(f"| {n} | {statistics.median(times[n]):.2f} | {args.steps / statistics.median(times[n]):.2f} | "
                     f"{min(times[n]):.2f} - {max(times[n]):.2f} |" for n in names)
    ratios = "\n".join(f"| {k} | **{statistics.median(v):.2f}** | {', '.join(f'{q:.2f}' for q in v)} |"
                       for k, v in ratio.items())
    body = f"""## Scale switches on the CPU: torchrun and bf16

`python benchmarks/scale.py --steps {args.steps} --rounds {args.rounds}`: the default DCGAN on mnist5k, global batch 64,
{args.steps} generator steps per run, loop time only (metrics.jsonl), each run a fresh process, variants interleaved.

| variant | median loop s | steps/s | range (s) |
|---|---|---|---|
{rows}

Throughput ratios (above 1: the first is faster), median and per round:

| ratio | median | rounds |
|---|---|---|
{ratios}

`2p x 1t` is `torchrun --nproc_per_node=2 -m gankit train` with the gloo backend: the same global batch
(32 per process), the gradients of each optimiser step averaged with one all-reduce. On a 2-core machine
it competes with one process using both cores through PyTorch's intra-op threads, so this measures the
cost of the process-level scheme, not a speed-up a larger machine would show: two single-threaded
processes reach {med['2p x 1t / 1p x 1t']:.2f}x one single-threaded process (ideal 2x; each process also pays
the all-reduces, the buffer broadcasts of the generator's BatchNorm and the per-step stop agreement) and
{med['2p x 1t / 1p x 2t']:.2f}x one process with two threads. bf16 / fp32 = {med['bf16 / fp32']:.2f}x: whether
bf16 helps on a CPU depends on bf16 units ({bf16_units}). Rounds are noisy on a shared machine; read the medians.
"""
    print(f"wrote {write_section('scale', body)}")


if __name__ == "__main__":
    main()
