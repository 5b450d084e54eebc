import json
import math
from pathlib import Path

import pytest
import torch

from gankit.plugins import load_config
from gankit.engine.checkpoint import list_checkpoints, load_latest
from gankit.engine.trainer import train
from gankit.errors import CheckpointError, ConfigError


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_latest(Path(run_dir) / "checkpoints").tensors


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]


@pytest.mark.parametrize("cfg_name", ["tiny_image_config", "tiny_vector_config"])
def test_same_seed_gives_identical_weights(cfg_name, request, tmp_path):
    cfg = request.getfixturevalue(cfg_name)
    a = train(cfg, run_dir=tmp_path / "a", progress=False)
    b = train(cfg, run_dir=tmp_path / "b", progress=False)
    assert_same(weights(a.run_dir), weights(b.run_dir))
    c = train(load_config(base=cfg.to_dict(), overrides=["seed=1"]), run_dir=tmp_path / "c", progress=False)
    assert not torch.equal(weights(a.run_dir)["G_ema.net.0.weight" if "mlp" in cfg.net.name else "G.project.0.weight"],
                           weights(c.run_dir)["G_ema.net.0.weight" if "mlp" in cfg.net.name else "G.project.0.weight"])


@pytest.mark.parametrize("d_steps", [1, 2])
def test_interrupted_and_resumed_equals_uninterrupted(tiny_image_config, tmp_path, d_steps):
    cfg = load_config(base=tiny_image_config.to_dict(), overrides=[f"train.d_steps={d_steps}", "train.checkpoint_every=5"])
    full = train(cfg, run_dir=tmp_path / "full", progress=False)
    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == 7)
    assert part.interrupted and part.step == 7
    assert [p.name for p in list_checkpoints(part.run_dir / "checkpoints")] == ["ckpt-0000005.safetensors",
                                                                                "ckpt-0000007.safetensors"]
    resumed = train(resume=part.run_dir, progress=False)
    assert resumed.step == cfg.train.steps and not resumed.interrupted
    assert_same(weights(full.run_dir), weights(resumed.run_dir))
    # the metrics log of the resumed run reads as one run
    steps = [r["step"] for r in resumed.history]
    assert steps == [r["step"] for r in full.history] == [4, 8, 12]
    # rows whose logging interval did not span the interruption are identical (the row of step 8
    # averages over steps 8 only after a stop at 7, over 5..8 otherwise)
    for a, b in zip(full.history[::2], resumed.history[::2]):
        assert {k: v for k, v in a.items() if k != "time_s"} == {k: v for k, v in b.items() if k != "time_s"}


def test_resume_can_extend_but_not_change_the_run(tiny_vector_config, tmp_path):
    first = train(tiny_vector_config, run_dir=tmp_path / "r", progress=False)
    with pytest.raises(ConfigError, match="--set train.lr_g: cannot change on --resume"):
        train(resume=first.run_dir, overrides=["train.lr_g=0.1"], progress=False)
    longer = train(resume=first.run_dir, overrides=["train.steps=30"], progress=False)
    assert longer.step == 30
    again = train(load_config(base=tiny_vector_config.to_dict(), overrides=["train.steps=30"]),
                  run_dir=tmp_path / "straight", progress=False)
    assert_same(weights(longer.run_dir), weights(again.run_dir))


@pytest.mark.parametrize("decay", ["linear", "cosine"])
def test_lr_decay_resumes_exactly(tiny_vector_config, tmp_path, decay):
    cfg = load_config(base=tiny_vector_config.to_dict(), overrides=[f"train.lr_decay={decay}", "train.d_steps=2"])
    full = train(cfg, run_dir=tmp_path / "full", progress=False)
    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == 7)
    assert part.interrupted and part.step == 7
    stored = load_latest(part.run_dir / "checkpoints").meta
    assert stored["lr_decay"] == {"kind": decay, "total_steps": 20}
    # the optimisers hold the lr the 7th step ran at: 6 of 20 steps were done before it
    factor = 1 - 6 / 20 if decay == "linear" else 0.5 * (1 + math.cos(math.pi * 6 / 20))
    assert stored["opt_g"]["param_groups"][0]["lr"] == pytest.approx(cfg.train.lr_g * factor)
    resumed = train(resume=part.run_dir, progress=False)
    assert resumed.step == 20 and not resumed.interrupted
    assert_same(weights(full.run_dir), weights(resumed.run_dir))
    # the decay changed what was learnt, and its last step ran at lr x (1/20 linear, ~0.006 cosine)
    plain = train(tiny_vector_config, run_dir=tmp_path / "plain", progress=False)
    assert not torch.equal(weights(full.run_dir)["G.net.0.weight"], weights(plain.run_dir)["G.net.0.weight"])
    last = load_latest(full.run_dir / "checkpoints").meta["opt_d"]["param_groups"][0]["lr"]
    assert last == pytest.approx(cfg.train.lr_d * (1 / 20 if decay == "linear" else 0.5 * (1 + math.cos(math.pi * 19 / 20))))
    # the schedule is spread over train.steps, so a resumed run cannot change them
    with pytest.raises(ConfigError, match=f"train.steps: cannot change on --resume while train.lr_decay={decay}"):
        train(resume=full.run_dir, overrides=["train.steps=30"], progress=False)


