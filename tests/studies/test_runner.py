"""The study runner: stable job ids, atomic per-job records, resume, parallel and Dask engines, CLI, report."""

from __future__ import annotations

import json
import os
import time

import pytest

import gankit
from gankit.cli import main
from gankit.studies import demo
from gankit.studies.runner import Job, StudyError, execute, job_path, run_jobs, run_study
from tests.browser import open_page


def _jobs(k: int, n: int = 50) -> list[Job]:
    return demo.DemoStudy(seeds=k, n=n).jobs()


def test_job_id_is_stable_and_depends_on_fn_and_params_only():
    a = Job("gankit.studies.demo:job", {"seed": 1, "n": 5}, label="seed 1/x")
    b = Job("gankit.studies.demo:job", {"n": 5, "seed": 1}, label="seed 1/x")
    assert a.id == b.id and a.key == b.key and a.id.startswith("seed_1_x-") and len(a.id) == len("seed_1_x-") + 12
    assert Job("gankit.studies.demo:job", {"seed": 2, "n": 5}).key != a.key
    # the key is sha256 of the canonical JSON: fixed across runs, platforms and processes
    import hashlib
    assert Job("m:f", {"a": 1}).key == hashlib.sha256(b'{"fn":"m:f","params":{"a":1}}').hexdigest()
    with pytest.raises(StudyError, match="module:function"):
        Job("nofunction", {})
    with pytest.raises(StudyError, match="plain JSON"):
        Job("m:f", {"x": object()})


def test_execute_returns_the_function_result_and_records_failures():
    rec = execute(Job("gankit.studies.demo:job", {"seed": 3, "n": 10}), threads=None)
    assert rec["result"] == demo.job(seed=3, n=10) | {"threads": rec["result"]["threads"]}
    assert "error" not in rec and rec["seconds"] >= 0
    bad = execute(Job("gankit.studies.demo:job", {"seed": 3, "n": -1}), threads=None)
    assert "result" not in bad and "Traceback" in bad["error"] and "RuntimeError" in bad["error"]


def idle_then_busy(idle: float, busy: float) -> None:
    time.sleep(idle)
    end = time.process_time() + busy
    while time.process_time() < end:
        pass


def test_execute_records_cpu_seconds_apart_from_wall_seconds():
    rec = execute(Job("tests.studies.test_runner:idle_then_busy", {"idle": 0.4, "busy": 0.2}), threads=None)
    assert "error" not in rec, rec.get("error")
    assert 0.2 <= rec["cpu_seconds"] < 0.35  # the busy part only: sleeping costs no CPU
    assert rec["seconds"] >= 0.6


def test_resume_skips_finished_jobs_and_failures_do_not_stop_the_rest(tmp_path, monkeypatch):
    seen: list[str] = []
    job = demo.job

    def flaky(seed, n):
        if seed == 2:
            raise RuntimeError("seed 2: a passing fault")
        return job(seed, n)

    monkeypatch.setattr(demo, "job", flaky)  # workers=1 resolves the name in this process
    with pytest.raises(StudyError, match=r"1 of 4 jobs failed \(seed2-"):
        run_jobs(_jobs(4), tmp_path, on_record=lambda r: seen.append(r["id"]))
    monkeypatch.setattr(demo, "job", job)
    assert len(seen) == 3 and "a passing fault" in (tmp_path / "jobs" / f"{_jobs(4)[2].id}.error.txt").read_text()
    stored = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "jobs").glob("*.json")}
    assert len(stored) == 3 and not list((tmp_path / "jobs").glob(".*tmp"))
    # a torn write (an interrupted run) is not a finished job: it is redone
    job0 = _jobs(4)[0]
    job_path(tmp_path, job0).write_text('{"key": "')
    seen.clear()
    records = run_jobs(_jobs(4), tmp_path, on_record=lambda r: seen.append(r["id"]))
    assert sorted(seen) == sorted([job0.id, _jobs(4)[2].id])  # only the torn and the failed job ran again
    assert [r["id"] for r in records] == [j.id for j in _jobs(4)]
    assert not list((tmp_path / "jobs").glob("*.error.txt"))
    seen.clear()
    again = run_jobs(_jobs(4), tmp_path, on_record=lambda r: seen.append(r["id"]))
    assert seen == [] and again == records


