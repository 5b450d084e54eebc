"""Safety net for training, presets, run folders, `--resume` and conditional sampling before the core refactor.

Only public entry points: ``gankit.train`` / ``gankit.load_config`` / ``gankit.cli.main``,
``gankit.api.load_run`` / ``load_generator``, ``gankit.data.build_dataset``, the prior's
``sample(n, seed=..., y=...)`` and ``gankit.sampling.generate``. The one exception is the d_steps
test, which wraps the objective's ``d_loss`` / ``g_loss`` (objectives stay two pure functions in
the refactor; the model step functions and the nets are never called directly).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

import gankit
from gankit.api import load_generator, load_run
from gankit.cli import main
from gankit.config import list_presets
from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.registry import MODELS, OBJECTIVES
from gankit.sampling import generate
from tests.conftest import TINY_IMAGE

SETS = [arg for kv in TINY_IMAGE for arg in ("--set", kv)]


def tree(path: Path) -> dict[str, str]:
    """Every file under ``path`` with the SHA-256 of its bytes: equal trees mean nothing was written."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------ presets

DATA = ("ring8", "grid25", "mnist5k")


def test_every_data_objective_preset_sets_the_objective_its_name_says():
    import gankit.plugins  # noqa: F401  (fills the registries)

    named = {}
    for name in list_presets():
        data, _, rest = name.partition("-")
        if data in DATA and rest in OBJECTIVES:
            named[name] = (data, rest)
    # Every objective has a ring8, a grid25 and an mnist5k preset, except the non-saturating one, whose
    # presets are the bare `ring8`, `grid25` and `mnist5k` (checked below).
    assert sorted(named) == sorted(f"{d}-{o}" for d in DATA for o in OBJECTIVES.names() if o != "nonsaturating")
    assert len(named) == 27
    for name, (data, objective) in named.items():
        cfg = load_config(preset=name)
        assert (cfg.data.name, cfg.objective.name, cfg.model.name) == (data, objective, "gan"), name
        assert not cfg.eval.drs.enabled, name
        if objective in ("wgan-gp", "gls-gan", "loss-sensitive"):
            assert cfg.reg.gp.weight > 0, name  # the gradient penalty these objectives are defined with
    for data in DATA:
        cfg = load_config(preset=data)
        assert (cfg.data.name, cfg.objective.name, cfg.model.name) == (data, "nonsaturating", "gan")


def test_data_model_presets_set_the_model_their_name_says():
    import gankit.plugins  # noqa: F401

    got = {}
    for name in list_presets():
        data, _, rest = name.partition("-")
        model = rest.split("-mlp")[0].split("-projection")[0]
        if data in (*DATA, "digits") and model in MODELS:
            cfg = load_config(preset=name)
            got[name] = (cfg.data.name, cfg.model.name, cfg.objective.name)
    assert got == {
        "digits-cgan": ("digits", "cgan", "nonsaturating"),
        "digits-lgan": ("digits", "lgan", "nonsaturating"),
        "mnist5k-acgan": ("mnist5k", "acgan", "nonsaturating"),
        "mnist5k-bigan": ("mnist5k", "bigan", "nonsaturating"),
        "mnist5k-cgan": ("mnist5k", "cgan", "nonsaturating"),
        "mnist5k-cgan-projection": ("mnist5k", "cgan", "nonsaturating"),
        "mnist5k-infogan": ("mnist5k", "infogan", "nonsaturating"),
        "mnist5k-latent-gan": ("mnist5k", "latent-gan", "nonsaturating"),
        "mnist5k-lgan": ("mnist5k", "lgan", "nonsaturating"),
        "mnist5k-lgan-ssl": ("mnist5k", "lgan-ssl", "nonsaturating"),
        "mnist5k-ssgan": ("mnist5k", "ssgan", "nonsaturating"),
        "mnist5k-ssgan-mlp": ("mnist5k", "ssgan", "nonsaturating"),
        "mnist5k-stackgan": ("mnist5k-captions", "stackgan", "nonsaturating"),
        "mnist5k-vae": ("mnist5k", "vae", "nonsaturating"),
    }
    assert load_config(preset="mnist5k-cgan-projection").model.params["conditioning"] == "projection"
    assert load_config(preset="mnist5k-ssgan-mlp").net.name == "mlp-image"


def test_best_presets_switch_drs_on_and_no_other_preset_does():
    with_drs = sorted(name for name in list_presets() if load_config(preset=name).eval.drs.enabled)
    assert with_drs == ["grid25-best", "ring8-best"]
    for name, data in (("ring8-best", "ring8"), ("grid25-best", "grid25")):
        cfg = load_config(preset=name)
        assert (cfg.data.name, cfg.model.name, cfg.objective.name) == (data, "gan", "nonsaturating")
        assert cfg.train.ema.enabled


# -------------------------------------------------------------------------------- run folders


