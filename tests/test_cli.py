"""The command line: a smoke run of a few steps, sampling, and exit code 2 with one line on bad input."""

from pathlib import Path

import pytest
import yaml
from PIL import Image

from gankit.cli import main
from gankit.plugins import load_config
from tests.conftest import TINY_IMAGE

SETS = [arg for kv in TINY_IMAGE for arg in ("--set", kv)]


def test_train_sample_resume_smoke(tmp_path: Path, capsys):
    run = tmp_path / "run"
    assert main(["train", *SETS, "--set", "train.checkpoint_every=6", "--run-dir", str(run)]) == 0
    out = capsys.readouterr().out
    assert f"run folder: {run}" in out and "step 12" in out
    assert (run / "checkpoints" / "ckpt-0000012.safetensors").exists()

    grid = tmp_path / "grid.png"
    assert main(["sample", str(run), "--n", "16", "--out", str(grid), "--ema"]) == 0
    img = Image.open(grid)
    assert img.size[0] >= 256 and img.size[0] == img.size[1]  # 4x4 grid of 8x8 digits, enlarged

    assert main(["train", "--resume", str(run), "--set", "train.steps=14"]) == 0
    assert "resumed" in capsys.readouterr().out
    assert (run / "checkpoints" / "ckpt-0000014.safetensors").exists()


def test_dry_run_prints_the_resolved_config(capsys):
    assert main(["train", "--preset", "ring8", "--set", "train.steps=5", "--dry-run"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert load_config(base=printed) == load_config(preset="ring8", overrides=["train.steps=5"])


def test_presets_lists_one_line_each(capsys):
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("mnist5k ") for line in lines)
    assert any(line.startswith("ring8 ") for line in lines)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--set", "train.batch_size=0"], "train.batch_size: Input should be greater than or equal to 1"),
        (["train", "--set", "trian.steps=5"], "trian: unknown key"),
        (["train", "--preset", "nope"], "unknown preset 'nope'"),
        (["train", "--config", "/no/such.yaml"], "--config: file not found: /no/such.yaml"),
        (["train", "--resume", "/no/such/run"], "/no/such/run: run folder not found"),
        (["sample", "/no/such/run"], "/no/such/run: run folder not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_corrupt_checkpoint_exits_2_and_keeps_the_file(tmp_path: Path, capsys):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    bad = run / "checkpoints" / "ckpt-0000010.safetensors"
    bad.write_bytes(b"not a checkpoint")
    assert main(["train", "--resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert "no readable checkpoint" in err and "ckpt-0000010.safetensors" in err
    assert bad.read_bytes() == b"not a checkpoint"  # never lose work, not even a broken file
