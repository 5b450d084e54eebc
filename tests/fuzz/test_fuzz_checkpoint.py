"""Fuzz: generated checkpoint metadata and truncated / corrupted checkpoint bytes. Loading gives a
checkpoint or one CheckpointError line; through the CLI, exit 0 or 2 and the run folder unchanged."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from safetensors.torch import save_file

from gankit.cli import main
from gankit.engine.checkpoint import checkpoint_name, load_checkpoint, save_checkpoint
from gankit.errors import CheckpointError
from tests.conftest import snapshot
from tests.engine.ckpt_helpers import valid_checkpoint
from tests.fuzz.conftest import budget
from tests.fuzz.helpers import assert_clean, json_values

TENSORS, META = valid_checkpoint(5)
META = {"format_version": 1, **META}
PATHS = [("step",), ("images_seen",), ("config",), ("config", "train"), ("config", "train", "steps"), ("config", "seed"),
         ("opt_g",), ("opt_g", "param_groups"), ("opt_g", "scalars"), ("opt_d",), ("sampler",), ("sampler", "epoch"),
         ("sampler", "position"), ("rng",), ("rng", "numpy"), ("rng", "numpy", "pos"), ("rng", "python", "state"),
         ("rng", "python", "version"), ("nets",), ("format_version",), ("precision",), ("lr_decay",)]
DELETE = object()


def _mutated(changes: list[tuple[tuple[str, ...], object]]):
    meta = json.loads(json.dumps(META))
    for path, value in changes:
        node = meta
        for part in path[:-1]:
            if not isinstance(node, dict) or not isinstance(node.get(part), (dict, list)):
                break
            node = node[part]
        else:
            if isinstance(node, dict):
                if value is DELETE:
                    node.pop(path[-1], None)
                else:
                    node[path[-1]] = value
    return meta


CHANGES = st.lists(st.tuples(st.sampled_from(PATHS), json_values(6) | st.just(DELETE)), min_size=1, max_size=3)


def _write_raw(path, tensors, meta) -> None:
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"gankit": json.dumps(meta)})


@budget(80)
@given(changes=CHANGES, whole=st.none() | json_values(4))
def test_generated_metadata(changes, whole, tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "c.safetensors"
    _write_raw(path, TENSORS, whole if whole is not None and not isinstance(whole, dict) else _mutated(changes))
    try:
        ck = load_checkpoint(path)
    except CheckpointError as e:
        assert "\n" not in str(e) and len(str(e)) < 700
        return
    assert isinstance(ck.meta["step"], int) and ck.meta["step"] >= 0 and isinstance(ck.meta["config"], dict)


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory) -> bytes:
    path = save_checkpoint(tmp_path_factory.mktemp("ck") / "c.safetensors", TENSORS, META)
    return path.read_bytes()


@budget(80)
@given(cut=st.integers(0, 10**6), flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4))
def test_truncated_or_corrupted_bytes(checkpoint_bytes, cut, flips, tmp_path_factory):
    data = bytearray(checkpoint_bytes[: cut % (len(checkpoint_bytes) + 1)])
    for pos, byte in flips:
        if data:
            data[pos % len(data)] = byte
    path = tmp_path_factory.mktemp("ck") / "c.safetensors"
    path.write_bytes(bytes(data))
    try:
        load_checkpoint(path)
    except CheckpointError as e:
        assert "\n" not in str(e) and len(str(e)) < 700


@budget(8)
@given(changes=CHANGES, command=st.sampled_from(["sample", "resume"]))
def test_commands_on_a_run_with_a_fuzzed_newest_checkpoint(tiny_run, changes, command, tmp_path_factory, capsys):
    run = tmp_path_factory.mktemp("fz") / "run"
    shutil.copytree(tiny_run, run)
    newest = run / "checkpoints" / checkpoint_name(6)
    _write_raw(newest, TENSORS | {k: v for k, v in load_checkpoint(newest).tensors.items()}, _mutated(changes))
    for p in (run / "checkpoints").iterdir():  # no older good checkpoint to fall back to
        if p != newest:
            p.unlink()
    before = snapshot(run)
    out = run.parent / "g.png"
    argv = (["sample", str(run), "--n", "4", "--out", str(out)] if command == "sample"
            else ["train", "--resume", str(run), "--dry-run"])
    status = main(argv)
    captured = capsys.readouterr()
    assert_clean(status, captured.err, captured.out)
    if status != 0:
        assert snapshot(run) == before