def test_numbered_run_folders_name_data_model_net_objective(tmp_path, capsys):
    """runs/NNNNN-DATA-NET-OBJECTIVE for model=gan; any other model goes between the data and the net."""
    cases = [
        ([], "00000-digits-dcgan-nonsaturating"),
        (["model=vae"], "00001-digits-vae-dcgan-nonsaturating"),
        (["model=acgan", "objective.name=lsgan"], "00002-digits-acgan-dcgan-lsgan"),
        (["model=cgan", "objective.name=hinge"], "00003-digits-cgan-dcgan-hinge"),
    ]
    for overrides, name in cases:
        sets = [arg for kv in (*TINY_IMAGE, "train.steps=2", *overrides) for arg in ("--set", kv)]
        assert main(["train", *sets, "--runs-root", str(tmp_path)]) == 0
        assert f"run folder: {tmp_path / name}\n" in capsys.readouterr().out
        assert json.loads((tmp_path / name / "config.json").read_text())["model"]["name"] == \
            (overrides[0].split("=")[1] if overrides else "gan")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name for _, name in cases]
    # The Python twin numbers on from the highest folder.
    result = gankit.train(load_config(overrides=[*TINY_IMAGE, "train.steps=1", "model=vae"]), runs_root=tmp_path,
                          progress=False)
    assert result.run_dir == tmp_path / "00004-digits-vae-dcgan-nonsaturating"


# ------------------------------------------------------------------------------------- resume


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("safety-resume") / "run"
    gankit.train(load_config(overrides=[*TINY_IMAGE, "train.steps=3"]), run_dir=run, progress=False)
    return run


@pytest.mark.parametrize("extra", [["--preset", "ring8"], ["--config", "CONFIG"], ["--run-dir", "OTHER"],
                                   ["--labels", "5"]])
