"""Issue 19, the command line: bad input is one line and exit 2 in every command; a bug is one line, exit 1
and a crash log; Ctrl-C is one line and exit 130; half-written files and dead-end run folders lead somewhere."""

import errno
import json
from pathlib import Path

import pytest
import torch

import gankit.cli as cli
from gankit.cli import main
from gankit.engine.checkpoint import checkpoint_name, list_checkpoints, load_latest
from tests.conftest import TINY_IMAGE, copy_run, snapshot

SETS = [arg for kv in TINY_IMAGE for arg in ("--set", kv)]


def _one_error_line(capsys, status_text: str = "gankit: error: ") -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(status_text) and "Traceback" not in err, err
    assert len(err) < 700
    return err


@pytest.mark.parametrize("make_argv, message", [
    (lambda run, tmp: ["sample", str(run), "--out", str(tmp)], "is an existing folder; give a file name"),
    (lambda run, tmp: ["sample", str(run), "--out", str(run / "config.json" / "g.png")], "config.json is a file, not a folder"),
    (lambda run, tmp: ["sample", str(run), "--out", str(tmp / "g.gif")], "has extension '.gif'; allowed: .png, .jpg, .jpeg"),
    (lambda run, tmp: ["sample", str(run), "--out", str(tmp / "g")], "has no extension; allowed: .png"),
    (lambda run, tmp: ["edit", str(run), "--index", "0", "--out", str(tmp)], "is an existing folder"),
    (lambda run, tmp: ["translate", str(run), "--input", str(tmp), "--out", str(run / "config.json")], "is a file; give a folder"),
    (lambda run, tmp: ["translate", str(run), "--input", str(tmp), "--out", str(run / "config.json" / "x")],
     "config.json is a file, not a folder"),
])
def test_output_paths_are_checked_first(tiny_run, tmp_path, capsys, make_argv, message):
    before = snapshot(tiny_run)
    assert main(make_argv(tiny_run, tmp_path)) == 2
    assert message in _one_error_line(capsys)
    assert snapshot(tiny_run) == before and not list(tmp_path.iterdir())


