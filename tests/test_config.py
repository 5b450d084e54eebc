from pathlib import Path

import pytest
import yaml

from gankit.config import Config, list_presets, parse_override
from gankit.plugins import load_config
from gankit.errors import ConfigError


def test_defaults_are_the_main_job():
    cfg = load_config()
    assert (cfg.data.name, cfg.net.name, cfg.objective.name, cfg.model.name) == ("mnist5k", "dcgan", "nonsaturating", "gan")
    assert cfg == Config()


def test_layers_apply_in_order(tmp_path: Path):
    f = tmp_path / "c.yaml"
    f.write_text("train:\n  steps: 77\n  lr_g: 0.001\nseed: 5\n")
    cfg = load_config(preset="ring8", file=f, overrides=["train.steps=9", "train.betas=[0.0, 0.9]"])
    assert cfg.data.name == "ring8"  # from the preset
    assert cfg.train.lr_g == 0.001 and cfg.seed == 5  # from the file
    assert cfg.train.steps == 9  # --set wins over the file
    assert cfg.train.betas == (0.0, 0.9)


def test_override_values_are_typed():
    assert parse_override("train.lr_g=1e-4") == (["train", "lr_g"], 1e-4)
    assert parse_override("train.ema=false") == (["train", "ema"], False)
    assert parse_override("data.root=/x/y") == (["data", "root"], "/x/y")


def test_ema_switch_accepts_a_bool_and_then_fields():
    cfg = load_config(overrides=["train.ema=false"])
    assert cfg.train.ema.enabled is False
    cfg = load_config(overrides=["train.ema=false", "train.ema.half_life_images=500"])
    assert cfg.train.ema.enabled is False and cfg.train.ema.half_life_images == 500
    cfg = load_config(overrides=["eval.drs=true", "eval.drs.burn_in=1000"])
    assert cfg.eval.drs.enabled is True and cfg.eval.drs.burn_in == 1000


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.batch_size=0", "train.batch_size: Input should be greater than or equal to 1 (got 0)"),
        ("train.steps=abc", "train.steps: Input should be a valid integer"),
        ("data.nmae=x", "data.nmae: unknown key; allowed here: name, root, n_train, image_size"),
        ("bogus=1", "bogus: unknown key; allowed here: description, seed"),
        ("train.betas=[0.5, 1.5]", "train.betas: each beta must be in [0, 1)"),
        ("train.optimizer=rmsprop", "train.optimizer: Input should be 'adam' or 'sgd'"),
        ("train.momentum=1", "train.momentum: Input should be less than 1 (got 1)"),
        ("train.momentum=-0.1", "train.momentum: Input should be greater than or equal to 0 (got -0.1)"),
        ("train.lr_decay=exp", "train.lr_decay: Input should be 'none', 'linear', 'cosine' or 'inverse'"),
        ("data.root=/no/such/place", "data.root: path does not exist: /no/such/place"),
        ("objective.name=wgan-typo", "objective.name: unknown objective 'wgan-typo'; choose one of: "),
        ("net.name=resnet9", "net.name: unknown net 'resnet9'; choose one of:"),
        ("data.name=cifar100", "data.name: unknown dataset 'cifar100'"),
        ("objective.params={margin: 1}", "objective.params.margin: unknown parameter of objective 'nonsaturating'"),
        ("train.lr_d=-1", "train.lr_d: Input should be greater than 0"),
        ("train.device=tpu", "train.device: Input should be 'auto', 'cpu' or 'cuda'"),
        ("data.memory_budget_mb=-1", "data.memory_budget_mb: Input should be greater than or equal to 0 (got -1)"),
        ("data.memory_budget_mb=nan", "data.memory_budget_mb: Input should be a finite number (got nan)"),
        ("data.memory_budget_mb=lots", "data.memory_budget_mb: Input should be a valid number"),
        ("data.workers=-1", "data.workers: Input should be greater than or equal to 0 (got -1)"),
    ],
)
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError) as e:
        load_config(overrides=[override])
    text = str(e.value)
    assert message in text
    assert "\n" not in text


def test_bad_files_and_presets(tmp_path: Path):
    with pytest.raises(ConfigError, match="--preset: unknown preset 'nope'; choose one of: "):
        load_config(preset="nope")
    with pytest.raises(ConfigError, match="--config: file not found"):
        load_config(file=tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [1, 2\n")
    with pytest.raises(ConfigError, match=r"is not valid YAML at line \d"):
        load_config(file=bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping of keys, not a list"):
        load_config(file=listy)
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(overrides=["train.steps"])
    with pytest.raises(ConfigError, match="train.steps: Input should be a valid integer"):
        load_config(overrides=["train.steps.x=1"])


def test_every_preset_is_valid_and_described():
    presets = list_presets()
    assert {"mnist5k", "ring8", "smoke"} <= set(presets)
    for name, description in presets.items():
        assert description, name
        cfg = load_config(preset=name)
        assert cfg.description == description


def test_config_round_trips_through_json_and_yaml():
    cfg = load_config(preset="ring8", overrides=["seed=3"])
    assert load_config(base=cfg.to_dict()) == cfg
    assert load_config(base=yaml.safe_load(yaml.safe_dump(cfg.to_dict()))) == cfg


def test_model_accepts_a_bare_name_and_params_after_it():
    cfg = load_config(overrides=["model=gan", "model.params.x=1"])
    assert (cfg.model.name, cfg.model.params) == ("gan", {"x": 1})
    assert load_config(base={"model": "gan"}).model.name == "gan"  # configs saved before model had params


def test_reg_section_defaults_are_all_off():
    reg = load_config().reg
    assert (reg.gp.weight, reg.r1, reg.r2, reg.pack, reg.label_smoothing, reg.minibatch_discrimination) == (0, 0, 0, 1, 0, 0)
    assert not reg.spectral_norm and reg.ortho_jacobian.weight == 0
