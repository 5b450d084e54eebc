"""train.precision (bf16 / fp16 autocast, fp16 gradient scalers in the checkpoint) and train.compile's fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gankit.engine.checkpoint import load_latest
from gankit.engine.precision import Precision
from gankit.engine.trainer import train
from gankit.plugins import load_config
from gankit.regularizers.grad_norm import grad_norms


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_latest(Path(run_dir) / "checkpoints").tensors


def stopped_and_resumed_equals_full(cfg, tmp_path: Path) -> tuple[dict, dict]:
    full = train(cfg, run_dir=tmp_path / "full", progress=False)
    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == 7)
    assert part.interrupted and part.step == 7
    resumed = train(resume=part.run_dir, progress=False)
    a, b = weights(full.run_dir), weights(resumed.run_dir)
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    return load_latest(full.run_dir / "checkpoints").meta, a


@pytest.mark.parametrize("cfg_name", ["tiny_vector_config", "tiny_image_config"])
def test_bf16_trains_and_resumes_bitwise(cfg_name, request, tmp_path):
    base = request.getfixturevalue(cfg_name)
    cfg = load_config(base=base.to_dict(), overrides=["train.precision=bf16", "train.checkpoint_every=5"])
    meta, bf16 = stopped_and_resumed_equals_full(cfg, tmp_path)
    assert meta["precision"] == {}  # bf16 needs no loss scaling
    fp32 = weights(train(base, run_dir=tmp_path / "fp32", progress=False).run_dir)
    # the weights are float32 (autocast only changes the compute), finite, and not the fp32 run's
    assert all(t.dtype == torch.float32 for k, t in bf16.items() if k.startswith(("G.", "D.")) and t.is_floating_point())
    assert all(torch.isfinite(t).all() for k, t in bf16.items() if k.startswith(("G.", "D.")) and t.is_floating_point())
    assert any(not torch.equal(bf16[k], fp32[k]) for k in fp32 if k.startswith("G."))


def test_fp16_scalers_are_in_the_checkpoint_and_resume_bitwise(tiny_vector_config, tmp_path):
    cfg = load_config(base=tiny_vector_config.to_dict(), overrides=["train.precision=fp16", "train.checkpoint_every=5"])
    meta, _ = stopped_and_resumed_equals_full(cfg, tmp_path)
    assert set(meta["precision"]) == {"d", "g"}
    for state in meta["precision"].values():
        assert state["scale"] > 0 and state["growth_interval"] == 2000


def test_precision_cannot_change_on_resume(tiny_vector_config, tmp_path):
    from gankit.errors import ConfigError

    run = train(tiny_vector_config, run_dir=tmp_path / "r", progress=False).run_dir
    with pytest.raises(ConfigError, match="--set train.precision: cannot change on --resume"):
        train(resume=run, overrides=["train.precision=bf16"], progress=False)


def test_gradient_penalty_under_autocast_is_the_fp32_value():
    w = torch.tensor([3.0, 4.0])
    x = torch.randn(8, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        norms = grad_norms(lambda v: v @ w, x.to(torch.bfloat16))
    assert norms.dtype == torch.float32
    torch.testing.assert_close(norms, torch.full((8,), 5.0), rtol=0, atol=1e-6)


def test_fp16_scaler_scales_the_loss_and_unscales_the_step():
    p = torch.nn.Parameter(torch.tensor([1.0]))
    opt = torch.optim.SGD([p], lr=0.1)
    amp = Precision("fp16", torch.device("cpu"))
    scale = amp.scalers["g"].get_scale()
    amp.backward((2.0 * p).sum(), "g")
    assert p.grad.item() == 2.0 * scale  # backward saw the scaled loss
    amp.step(opt, "g")
    assert p.item() == pytest.approx(1.0 - 0.1 * 2.0)  # the step used the unscaled gradient


def test_compile_falls_back_to_the_plain_network_with_one_note(tiny_vector_config, tmp_path, monkeypatch, capsys):
    plain = weights(train(tiny_vector_config, run_dir=tmp_path / "plain", progress=False).run_dir)

    def unsupported(*args, **kwargs):
        raise RuntimeError("torch.compile is not supported on this platform")

    monkeypatch.setattr(torch, "compile", unsupported)
    cfg = load_config(base=tiny_vector_config.to_dict(), overrides=["train.compile=true"])
    compiled = weights(train(cfg, run_dir=tmp_path / "compiled", progress=False).run_dir)
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note: train.compile")]
    assert notes == [f"note: train.compile: {name} runs uncompiled (RuntimeError: torch.compile is not supported "
                     "on this platform)" for name in ("G", "D")]
    assert [k for k in plain if not torch.equal(plain[k], compiled[k])] == []