def test_sample_writes_where_it_says(tiny_run, tmp_path, capsys):
    out = tmp_path / "g.jpg"
    assert main(["sample", str(tiny_run), "--n", "4", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith(f"wrote {out}") and out.is_file()


@pytest.mark.parametrize("device, message", [("cdua", "unknown device 'cdua'; choose cpu, cuda, cuda:N or auto"),
                                             ("cuda:99", "cuda:99"), ("cpu:0", "unknown device")])
@pytest.mark.parametrize("command", ["eval", "translate"])
def test_devices_in_every_command(tiny_run, tmp_path, capsys, command, device, message):
    if device == "cuda:99" and not torch.cuda.is_available():
        message = "no CUDA device is available"
    extra = ["--input", str(tiny_run), "--out", str(tmp_path / "o")] if command == "translate" else []
    assert main([command, str(tiny_run), *extra, "--device", device]) == 2
    err = _one_error_line(capsys)
    assert "--device: " in err and message in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda(tiny_run, capsys):
    assert main(["eval", str(tiny_run), "--device", "cuda"]) == 2
    assert "--device: cuda requested but no CUDA device is available; use --device cpu" in _one_error_line(capsys)
    assert main(["train", "--dry-run", "--set", "train.device=cuda"]) == 2
    assert "train.device: cuda requested but no CUDA device" in _one_error_line(capsys)


@pytest.mark.parametrize("argv, message", [
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["sample"], "the following arguments are required: run_dir"),
    (["sample", "x", "--seed", str(2**64)], "--seed: must be in 0..4,294,967,295"),
    (["sample", "x", "--n", "0"], "--n: must be in 1.."),
    (["sample", "x", "--n", "1e9"], "--n: expected an integer"),
    (["eval", "x", "--split", "train"], "invalid choice"),
    (["edit", "x", "--steps", "-3"], "--steps: must be in 1.."),
    (["edit", "x", "--span", "inf"], "--span: must be a finite number > 0"),
    (["edit", "x", "--index", "-1"], "--index: must be in 0.."),
    (["nosuchcommand" * 100], "invalid choice"),
])
def test_argument_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    assert message in _one_error_line(capsys)


def test_sample_n_beyond_memory_names_the_estimate(tiny_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANKIT_MEMORY_LIMIT_MB", "64")
    assert main(["sample", str(tiny_run), "--n", "10000000", "--out", str(tmp_path / "g.png")]) == 2
    assert "--n: needs about" in _one_error_line(capsys) and not list(tmp_path.iterdir())


def test_internal_error_is_one_line_exit_1_and_a_crash_log(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))

    def broken(args):
        raise RuntimeError("a bug " + "x" * 5000)

    monkeypatch.setattr(cli, "_presets", broken)
    assert main(["presets"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gankit: internal error in `presets`: RuntimeError: a bug")
    log = Path(err.split("traceback in ")[1].split(")")[0])
    assert log.parent == tmp_path / "cache" / "crashes" and "Traceback" in log.read_text()
    assert len(err) < 500


def test_ctrl_c_is_one_line_and_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_presets", interrupted)
    assert main(["presets"]) == 130
    err = capsys.readouterr().err
    assert err == "gankit: interrupted (presets)\n"


def test_second_ctrl_c_during_training_is_130_without_traceback(tmp_path, capsys, monkeypatch):
    import gankit.engine.trainer as trainer

    def abort(*a, **k):  # what the signal handler raises on the second Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "_accumulate", abort)
    assert main(["train", *SETS, "--run-dir", str(tmp_path / "run")]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip().startswith("gankit: interrupted (train)")


def test_torn_last_metrics_line_is_dropped_on_resume(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path / "run")
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 8, "d_lo')  # a crash mid-write
    assert main(["train", "--resume", str(run), "--set", "train.steps=8"]) == 0
    out = capsys.readouterr().out
    assert "dropped 1 unreadable line" in out and "resumed" in out
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and steps[-1] == 8


def test_full_disk_during_a_checkpoint_names_the_newest_good_one(tmp_path, capsys, monkeypatch):
    import gankit.engine.checkpoint as checkpoint

    real_save = checkpoint.save_file
    calls = []

    def full_disk(tensors, filename, metadata=None):
        calls.append(filename)
        if len(calls) == 2:
            Path(filename).write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device", filename)
        real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr(checkpoint, "save_file", full_disk)
    run = tmp_path / "run"
    assert main(["train", *SETS, "--set", "train.checkpoint_every=4", "--run-dir", str(run)]) == 2
    err = _one_error_line(capsys)
    assert "No space left on device" in err and f"newest good checkpoint is {run / 'checkpoints' / checkpoint_name(4)}" in err
    assert [p.name for p in list_checkpoints(run / "checkpoints")] == [checkpoint_name(4)]
    assert not list((run / "checkpoints").glob("*.tmp"))
    assert load_latest(run / "checkpoints").meta["step"] == 4


def _dead_end(tmp_path) -> Path:
    """A run killed before its first checkpoint: config.json and metrics.jsonl, no checkpoint."""
    from gankit.plugins import load_config

    run = tmp_path / "dead"
    run.mkdir()
    cfg = load_config(overrides=TINY_IMAGE + ["train.steps=4"])
    (run / "config.json").write_text(json.dumps(cfg.to_dict()))
    (run / "metrics.jsonl").write_text('{"step": 4, "g_loss": 1.0}\n{"step": 8, "g_l')
    return run


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_at_step_0(tmp_path, capsys):
    run = _dead_end(tmp_path)
    assert main(["train", "--resume", str(run), "--dry-run"]) == 0
    assert "holds no checkpoint" in capsys.readouterr().out
    assert main(["train", "--resume", str(run)]) == 0
    out = capsys.readouterr().out
    assert "starting it again from step 0 with its saved config.json" in out
    assert load_latest(run / "checkpoints").meta["step"] == 4
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [4]


def test_run_dir_of_a_run_killed_before_its_first_checkpoint_is_reused(tmp_path, capsys):
    run = _dead_end(tmp_path)
    assert main(["train", *SETS, "--set", "train.steps=4", "--run-dir", str(run)]) == 0
    assert f"reusing {run}" in capsys.readouterr().out
    assert load_latest(run / "checkpoints").meta["step"] == 4
    # a folder with a checkpoint is still refused, and left as it was
    before = snapshot(run)
    assert main(["train", *SETS, "--run-dir", str(run)]) == 2
    assert "already holds a run" in _one_error_line(capsys)
    assert snapshot(run) == before


def test_not_a_run_folder_at_all(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "not a gankit run folder (no checkpoints/ or config.json inside)" in _one_error_line(capsys)
