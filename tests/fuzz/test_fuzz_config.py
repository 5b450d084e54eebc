"""Fuzz: generated configs (types, ranges, nesting), YAML text and --set strings through
``gankit train --dry-run``: it accepts them, or refuses with exit 2 and one bounded line."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from gankit.cli import main
from gankit.config import Config
from tests.fuzz.conftest import budget
from tests.fuzz.helpers import assert_clean, json_values


def _leaves(tree: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in tree.items():
        key = f"{prefix}{k}"
        out += _leaves(v, key + ".") if isinstance(v, dict) and v else [key]
    return out


KEYS = _leaves(Config().to_dict())
NUMBERS = (st.integers(-(2**70), 2**70) | st.sampled_from([0, 1, 2, -1, 2**31 - 1, 2**31, 2**32, 2**63, 2**64])
           | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e-300, 1e300, -0.0]))
VALUES = NUMBERS | st.booleans() | st.none() | st.text(max_size=20) | json_values(6)


def _tree(pairs: dict[str, object]) -> dict:
    tree: dict = {"data": {"name": "digits"}, "train": {"steps": 2, "tensorboard": False}}
    for key, value in pairs.items():
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            node[part] = child = child if isinstance(child, dict) else {}
            node = child
        node[parts[-1]] = value
    return tree


@budget(60)
@given(pairs=st.dictionaries(st.sampled_from(KEYS) | st.text(min_size=1, max_size=12), VALUES, min_size=1, max_size=4),
       name=st.sampled_from(["digits", "ring8", "grid25", "gauss1d", "nope", "mnist-idx", "folder"]))
def test_generated_configs(pairs, name, tmp_path_factory, capsys):
    tree = _tree(pairs)
    if isinstance(tree.get("data"), dict) and "data.name" not in pairs:
        tree["data"]["name"] = name
    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_text(yaml.safe_dump(tree))
    status = main(["train", "--dry-run", "--config", str(path)])
    captured = capsys.readouterr()
    assert_clean(status, captured.err, captured.out)


@budget(60)
@given(text=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_config_files_of_any_bytes(text, tmp_path_factory, capsys):
    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_bytes(b"data: {name: digits}\ntrain: {steps: 2}\n" + text)
    status = main(["train", "--dry-run", "--config", str(path)])
    captured = capsys.readouterr()
    assert_clean(status, captured.err, captured.out)


@budget(60)
@given(sets=st.lists(st.builds(lambda k, v: f"{k}={v}", st.sampled_from(KEYS) | st.text(max_size=10),
                               st.text(max_size=30) | NUMBERS.map(str)), max_size=3))
def test_set_strings(sets, capsys):
    argv = ["train", "--dry-run", "--set", "data.name=digits"] + [a for s in sets for a in ("--set", s)]
    status = main(argv)
    captured = capsys.readouterr()
    assert_clean(status, captured.err, captured.out)