def test_resume_with_a_config_source_is_refused_with_one_line(small_run, tmp_path, extra, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("train:\n  steps: 9\n")
    extra = [str(config) if a == "CONFIG" else str(tmp_path / "other") if a == "OTHER" else a for a in extra]
    before = tree(small_run)
    assert main(["train", "--resume", str(small_run), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("gankit: error: --resume takes the config from the run's checkpoint; "
                            "drop --preset/--config/--run-dir/--labels\n")
    assert tree(small_run) == before and not (tmp_path / "other").exists()


def test_resume_dry_run_prints_the_resumed_config_and_writes_nothing(small_run, capsys):
    before = tree(small_run)
    saved = json.loads((small_run / "config.json").read_text())
    assert main(["train", "--resume", str(small_run), "--dry-run"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert list(printed) == list(load_config().to_dict())  # every top-level key, in the config's order
    assert printed == saved == load_config(overrides=[*TINY_IMAGE, "train.steps=3"]).to_dict()

    assert main(["train", "--resume", str(small_run), "--set", "train.steps=50", "--dry-run"]) == 0
    longer = yaml.safe_load(capsys.readouterr().out)
    assert longer["train"]["steps"] == 50 and {**longer, "train": {**longer["train"], "steps": 3}} == saved

    assert main(["train", "--resume", str(small_run), "--set", "train.lr_g=0.1", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error: --set train.lr_g: cannot change on --resume") and err.count("\n") == 1
    assert tree(small_run) == before


# ------------------------------------------------------------------------------------ d_steps


def test_d_steps_2_logs_the_mean_of_the_two_d_losses(tmp_path, monkeypatch):
    import gankit.plugins  # noqa: F401

    objective = OBJECTIVES.get("nonsaturating")
    seen: dict[str, list[float]] = {"d": [], "g": []}
    d_loss, g_loss = objective.d_loss, objective.g_loss

    def recording_d_loss(self, real_out, fake_out):
        loss = d_loss(self, real_out, fake_out)
        seen["d"].append(float(loss.detach()))
        return loss

    def recording_g_loss(self, fake_out):
        loss = g_loss(self, fake_out)
        seen["g"].append(float(loss.detach()))
        return loss

    monkeypatch.setattr(objective, "d_loss", recording_d_loss)
    monkeypatch.setattr(objective, "g_loss", recording_g_loss)
    cfg = load_config(overrides=[*TINY_IMAGE, "train.d_steps=2", "train.steps=4", "train.log_every=1"])
    history = gankit.train(cfg, run_dir=tmp_path / "every", progress=False).history
    assert len(seen["d"]) == 8 and len(seen["g"]) == 4  # two D steps before each G step
    assert [row["step"] for row in history] == [1, 2, 3, 4]
    for row, (a, b), g in zip(history, zip(seen["d"][::2], seen["d"][1::2]), seen["g"]):
        assert a != b  # D moved between its two steps: the mean is not either value
        assert row["d_loss"] == pytest.approx((a + b) / 2, rel=1e-6)  # float32 sums
        assert min(a, b) < row["d_loss"] < max(a, b)
        assert row["g_loss"] == pytest.approx(g, rel=1e-6)  # G's loss is not divided by d_steps

    # Logged every 2 G steps: the mean over those steps of the per-step D means, i.e. of all 4 D losses.
    seen["d"].clear(), seen["g"].clear()
    cfg = load_config(base=cfg.to_dict(), overrides=["train.log_every=2"])
    history = gankit.train(cfg, run_dir=tmp_path / "pairs", progress=False).history
    assert [row["step"] for row in history] == [2, 4]
    for i, row in enumerate(history):
        assert row["d_loss"] == pytest.approx(float(np.mean(seen["d"][4 * i:4 * i + 4])), rel=1e-6)
        assert row["g_loss"] == pytest.approx(float(np.mean(seen["g"][2 * i:2 * i + 2])), rel=1e-6)


# ---------------------------------------------------------------------------- conditional G


def one_hot_columns(prior, n: int = 6, seed: int = 4) -> list[int]:
    """Where each class's one-hot sits in the prior's rows, found from the rows alone: rows of classes
    k and (k+1) mod K drawn with one seed differ in exactly two columns, by +1 and -1."""
    K = prior.num_classes
    cols = []
    for cls in range(K):
        a = prior.sample(n, seed=seed, y=torch.full((n,), cls))
        b = prior.sample(n, seed=seed, y=torch.full((n,), (cls + 1) % K))
        diff = a - b
        changed = (diff != 0).any(0).nonzero().flatten().tolist()
        assert len(changed) == 2, changed  # y moves nothing but its one-hot
        plus = [c for c in changed if torch.all(diff[:, c] == 1)]
        assert len(plus) == 1 and torch.all(diff[:, [c for c in changed if c not in plus]] == -1)
        cols.append(plus[0])
    return cols


@pytest.fixture(scope="module", params=["cgan", "acgan", "infogan"])
def conditional_run(request, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp(f"safety-{request.param}") / "run"
    gankit.train(load_config(overrides=[*TINY_IMAGE, "train.steps=4", f"model={request.param}"]), run_dir=run,
                 progress=False)
    return run


def test_class_rows_carry_one_hot_k_and_g_depends_on_y_only_through_it(conditional_run):
    _, model, _ = load_run(conditional_run)
    _, G, _ = load_generator(conditional_run)
    prior, n = model.prior, 8
    K = prior.num_classes
    assert K == 10
    cols = one_hot_columns(prior)
    assert sorted(cols) == list(range(min(cols), min(cols) + K)) and cols == sorted(cols)  # K adjacent, in order

    rows = {k: prior.sample(n, seed=7, y=torch.full((n,), k)) for k in range(K)}
    out = {k: generate(G, r) for k, r in rows.items()}
    for k in range(K):
        assert torch.equal(rows[k][:, cols], torch.nn.functional.one_hot(torch.full((n,), k), K).float())
        # same z, same class: bitwise the same samples
        assert torch.equal(generate(G, prior.sample(n, seed=7, y=torch.full((n,), k))), out[k])
    for k in range(1, K):  # only y changed: every sample changes
        assert (out[k] - out[0]).flatten(1).abs().amax(1).min() > 0
    # only z (the rest of the row) changed, the class kept: every sample changes
    other = prior.sample(n, seed=8, y=torch.full((n,), 3))
    assert torch.equal(other[:, cols], rows[3][:, cols])
    assert (generate(G, other) - out[3]).flatten(1).abs().amax(1).min() > 0
    # rewriting the one-hot of class-3 rows to class 5 gives exactly class 5's rows, hence its samples
    rewritten = rows[3].clone()
    rewritten[:, cols] = torch.nn.functional.one_hot(torch.full((n,), 5), K).float()
    assert torch.equal(rewritten, rows[5]) and torch.equal(generate(G, rewritten), out[5])


def test_sample_class_png_holds_g_of_the_class_rows(conditional_run, tmp_path, capsys):
    _, model, _ = load_run(conditional_run)
    _, G, _ = load_generator(conditional_run)
    out = tmp_path / "sevens.png"
    assert main(["sample", str(conditional_run), "--class", "7", "--n", "9", "--seed", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    want = generate(G, model.prior.sample(9, seed=2, y=torch.full((9,), 7)))
    pixels = ((want.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[:, 0].numpy()
    img = np.asarray(Image.open(out))
    width = 3 * (8 + 2) + 2  # 3 x 3 grid of 8x8 digits, 2-pixel border
    scale = img.shape[1] // width
    assert img.shape == (width * scale, width * scale)
    small = img[::scale, ::scale]
    cells = np.stack([small[2 + r * 10:10 + r * 10, 2 + c * 10:10 + c * 10] for r in range(3) for c in range(3)])
    assert np.array_equal(cells, pixels)


# ------------------------------------------------------------------------------------- splits


@pytest.mark.parametrize("name,sizes", [("mnist5k", (4000, 500, 500)), ("digits", (1437, 180, 180))])
def test_splits_share_no_image(name, sizes):
    data = build_dataset(load_config(overrides=[f"data.name={name}"]).data)
    hashes = {}
    for split in ("train", "val", "test"):
        x = data.split(split).x
        hashes[split] = {hashlib.sha256(row.numpy().tobytes()).hexdigest() for row in x}
        assert len(hashes[split]) == len(x)  # no image twice within a split either
    assert tuple(len(hashes[s]) for s in ("train", "val", "test")) == sizes
    assert not hashes["test"] & hashes["train"]
    assert not hashes["test"] & hashes["val"]
    assert not hashes["val"] & hashes["train"]
