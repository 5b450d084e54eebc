"""Fuzz: command lines of every command, with option values a hostile user would type, in-process.
Each ends with exit 0, or exit 2 and one bounded line; a failing command leaves the run folder as it was."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gankit.cli import main
from tests.conftest import snapshot
from tests.fuzz.conftest import budget
from tests.fuzz.helpers import assert_clean

WEIRD = st.sampled_from(["", "-1", "0", "1", "3", "2.5", "nan", "inf", "-inf", "1e400", str(2**31), str(2**64),
                         str(10**30), "x" * 300, "cuda", "cuda:7", "cpu", "auto", "cdua", "ünïcödé", "a\tb", "--n",
                         "val", "test", "train", "fid", "kid,bogus", "../..", "/dev/null", "."]) | st.text(max_size=12)

OPTIONS = {
    "sample": ["--n", "--seed", "--class", "--ema", "--drs"],
    "eval": ["--metrics", "--n", "--split", "--seed", "--ema", "--device"],
    "translate": ["--input", "--seed", "--no-noise", "--ema", "--device"],
    "edit": ["--image", "--index", "--split", "--ema", "--steps", "--span"],
    "train": ["--preset", "--set", "--labels", "--config"],
    "presets": [],
}
FLAGS = {"--ema", "--drs", "--no-noise"}


@pytest.fixture(scope="module")
def fuzz_run(tiny_run, tmp_path_factory):
    run = tmp_path_factory.mktemp("cli") / "run"
    shutil.copytree(tiny_run, run)
    return run


@st.composite
def command_lines(draw, run: str, tmp: str):
    command = draw(st.sampled_from(list(OPTIONS)))
    argv = [command]
    if command == "train":
        argv += ["--dry-run", "--set", "data.name=digits"]  # never a real training run
    elif command != "presets":
        argv.append(draw(st.sampled_from([run, run, tmp, tmp + "/missing"]) | WEIRD))
    if command == "eval":
        argv += ["--metrics", "kid", "--n", "10"]  # the cheapest metric, unless a fuzzed option overrides it
    if command == "translate":
        argv += ["--input", run, "--out", tmp + "/translated"]
    for option in draw(st.lists(st.sampled_from(OPTIONS[command] + ["--out", "--bogus"]), max_size=3)):
        argv.append(option)
        if option == "--out":
            argv.append(draw(st.sampled_from([tmp + "/g.png", tmp, run, run + "/config.json/x.png", tmp + "/g.gif",
                                               tmp + "/sub/dir/g.jpg"])))
        elif option not in FLAGS:
            argv.append(draw(WEIRD))
    if draw(st.booleans()) and command in ("sample", "edit"):
        argv += ["--out", tmp + "/last.png"]
    return argv


@budget(40)
@given(data=st.data())
def test_command_lines(fuzz_run, tmp_path_factory, monkeypatch, capsys, data):
    tmp = tmp_path_factory.mktemp("out")
    monkeypatch.chdir(tmp)  # default outputs (grid.png, edit.png, runs/) land here
    argv = data.draw(command_lines(str(fuzz_run), str(tmp)))
    before = snapshot(fuzz_run)
    status = main(argv)
    captured = capsys.readouterr()
    assert_clean(status, captured.err, captured.out)
    if status != 0:
        assert snapshot(fuzz_run) == before, argv
    elif argv[0] == "eval":  # eval writes its report into the run folder on success, and only that
        changed = {k for k, v in snapshot(fuzz_run).items() if before.get(k) != v}
        assert changed <= {"eval.json"}