def test_sgd_with_inverse_decay_resumes_exactly(tiny_vector_config, tmp_path):
    cfg = load_config(base=tiny_vector_config.to_dict(),
                      overrides=["train.optimizer=sgd", "train.momentum=0.9", "train.lr_decay=inverse", "train.lr_g=0.01",
                                 "train.lr_d=0.02"])
    full = train(cfg, run_dir=tmp_path / "full", progress=False)
    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == 7)
    stored = load_latest(part.run_dir / "checkpoints")
    # the checkpoint holds SGD's momentum buffers and the lr of the 7th step: (1 + 10 * 6/20)^-0.75 of the base
    assert any(k.endswith(".momentum_buffer") for k in stored.tensors if k.startswith("opt_g."))
    assert stored.meta["lr_decay"] == {"kind": "inverse", "total_steps": 20}
    assert stored.meta["opt_g"]["param_groups"][0]["momentum"] == 0.9
    assert stored.meta["opt_d"]["param_groups"][0]["lr"] == pytest.approx(0.02 * 4 ** -0.75)
    resumed = train(resume=part.run_dir, progress=False)
    assert resumed.step == 20
    assert_same(weights(full.run_dir), weights(resumed.run_dir))
    last = load_latest(full.run_dir / "checkpoints").meta["opt_g"]["param_groups"][0]["lr"]
    assert last == pytest.approx(0.01 * (1 + 10 * 19 / 20) ** -0.75)
    with pytest.raises(ConfigError, match="--set train.optimizer: cannot change on --resume"):
        train(resume=full.run_dir, overrides=["train.optimizer=adam"], progress=False)


