import json
from pathlib import Path

import pytest
import torch

from gankit.engine.checkpoint import (
    checkpoint_name,
    list_checkpoints,
    load_checkpoint,
    load_latest,
    optimizer_from_flat,
    optimizer_to_flat,
    prune_checkpoints,
    save_checkpoint,
)
from gankit.errors import CheckpointError
from tests.engine.ckpt_helpers import valid_checkpoint


def test_round_trip_is_exact(tmp_path: Path):
    tensors, meta = valid_checkpoint(7, nested=[1, "a", None])
    tensors["n"] = torch.tensor(3.5)
    path = save_checkpoint(tmp_path / "c.safetensors", tensors, meta)
    ck = load_checkpoint(path)
    assert set(ck.tensors) == set(tensors)
    assert all(torch.equal(ck.tensors[k], v) for k, v in tensors.items())
    assert ck.meta["step"] == 7 and ck.meta["nested"] == [1, "a", None]
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed, not left behind


def test_optimizer_state_round_trip():
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.9))
    for _ in range(3):
        opt.zero_grad()
        net(torch.randn(8, 4)).square().mean().backward()
        opt.step()
    tensors, meta = optimizer_to_flat(opt, "opt")
    meta = json.loads(json.dumps(meta))  # must survive JSON
    opt2 = torch.optim.Adam(torch.nn.Linear(4, 3).parameters(), lr=1.0)
    optimizer_from_flat(opt2, {k[len("opt."):]: v for k, v in tensors.items()}, meta)
    a, b = opt.state_dict(), opt2.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for pid in a["state"]:
        for key in a["state"][pid]:
            assert torch.equal(a["state"][pid][key], b["state"][pid][key])


def test_corrupt_or_foreign_files_are_clear_errors(tmp_path: Path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00\x01garbage")
    with pytest.raises(CheckpointError, match="bad.safetensors: not a readable checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="missing.safetensors: checkpoint not found"):
        load_checkpoint(tmp_path / "missing.safetensors")
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(CheckpointError, match="not a gankit checkpoint"):
        load_checkpoint(tmp_path / "foreign.safetensors")


def test_truncated_newest_checkpoint_falls_back_to_the_last_good_one(tmp_path: Path, capsys):
    for step in (10, 20, 30):
        save_checkpoint(tmp_path / checkpoint_name(step), *valid_checkpoint(step))
    newest = tmp_path / checkpoint_name(30)
    newest.write_bytes(newest.read_bytes()[:40])  # a crash mid-copy, say
    ck = load_latest(tmp_path)
    assert ck.meta["step"] == 20
    assert "skipping ckpt-0000030.safetensors" in capsys.readouterr().out


def test_prune_keeps_the_newest(tmp_path: Path):
    for step in (5, 10, 100, 1000):
        save_checkpoint(tmp_path / checkpoint_name(step), *valid_checkpoint(step))
    (tmp_path / "ckpt-0000999.safetensors.tmp").write_bytes(b"partial")
    prune_checkpoints(tmp_path, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == [checkpoint_name(100), checkpoint_name(1000)]
    assert not list(tmp_path.glob("*.tmp"))


def test_no_checkpoints_is_a_clear_error(tmp_path: Path):
    with pytest.raises(CheckpointError, match="no checkpoints"):
        load_latest(tmp_path)
