"""Issue 19, config class: numbers the schema accepts but the machine cannot, and config files that are not
well-formed text. Each is one ConfigError line naming the key or file, with a short excerpt of the value."""

from pathlib import Path

import pytest

from gankit.cli import main
from gankit.config import MAX_CONFIG_BYTES, MAX_DEPTH
from gankit.errors import ConfigError
from gankit.limits import MAX_SEED, check_memory, excerpt
from gankit.plugins import load_config


@pytest.mark.parametrize("override, key", [
    ("seed=18446744073709551616", "seed"),        # 2**64: overflowed inside torch
    ("seed=-1", "seed"),
    (f"seed={MAX_SEED + 1}", "seed"),
    ("train.lr_g=.inf", "train.lr_g"),
    ("train.lr_d=1e999", "train.lr_d"),          # YAML string -> float('inf')
    ("train.betas=[0.5, .nan]", "train.betas"),
    ("reg.gp.weight=.inf", "reg.gp.weight"),
    ("net.width=99999999999", "net.width"),       # beyond 2**31 - 1
    ("objective.params={c: .inf}", "objective.params"),
    ("model.params={k: 1.0e+400}", "model.params"),
    ("eval.drs.lr=.nan", "eval.drs.lr"),
])
def test_numbers_the_machine_cannot_take_name_the_key(override, key):
    with pytest.raises(ConfigError) as e:
        load_config(overrides=[override])
    assert f"{key}" in str(e.value) and "\n" not in str(e.value)


def test_largest_seed_is_accepted():
    assert load_config(overrides=[f"seed={MAX_SEED}"]).seed == MAX_SEED


def test_memory_estimate_names_the_key(monkeypatch):
    monkeypatch.setenv("GANKIT_MEMORY_LIMIT_MB", "100")
    with pytest.raises(ConfigError, match=r"^lower-me: needs about 1\.0 GiB of memory \(x\); this machine has 100\.0 MiB"):
        check_memory(2**30, "lower-me", "x")
    check_memory(99 * 2**20, "lower-me", "x")  # under the limit: nothing


@pytest.mark.parametrize("sets, key", [
    (["data.name=digits", "net.width=100000"], "net.width"),
    (["train.batch_size=4000000", "data.name=ring8", "net.name=mlp", "data.n_train=5000000"], "train.batch_size"),
    (["data.name=ring8", "net.name=mlp", "data.n_train=2000000000"], "data.n_train"),
    (["data.name=digits", "eval.n=100000"], "eval.n"),
    (["data.name=digits", "reg.minibatch_discrimination=1000000"], "reg.minibatch_discrimination"),
    (["data.name=digits", "train.batch_size=5000"], "train.batch_size"),
])
def test_dry_run_refuses_what_the_real_run_could_not_do(sets, key, capsys, monkeypatch):
    monkeypatch.setenv("GANKIT_MEMORY_LIMIT_MB", "4096")
    argv = ["train", "--dry-run"] + [a for s in sets for a in ("--set", s)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gankit: error: {key}:") or f" {key}:" in err, err
    assert err.count("\n") == 1


def _write(tmp_path: Path, data: bytes) -> Path:
    p = tmp_path / "c.yaml"
    p.write_bytes(data)
    return p


MALFORMED = [
    (b"train:\n  steps: \xff\xfe\n", "is not UTF-8 text"),
    (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", f"nested more than {MAX_DEPTH} levels deep"),
    (b"a: &a [1, 2]\nb: *a\n", "anchors and aliases"),
    (b"a: &a [*a]\n", "anchors and aliases"),  # a recursive anchor
    (b"- 1\n- 2\n", "must hold a mapping of keys"),
    (b"a: [1, 2\n", "is not valid YAML at line"),
    (b"!!python/object/apply:os.system ['true']\n", "is not valid YAML"),
    (b"seed: 1\n" + b"#" * (MAX_CONFIG_BYTES + 1), "larger than 1024 KiB"),
]


@pytest.mark.parametrize("data, message", MALFORMED, ids=[m for _, m in MALFORMED])
def test_malformed_config_files_are_one_line(tmp_path, data, message):
    with pytest.raises(ConfigError) as e:
        load_config(file=_write(tmp_path, data))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_alias_bomb_is_refused_without_expanding_and_errors_stay_short(tmp_path):
    bomb = b'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + b"".join(
        f'{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},'
        f'*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n'.encode() for i in range(8))
    with pytest.raises(ConfigError, match="anchors and aliases") as e:
        load_config(file=_write(tmp_path, bomb))
    assert len(str(e.value)) < 300


def test_a_huge_value_is_echoed_as_a_short_excerpt():
    with pytest.raises(ConfigError) as e:
        load_config(overrides=["train.steps=" + "x" * 100_000])
    assert "train.steps" in str(e.value) and len(str(e.value)) < 400
    with pytest.raises(ConfigError) as e:
        load_config(overrides=["train.betas=[" + ",".join(["1"] * 20_000) + "]"])
    assert "train.betas" in str(e.value) and len(str(e.value)) < 400
    assert len(excerpt("y" * 10**7)) < 120


def test_deep_set_value_and_odd_keys_are_one_line():
    for text in ["model.params.x=" + "[" * 2000 + "]" * 2000, "train..steps=3", "=3", "a" * 100 + "=1"]:
        with pytest.raises(ConfigError) as e:
            load_config(overrides=[text])
        assert "\n" not in str(e.value) and len(str(e.value)) < 600


def test_data_root_that_is_not_a_path_is_one_line():
    for root in ["x" * 5000, "a\x00b"]:
        with pytest.raises(ConfigError, match="data.root"):
            load_config(overrides=["data.name=folder", f"data.root={root}"])