def test_run_folder_contents(tiny_image_config, tmp_path):
    cfg = load_config(base=tiny_image_config.to_dict(), overrides=["train.sample_every=6", "train.checkpoint_every=4",
                                                                    "train.keep_checkpoints=2", "train.tensorboard=true"])
    r = train(cfg, runs_root=tmp_path, progress=False)
    assert r.run_dir == tmp_path / "00000-digits-dcgan-nonsaturating"
    assert json.loads((r.run_dir / "config.json").read_text()) == cfg.to_dict()
    assert sorted(p.name for p in (r.run_dir / "samples").iterdir()) == ["step-0000006.png", "step-0000012.png"]
    assert [p.name for p in list_checkpoints(r.run_dir / "checkpoints")] == ["ckpt-0000008.safetensors",
                                                                             "ckpt-0000012.safetensors"]
    rows = [json.loads(line) for line in (r.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [4, 8, 12]
    assert set(rows[0]) == {"step", "images_seen", "time_s", "d_loss", "g_loss", "d_acc_real", "d_acc_fake"}
    assert rows[-1]["images_seen"] == 12 * 16
    assert all(0.0 <= row["d_acc_real"] <= 1.0 for row in rows)
    assert list((r.run_dir / "tensorboard").glob("events.out.tfevents.*"))
    second = train(cfg, runs_root=tmp_path, progress=False)
    assert second.run_dir.name.startswith("00001-")


def test_checkpoint_holds_everything_needed_to_resume(tiny_image_config, tmp_path):
    r = train(tiny_image_config, run_dir=tmp_path / "r", progress=False)
    ck = load_latest(r.run_dir / "checkpoints")
    prefixes = {k.split(".")[0] for k in ck.tensors}
    assert {"G", "D", "G_ema", "opt_g", "opt_d", "rng"} <= prefixes
    assert {"step", "images_seen", "config", "sampler", "rng", "opt_g", "opt_d"} <= set(ck.meta)
    assert ck.meta["step"] == 12 and ck.meta["config"] == tiny_image_config.to_dict()


def test_refuses_to_overwrite_a_run_and_to_resume_nothing(tiny_vector_config, tmp_path):
    r = train(tiny_vector_config, run_dir=tmp_path / "r", progress=False)
    with pytest.raises(ConfigError, match="already holds a run; resume it with --resume"):
        train(tiny_vector_config, run_dir=r.run_dir, progress=False)
    with pytest.raises(CheckpointError, match="run folder not found"):
        train(resume=tmp_path / "nothing", progress=False)


def test_batch_larger_than_the_data_is_a_config_error(tmp_path):
    cfg = load_config(overrides=["data.name=ring8", "data.n_train=10", "net.name=mlp", "train.batch_size=64",
                                 "train.tensorboard=false", "eval.at_end=false"])
    with pytest.raises(ConfigError, match="train.batch_size: 64 is larger than the training split of ring8"):
        train(cfg, run_dir=tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()  # no half-made run folder is left behind


def test_ctrl_c_checkpoints_and_stops_cleanly(tiny_vector_config, tmp_path):
    import os
    import signal

    def press_ctrl_c(step: int) -> bool:
        if step == 6:
            os.kill(os.getpid(), signal.SIGINT)  # the handler only sets a flag; the step finishes
        return False

    r = train(tiny_vector_config, run_dir=tmp_path / "r", progress=False, on_step=press_ctrl_c)
    assert r.interrupted and r.step == 6
    assert load_latest(r.run_dir / "checkpoints").meta["step"] == 6
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # our handler is gone again
    full = train(tiny_vector_config, run_dir=tmp_path / "full", progress=False)
    assert_same(weights(full.run_dir), weights(train(resume=r.run_dir, progress=False).run_dir))


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_folder_trains_like_in_memory_and_resumes_exactly(tiny_image_config, tmp_path, workers):
    from tests.data.file_writers import write_class_folder

    root = write_class_folder(tmp_path / "pets")  # 20 RGB 8x8 images: 16 train
    folder = ["data.name=folder", f"data.root={root}", "train.batch_size=8", "train.checkpoint_every=5"]
    memory = load_config(base=tiny_image_config.to_dict(), overrides=[*folder, "data.memory_budget_mb=null"])
    streamed = load_config(base=memory.to_dict(), overrides=["data.memory_budget_mb=0", f"data.workers={workers}"])
    in_memory = train(memory, run_dir=tmp_path / "memory", progress=False)
    full = train(streamed, run_dir=tmp_path / "full", progress=False)
    assert_same(weights(in_memory.run_dir), weights(full.run_dir))  # same seed: the same batches, read from disk
    part = train(streamed, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == 7)
    assert part.interrupted and part.step == 7
    assert load_latest(part.run_dir / "checkpoints").meta["sampler"] == {"epoch": 3, "position": 8}  # 7 of 2 an epoch
    resumed = train(resume=part.run_dir, progress=False)
    assert resumed.step == streamed.train.steps and not resumed.interrupted
    assert_same(weights(full.run_dir), weights(resumed.run_dir))


class _Probe(torch.nn.Module):
    """A linear classifier on flattened samples: the whole of a family without a generator."""

    def __init__(self, dim: int, k: int) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(dim, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.flatten(1))


def _register_probe_family():
    from gankit.models.base import Model, StepResult
    from gankit.registry import MODELS

    class ProbeModel(Model):
        adversarial, generative = False, False

        def g_parameters(self):
            return list(self.nets["C"].parameters())

        def d_parameters(self):
            return []

        def g_step(self, batch):
            loss = torch.nn.functional.cross_entropy(self.net("C")(batch.x), batch.y)
            return StepResult(loss, {"ce": loss.detach()})

        def final_figures(self, dataset, split):
            test = dataset.split(split)
            with torch.no_grad():
                acc = float((self.nets["C"](test.float_x()).argmax(1) == test.y).float().mean())
            return {"lines": [f"probe accuracy {acc:.3f}"], "values": {"accuracy": acc}, "fingerprint": {}}

    if "test-probe" not in MODELS:
        MODELS.register("test-probe", "a linear classifier (tests only)")(
            lambda cfg, info, device: ProbeModel({"C": _Probe(info.dim, info.num_classes)}, None).to(device))


def test_a_family_without_generator_trains_reports_and_resumes(tmp_path):
    _register_probe_family()
    cfg = load_config(overrides=["model=test-probe", "data.name=digits", "train.steps=12", "train.batch_size=32",
                                 "train.checkpoint_every=5", "train.sample_every=2", "train.log_every=4",
                                 "train.tensorboard=false", "eval.at_end=true", "train.ema=true"])
    full = train(cfg, run_dir=tmp_path / "full", progress=False)
    assert full.G_ema is None and full.quality is None  # no generator: no EMA, no quality figure
    assert not (full.run_dir / "samples").exists() and not (full.run_dir / "quality.json").exists()
    figures = json.loads((full.run_dir / "model_figures.json").read_text())
    assert 0.0 <= figures["values"]["accuracy"] <= 1.0
    assert {k.split(".")[0] for k in weights(full.run_dir)} == {"C", "opt_g", "rng"}
    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == 7)
    resumed = train(resume=part.run_dir, progress=False)
    assert_same(weights(full.run_dir), weights(resumed.run_dir))
    assert [r["step"] for r in full.history] == [4, 8, 12] and full.history[0]["ce"] > full.history[-1]["ce"]
