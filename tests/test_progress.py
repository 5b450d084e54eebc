"""Progress bars: on a terminal only, off under the quiet switch, and the training bar says something."""

from __future__ import annotations

import io
import os


from gankit import progress
from gankit.cli import main
from gankit.engine.trainer import train


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_show_on_a_terminal_unless_quiet(monkeypatch):
    monkeypatch.delenv(progress.QUIET_ENV, raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress.shown() is False and progress.shown(True) is True  # captured output: no bar
    monkeypatch.setattr("sys.stderr", Terminal())
    assert progress.shown() is True and progress.shown(False) is False
    for value, quiet in (("1", True), ("yes", True), ("0", False), ("", False)):
        monkeypatch.setenv(progress.QUIET_ENV, value)
        assert progress.shown() is (not quiet)
    monkeypatch.setenv(progress.QUIET_ENV, "1")
    assert progress.progress_bar(3, "x").disable and list(progress.track([1, 2], "x")) == [1, 2]


def test_quiet_flag_is_undone_after_the_command(monkeypatch, capsys):
    monkeypatch.delenv(progress.QUIET_ENV, raising=False)
    assert main(["-q", "presets"]) == 0
    assert progress.QUIET_ENV not in os.environ
    assert main(["--quiet"]) == 2  # no command: one line, exit 2, and the environment untouched
    assert "arguments are required: command" in capsys.readouterr().err
    assert progress.QUIET_ENV not in os.environ


def test_the_training_bar_shows_step_images_per_second_d_accuracy_and_eta(tiny_vector_config, tmp_path, capsys):
    train(tiny_vector_config, run_dir=tmp_path / "r", progress=True)
    err = capsys.readouterr().err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("train: 100%") and "20/20" in last  # the step of the total
    assert "step/s]" in last or "s/step]" in last or "<00:00" in last  # tqdm's rate and ETA
    assert "img/s=" in last and "D acc real/fake=" in last and "d_loss=" in last
