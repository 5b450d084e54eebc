"""Faults that clusters produce: SIGTERM checkpoints and stops, a diverged run stops before it saves NaN
weights, and two processes cannot write into one run folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gankit.cli import main
from gankit.engine.checkpoint import list_checkpoints, load_latest
from gankit.engine.faults import NonFiniteWatch, TrainingDiverged
from gankit.engine.distributed import Dist
from gankit.engine.rundir import RunDir
from gankit.engine.trainer import train
from gankit.errors import GankitError
from gankit.models.gan import GAN
from gankit.plugins import load_config


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_latest(Path(run_dir) / "checkpoints").tensors


def test_sigterm_checkpoints_and_stops_like_ctrl_c(tiny_vector_config, tmp_path):
    cfg = load_config(base=tiny_vector_config.to_dict(), overrides=["train.checkpoint_every=5"])
    full = train(cfg, run_dir=tmp_path / "full", progress=False)

    def term_at_7(step: int) -> bool:
        if step == 7:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)  # a second SIGTERM (scheduler + torchrun) does not abort
        return False

    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=term_at_7)
    assert part.interrupted and part.step == 7
    assert [p.name for p in list_checkpoints(part.run_dir / "checkpoints")][-1] == "ckpt-0000007.safetensors"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is only installed while training
    resumed = train(resume=part.run_dir, progress=False)
    a, b = weights(full.run_dir), weights(resumed.run_dir)
    assert [k for k in a if not torch.equal(a[k], b[k])] == []


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tiny_vector_config, tmp_path,
                                                                               monkeypatch):
    cfg = load_config(base=tiny_vector_config.to_dict(),
                      overrides=["train.checkpoint_every=5", "train.log_every=4", "eval.at_end=true"])
    g_step = GAN.g_step
    calls = {"n": 0}

    def diverging(self, batch):
        out = g_step(self, batch)
        calls["n"] += 1
        if calls["n"] >= 11:  # generator step 11 onwards: the loss is nan
            out.loss = out.loss * float("nan")
        return out

    monkeypatch.setattr(GAN, "g_step", diverging)
    with pytest.raises(TrainingDiverged) as e:
        train(cfg, run_dir=tmp_path / "r", progress=False)
    message = str(e.value)
    assert message.startswith("step 11: g_loss is not finite (nan or inf); the run stopped without saving it.")
    assert "The newest checkpoint, ckpt-0000010.safetensors, is the last good one" in message
    assert "\n" not in message
    # the checkpoint at step 10 is the newest; nothing after the divergence was written
    assert [p.name for p in list_checkpoints(tmp_path / "r" / "checkpoints")] == ["ckpt-0000005.safetensors",
                                                                                  "ckpt-0000010.safetensors"]
    assert all(torch.isfinite(t).all() for k, t in weights(tmp_path / "r").items() if t.is_floating_point())
    assert not (tmp_path / "r" / "quality.json").exists()
    steps = [line for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert len(steps) == 2  # steps 4 and 8 were logged; the log at 12 found the nan first


def test_watch_names_the_first_bad_step_and_weights():
    watch = NonFiniteWatch("cpu")
    for step, value in [(1, 0.5), (2, float("inf")), (3, float("nan"))]:
        watch.add("d_loss", torch.tensor(value), step)
        watch.add("g_loss", torch.tensor(1.0), step)
    with pytest.raises(TrainingDiverged, match=r"^step 2: d_loss is not finite"):
        watch.check(Dist())
    clean = NonFiniteWatch("cpu")
    clean.add("g_loss", torch.tensor(1.0), 1)
    clean.check(Dist())  # nothing to report
    net = torch.nn.Linear(2, 2)
    with torch.no_grad():
        net.weight[0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="a weight is not finite"):
        clean.check(Dist(), model=net)


def test_a_second_process_cannot_write_into_a_running_folder(tiny_vector_config, tmp_path, capsys):
    first = train(tiny_vector_config, run_dir=tmp_path / "r", progress=False)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from gankit.engine.rundir import RunDir; RunDir(sys.argv[1]).lock(); "
        "print('locked', flush=True); time.sleep(60)"), str(first.run_dir)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = (first.run_dir / "metrics.jsonl").read_text()
        with pytest.raises(GankitError, match=rf"another gankit process \(pid {holder.pid}\) is writing"):
            train(resume=first.run_dir, overrides=["train.steps=30"], progress=False)
        assert main(["train", "--resume", str(first.run_dir), "--set", "train.steps=30"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is writing into this run folder" in err
        assert (first.run_dir / "metrics.jsonl").read_text() == before  # nothing was touched
    finally:
        holder.kill()
        holder.wait()
    # the lock dies with its holder: the run resumes
    assert train(resume=first.run_dir, overrides=["train.steps=30"], progress=False).step == 30


def test_the_lock_is_released_when_training_ends(tiny_vector_config, tmp_path):
    run = train(tiny_vector_config, run_dir=tmp_path / "r", progress=False).run_dir
    other = RunDir(run)
    other.lock()  # would raise if train() still held it
    other.unlock()