def test_parallel_workers_match_in_process_results_with_one_thread_each(tmp_path):
    serial = run_jobs(_jobs(3), tmp_path / "a")
    parallel = run_jobs(_jobs(3), tmp_path / "b", workers=2)
    assert [r["result"]["mean"] for r in parallel] == [r["result"]["mean"] for r in serial]
    assert {r["result"]["threads"] for r in parallel} == {1}
    assert len({r["pid"] for r in parallel} - {os.getpid()}) >= 1


def test_dask_engine_runs_the_same_jobs(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cl:
        records = run_jobs(_jobs(3), tmp_path, scheduler=cl.scheduler_address)
    assert [r["result"]["mean"] for r in records] == [demo.job(seed=s, n=50)["mean"] for s in range(3)]
    assert len(list((tmp_path / "jobs").glob("*.json"))) == 3


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    assert main(["study", "demo", "--workers", "0", "--out", str(tmp_path / "x"), "--seeds", "1"]) == 2
    assert "--workers: must be at least 1" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["study", "demo", "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    with pytest.raises(StudyError, match="unknown setting 'seed'"):
        gankit.study("demo", seed=3)
    with pytest.raises(StudyError, match="unknown study 'nope'"):
        gankit.study("nope")


def test_cli_and_python_twin_write_json_markdown_and_a_report_that_loads(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["study", "demo", "--seeds", "3", "--n", "40", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "3 jobs run, 0 reused" in printed and "report.html" in printed
    doc = json.loads((out / "study.json").read_text())
    assert doc["study"] == "demo" and doc["settings"]["seeds"] == 3 and len(doc["jobs"]) == 3
    assert doc["summary"]["mean"] == pytest.approx(sum(demo.job(seed=s, n=40)["mean"] for s in range(3)) / 3)
    assert "| seed | mean |" in (out / "summary.md").read_text()
    twin = gankit.study("demo", seeds=3, n=40, out=str(out), progress=False)
    assert twin.ran == 0 and twin.reused == 3 and twin.report.summary == doc["summary"]
    with open_page(out / "report.html") as page:
        assert page.errors() == []
        imgs = page.find("figure img")
        assert len(imgs) == 1 and page.run("return arguments[0].naturalWidth", imgs[0]) > 0
        assert len(page.find("table tbody tr")) == 3


def test_run_study_rejects_an_empty_study(tmp_path):
    class Empty(demo.DemoStudy):
        def jobs(self):
            return []
    with pytest.raises(StudyError, match="no job"):
        run_study(Empty(), tmp_path)


def test_report_only_summarises_the_stored_part_of_a_grid_and_runs_nothing(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["study", "demo", "--seeds", "2", "--n", "40", "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    stored = {p.name: p.read_bytes() for p in (out / "jobs").glob("*.json")}
    assert main(["study", "demo", "--seeds", "5", "--n", "40", "--out", str(out), "--no-progress",
                 "--report-only"]) == 0
    assert "0 jobs run, 2 reused" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in (out / "jobs").glob("*.json")} == stored  # nothing ran
    doc = json.loads((out / "study.json").read_text())
    assert doc["jobs_expected"] == 5 and doc["jobs_missing"] == 3 and len(doc["jobs"]) == 2
    assert doc["engine"] == "none (--report-only)"
    assert doc["summary"]["mean"] == pytest.approx(sum(demo.job(seed=s, n=40)["mean"] for s in range(2)) / 2)
    assert (out / "summary.md").read_text().startswith("**Partial (2 of 5 jobs; --report-only)")
    assert "partial: 2 of 5 jobs" in (out / "report.html").read_text()
    assert main(["study", "demo", "--seeds", "2", "--n", "41", "--out", str(out), "--report-only"]) == 2
    assert "--report-only: none of the 2 jobs has a record" in capsys.readouterr().err
    # a complete grid reports as before: nothing missing, no partial line
    assert main(["study", "demo", "--seeds", "2", "--n", "40", "--out", str(out), "--report-only"]) == 0
    doc = json.loads((out / "study.json").read_text())
    assert doc["jobs_missing"] == 0 and (out / "summary.md").read_text().startswith("# demo study")
