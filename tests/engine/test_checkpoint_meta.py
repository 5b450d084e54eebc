"""Issue 19, checkpoint class: metadata that is valid JSON but not what gankit wrote is "not a gankit
checkpoint: <why>", and the newest checkpoint that passes is used instead, as for an unreadable one."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from gankit.cli import main
from gankit.engine.checkpoint import checkpoint_name, load_checkpoint, load_latest, save_checkpoint
from gankit.errors import CheckpointError
from tests.conftest import copy_run, snapshot
from tests.engine.ckpt_helpers import valid_checkpoint


def _raw(path: Path, tensors: dict, meta) -> Path:
    """A safetensors file whose gankit metadata is exactly ``meta`` (any JSON), bypassing save_checkpoint."""
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"gankit": json.dumps(meta)})
    return path


def _with(**changes):
    tensors, meta = valid_checkpoint(5)
    meta = {"format_version": 1, **meta, **changes}
    return tensors, {k: v for k, v in meta.items() if v is not ...}


CASES = {
    "null step": (_with(step=None), "metadata.step"),
    "negative step": (_with(step=-1), "metadata.step"),
    "float step": (_with(step=2.5), "metadata.step"),
    "missing config": (_with(config=...), "metadata.config"),
    "config not a config": (_with(config={"train": {"steps": -3}}), "its config: train.steps"),
    "missing sampler": (_with(sampler=...), "metadata.sampler"),
    "negative sampler epoch": (_with(sampler={"epoch": -1, "position": 0}), "metadata.sampler.epoch"),
    "python rng short": (_with(rng={"numpy": valid_checkpoint()[1]["rng"]["numpy"],
                                    "python": {"version": 3, "state": [1, 2], "gauss_next": None}}), "metadata.rng"),
    "nets without weights": (_with(nets=["G", "D"]), "net 'D'"),
    "inf images_seen": (_with(images_seen=float("inf")), "metadata.images_seen"),
}


@pytest.mark.parametrize("name", CASES)
def test_metadata_that_gankit_did_not_write_is_not_a_checkpoint(tmp_path, name):
    (tensors, meta), why = CASES[name]
    path = _raw(tmp_path / "c.safetensors", tensors, meta)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    text = str(e.value)
    assert text.startswith(f"{path}: not a gankit checkpoint: ") and why in text and "\n" not in text


@pytest.mark.parametrize("meta, why", [([1, 2, 3], "JSON list, not an object"), ("x", "JSON str"),
                                       (None, "JSON NoneType"), ({"format_version": 2}, "format 2")])
def test_metadata_of_the_wrong_kind(tmp_path, meta, why):
    path = _raw(tmp_path / "c.safetensors", {"x": torch.zeros(1)}, meta)
    with pytest.raises(CheckpointError, match="not a gankit checkpoint") as e:
        load_checkpoint(path)
    assert why in str(e.value)


@pytest.mark.parametrize("key, value, why", [
    ("rng.torch", torch.zeros(5056, dtype=torch.float32), "rng.torch must be uint8"),
    ("rng.torch", torch.zeros(7, dtype=torch.uint8), "rng.torch must be uint8"),
    ("rng.numpy", torch.zeros(624, dtype=torch.float64), "rng.numpy must be int64"),
    ("rng.numpy", torch.full((624,), 2**40, dtype=torch.int64), "outside 0..2**32 - 1"),
    ("rng.numpy", torch.zeros(3, dtype=torch.int64), "rng.numpy must be int64 (624,)"),
])
def test_rng_state_of_the_wrong_dtype_or_size(tmp_path, key, value, why):
    tensors, meta = valid_checkpoint(3)
    tensors[key] = value
    path = save_checkpoint(tmp_path / "c.safetensors", tensors, meta)
    with pytest.raises(CheckpointError, match="not a gankit checkpoint") as e:
        load_checkpoint(path)
    assert why in str(e.value)


def test_a_newer_checkpoint_with_bad_metadata_is_skipped_for_the_older_good_one(tmp_path, capsys):
    save_checkpoint(tmp_path / checkpoint_name(10), *valid_checkpoint(10))
    tensors, meta = valid_checkpoint(20)
    _raw(tmp_path / checkpoint_name(20), tensors, {"format_version": 1, **meta, "step": -1})
    ck = load_latest(tmp_path)
    assert ck.meta["step"] == 10
    out = capsys.readouterr().out
    assert "skipping ckpt-0000020.safetensors" in out and "not a gankit checkpoint" in out
    assert "using ckpt-0000010.safetensors" in out


def _rewrite_meta(path: Path, **changes) -> None:
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["gankit"])
    meta.update(changes)
    _raw(path, load_file(str(path)), meta)


def test_resume_sample_and_eval_fall_back_from_a_negative_step(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path / "run")
    newest = run / "checkpoints" / checkpoint_name(6)
    _rewrite_meta(newest, step=-1)
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "g.png")]) == 0
    out = capsys.readouterr().out
    assert "not a gankit checkpoint" in out and "using ckpt-0000003.safetensors" in out
    assert main(["train", "--resume", str(run), "--dry-run"]) == 0
    assert "using ckpt-0000003" in capsys.readouterr().out


def test_every_checkpoint_bad_is_one_line_and_changes_nothing(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path / "run")
    for p in (run / "checkpoints").iterdir():
        _rewrite_meta(p, config=None)
    before = snapshot(run)
    for argv in (["train", "--resume", str(run)], ["sample", str(run), "--out", str(tmp_path / "g.png")],
                 ["eval", str(run), "--metrics", "fid", "--n", "10"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not a gankit checkpoint" in err and "Traceback" not in err
    assert snapshot(run) == before
