"""Run folders the commands refuse (one line, exit status 2), bad --out paths, and what a record reads."""

from __future__ import annotations

import json

import pytest

import gankit
from gankit.cli import main
from gankit.errors import GankitError
from gankit.plugins import load_config
from gankit.report.compare import config_diff, flatten, sparkline
from gankit.report.record import read_run
from gankit.report.run import reproduce_command, value_rows
from tests.report.crafted import craft, healthy_metrics

COMMANDS = [["report"], ["doctor"], ["compare", "{ok}"]]


def run_cli(capsys, command: list[str], folder, ok) -> tuple[int, str]:
    argv = [command[0], str(folder)] + [a.format(ok=ok) for a in command[1:]]
    code = main(argv)
    return code, capsys.readouterr().err


def broken_folders(tmp_path):
    """(folder, what the one line says) for each way a run folder can be missing or half-written."""
    tmp_path.mkdir()
    cases = [(tmp_path / "missing", "run folder not found")]
    (tmp_path / "file").write_text("x")
    cases.append((tmp_path / "file", "not a folder"))
    (tmp_path / "empty").mkdir()
    cases.append((tmp_path / "empty", "not a gankit run folder (no config.json inside)"))
    half = tmp_path / "half-config"
    half.mkdir()
    (half / "config.json").write_text('{"data": {"name": "dig')
    cases.append((half, "config.json is not complete JSON (a half-written run folder?)"))
    started = tmp_path / "started"
    started.mkdir()
    (started / "config.json").write_text("{}")
    (started / "checkpoints").mkdir()
    cases.append((started, "half-written run folder (no checkpoint in checkpoints/ yet)"))
    cut = craft(tmp_path / "cut-metrics")
    with open(cut / "metrics.jsonl", "a") as f:
        f.write('{"step": 1050, "d_lo')
    cases.append((cut, "metrics.jsonl: line 21 is not complete JSON (a half-written run folder?)"))
    cut_eval = craft(tmp_path / "cut-eval")
    (cut_eval / "eval.json").write_text('{"results": ')
    cases.append((cut_eval, "eval.json is not complete JSON"))
    return cases


@pytest.mark.parametrize("command", COMMANDS, ids=["report", "doctor", "compare"])
def test_missing_or_half_written_run_folders_are_refused_in_one_line(tmp_path, capsys, command):
    ok = craft(tmp_path / "ok")
    for folder, says in broken_folders(tmp_path / command[0]):
        code, err = run_cli(capsys, command, folder, ok)
        assert code == 2, folder
        assert err.count("\n") == 1 and err.startswith(f"gankit: error: {folder}") and says in err, err


@pytest.mark.parametrize("command", [["report", "{run}"], ["compare", "{run}", "{run}"]], ids=["report", "compare"])
def test_bad_out_paths_are_refused_before_any_work(tmp_path, capsys, command):
    run = craft(tmp_path / "ok")
    (tmp_path / "folder.html").mkdir()
    (tmp_path / "a-file").write_text("x")
    bad = {tmp_path: "a report is an .html file", tmp_path / "folder.html": "is a folder",
           tmp_path / "page.png": "a report is an .html file",
           tmp_path / "a-file" / "r.html": "cannot write there (" + str(tmp_path / "a-file") + " is a file)"}
    for out, says in bad.items():
        code = main([c.format(run=run) for c in command] + ["--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and says in err, err
    assert not (run / "doctor.json").with_name("x").exists() and not list(tmp_path.rglob("*.tmp*"))


def test_compare_needs_two_runs(tmp_path, capsys):
    assert main(["compare", str(craft(tmp_path / "ok"))]) == 2
    assert capsys.readouterr().err == "gankit: error: gankit compare: give at least two run folders\n"


def test_the_record_reads_wall_time_over_resumed_segments(tmp_path):
    metrics = healthy_metrics(4)  # time_s 2, 4, 6, 8 ...
    metrics += [{**m, "step": m["step"] + 200, "time_s": t} for m, t in zip(healthy_metrics(2), (1.5, 3.0))]
    record = read_run(craft(tmp_path / "r", metrics=metrics))
    assert record.wall_time_s == 8.0 + 3.0 and record.step == 1000  # the checkpoint's step is the newest
    assert record.series("d_loss")[0] == [50, 100, 150, 200, 250, 300]
    assert [c.step for c in record.checkpoints] == [1000] and record.checkpoints[0].time == "2026-12-04T09:00:00"


def test_value_rows_put_real_vs_real_beside_each_value():
    rows = value_rows({"fid": 3.0, "fid_real_vs_real": 1.0, "kid": 0.1, "kid_std": 0.01, "kid_real_vs_real": 0.0,
                       "kid_real_vs_real_std": 0.002, "modes_covered": 7, "true_modes_covered": 8, "n": 5})
    assert rows == [["fid", 3.0, 1.0], ["kid", 0.1, 0.0], ["kid_std", 0.01, 0.002], ["modes_covered", 7, 8],
                    ["n", 5, ""]]


def test_config_diff_lists_only_the_keys_that_differ(tmp_path):
    a = craft(tmp_path / "a")
    b = craft(tmp_path / "b", config={"description": "other", "seed": 0, "data": {"name": "ring8"},
                                      "train": {"steps": 1000, "betas": [0.5, 0.9]}})
    rows = config_diff([read_run(a), read_run(b)])
    assert rows == [["data.name", "mnist5k", "ring8"], ["model.name", "gan", "(absent)"],
                    ["net.name", "dcgan", "(absent)"], ["objective.name", "nonsaturating", "(absent)"],
                    ["train.lr_decay", "none", "(absent)"], ["train.betas", "(absent)", "[0.5, 0.9]"]]
    assert flatten({"a": {"b": 1, "c": [1, 2]}}) == {"a.b": 1, "a.c": [1, 2]}


def test_sparkline_shares_the_step_axis_and_the_scale():
    assert sparkline([10, 20], [0.0, 1.0], 40, 0.0, 1.0, width=4) == "▁█"  # steps 10, 20, (30, 40: after its end)
    assert sparkline([10, 20, 30, 40], [0.0, 1.0, float("nan"), 0.5], 40, 0.0, 1.0, width=4) == "▁█!▅"
    assert sparkline([20], [1.0], 40, 0.0, 2.0, width=4) == " ▅"


def test_the_reproduce_command_trains_the_same_config(image_run):
    record = read_run(image_run)
    command = reproduce_command(record)
    assert command == f"gankit train --config {image_run / 'config.json'} --run-dir NEW_RUN_FOLDER"
    assert load_config(file=str(image_run / "config.json")).to_dict() == record.config


def test_gankit_report_is_a_callable_package(image_run, tmp_path):
    from gankit.report import html  # noqa: F401 - importing a module of the package keeps it callable

    assert callable(gankit.report) and gankit.report.html.escape("<") == "&lt;"
    with pytest.raises(GankitError, match="run folder not found"):
        gankit.report(tmp_path / "nope")
    assert json.loads((image_run / "config.json").read_text())["train"]["report"] is True
