"""Data-parallel training under torchrun (gloo on the CPU): 2 processes follow 1 process, rank 0 writes,
and a 2-process run stopped by SIGTERM and resumed ends bitwise equal to an uninterrupted one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gankit.data import BatchStream, Split
from gankit.engine.checkpoint import load_latest
from gankit.engine.distributed import Dist
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.plugins import load_config

# The README's command, shrunk: ring8's MLP GAN (no BatchNorm), EMA on, global batch 64.
TINY = ["train.steps=24", "train.batch_size=64", "data.n_train=512", "net.width=32", "net.depth=2",
        "train.log_every=4", "train.checkpoint_every=8", "train.sample_every=0", "train.tensorboard=false",
        "eval.at_end=false", "train.ema=true", "train.device=cpu"]

# Float tolerance of "2 processes reach the weights of 1 process": the same arithmetic except that
# the batch mean is formed as the mean of two half-batch means (gradients are averaged after backward),
# which rounds differently in float32. Measured after 24 Adam steps: max |diff| ~1e-6.
ATOL, RTOL = 2e-5, 1e-4


def torchrun(args: list[str], run_dir: Path, nproc: int = 2, **popen) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[2])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "gankit", "train", *args]
    return subprocess.Popen(cmd, env=env, cwd=run_dir.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, **popen)


def finish(proc: subprocess.Popen, timeout: float = 240) -> str:
    out, _ = proc.communicate(timeout=timeout)
    return out


def overrides(extra: list[str] = ()) -> list[str]:
    return [a for o in [*TINY, *extra] for a in ("--set", o)]


def tensors(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_latest(run_dir / "checkpoints").tensors


def test_two_processes_follow_one_process(tmp_path):
    one = train(load_config(preset="ring8", overrides=TINY), run_dir=tmp_path / "one", progress=False)
    proc = torchrun(["--preset", "ring8", "--run-dir", str(tmp_path / "two"), *overrides()], tmp_path / "two")
    out = finish(proc)
    assert proc.returncode == 0, out[-2000:]
    a, b = tensors(one.run_dir), tensors(tmp_path / "two")
    assert a.keys() == b.keys()
    nets = [k for k in a if k.split(".")[0] in ("G", "D", "G_ema")]
    worst = max(float((a[k] - b[k]).abs().max()) for k in nets)
    for k in nets:
        torch.testing.assert_close(b[k], a[k], atol=ATOL, rtol=RTOL, msg=lambda m: f"{k}: {m}")
    assert worst > 0  # two processes really ran: the half-batch means round differently
    # the same batches, in the same order: the sampler's position and the images seen agree exactly
    meta_one, meta_two = load_latest(one.run_dir / "checkpoints").meta, load_latest(tmp_path / "two" / "checkpoints").meta
    assert meta_two["sampler"] == meta_one["sampler"] and meta_two["images_seen"] == meta_one["images_seen"] == 24 * 64
    # rank 0 alone wrote the run: one metrics line per log step, stats averaged over the two processes
    lines = (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [4, 8, 12, 16, 20, 24]
    for r1, r2 in zip(one.history, map(json.loads, lines)):
        assert r1["step"] == r2["step"]
        assert r2["g_loss"] == pytest.approx(r1["g_loss"], rel=1e-4, abs=1e-5)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in one.run_dir.iterdir())


def test_sigterm_stops_a_two_process_run_that_then_resumes_bitwise(tmp_path):
    long = ["train.steps=300", "train.checkpoint_every=50", "train.log_every=10"]
    # The uninterrupted reference runs first, on its own: two torchrun jobs side by side on a loaded
    # machine once lost the reference's rank 1 (SIGABRT) just as the other job was stopped (CI, 2026-12-04).
    full = torchrun(["--preset", "ring8", "--run-dir", str(tmp_path / "full"), *overrides(long)], tmp_path / "full")
    out = finish(full)
    assert full.returncode == 0, out[-3000:]
    part = torchrun(["--preset", "ring8", "--run-dir", str(tmp_path / "part"), *overrides(long)], tmp_path / "part",
                    start_new_session=True)
    metrics = tmp_path / "part" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.exists() and metrics.read_text().count("\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(part.pid, signal.SIGTERM)  # as a scheduler does: every process of the job gets SIGTERM
    out = finish(part)
    assert "SIGTERM: finishing this step" in out, out[-2000:]
    assert list((tmp_path / "part" / "checkpoints").glob("ckpt-*")), out[-3000:]
    stopped = load_latest(tmp_path / "part" / "checkpoints").meta["step"]
    assert 20 <= stopped < 300, (stopped, out[-2000:])
    resumed = torchrun(["--resume", str(tmp_path / "part")], tmp_path / "part")
    out = finish(resumed)
    assert resumed.returncode == 0 and f"at step {stopped}" in out, out[-2000:]
    a, b = tensors(tmp_path / "full"), tensors(tmp_path / "part")
    assert a.keys() == b.keys()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []


def test_batch_size_must_split_over_the_processes():
    split = Split(torch.zeros(100, 2))
    with pytest.raises(ConfigError, match="train.batch_size: 63 does not split evenly over 2 processes"):
        BatchStream(split, 63, seed=0, rank=0, world=2)
    # each rank keeps its contiguous share of the same global batch
    split = Split(torch.arange(100.0)[:, None])
    whole = BatchStream(split, 8, seed=0).next().x
    shares = [BatchStream(split, 8, seed=0, rank=r, world=2).next().x for r in (0, 1)]
    assert torch.equal(torch.cat(shares), whole)


def test_one_process_needs_no_group():
    dist = Dist()
    assert not dist.enabled and dist.is_main
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.full((3,), 2.0)
    dist.average_gradients([p])  # no process group: nothing to average
    assert torch.equal(p.grad, torch.full((3,), 2.0))
    assert dist.any(True, torch.device("cpu")) and not dist.any(False, torch.device("cpu"))
    assert dist.broadcast_object("x") == "x"
