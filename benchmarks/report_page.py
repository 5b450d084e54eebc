"""Size and render time of the report page of a real run (docs/benchmarks.md, section report_page), and the
README's screenshot (docs/images/report.png).

    python benchmarks/report_page.py                      # trains the default config for --steps steps
    python benchmarks/report_page.py --run runs/00003-... # the page of an existing run (a copy is made)

The run is the default config (DCGAN, non-saturating, mnist5k) cut to ``--steps`` generator steps with
``--grids`` sample grids and a log every ``steps / 90`` steps, so the page holds as many grids and curve
points as the full 4,500-step default run's (9 grids, 90 logs); then ``gankit eval`` with its default
metrics, then ``gankit report`` (with the doctor's measurements). The page is loaded ``--loads`` times in
headless Chromium (tests/browser.py); the render time is the time from navigation start to the end of the
load event with every image decoded (``performance.timing``), median over the loads.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._report import write_section  # noqa: E402


def make_run(folder: Path, steps: int, grids: int) -> float:
    from gankit.engine.trainer import train
    from gankit.plugins import load_config

    cfg = load_config(overrides=[f"train.steps={steps}", f"train.sample_every={steps // grids}",
                                 f"train.checkpoint_every={steps // 3}", f"train.log_every={max(1, steps // 90)}",
                                 "train.report=false"])
    t0 = time.perf_counter()
    train(cfg, run_dir=folder, progress=False)
    return time.perf_counter() - t0


def render_times(path: Path, loads: int, shot: Path | None) -> list[float]:
    from tests.browser import open_page

    times = []
    for i in range(loads):
        with open_page(path) as page:
            assert page.errors() == [], page.errors()
            page.run("return Promise.all([...document.images].map(im => im.decode()))")
            ms = page.run("return performance.timing.loadEventEnd - performance.timing.navigationStart")
            times.append(ms / 1000)
            if shot is not None and i == 0:
                page.driver.set_window_size(1100, 1500)
                page.run("window.scrollTo(0, 0)")
                page.screenshot(shot)
    return times


def small_png(src: Path, dst: Path, width: int = 820) -> None:
    from PIL import Image

    img = Image.open(src).convert("RGB")
    img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
    dst.parent.mkdir(parents=True, exist_ok=True)
    img.quantize(colors=128, method=Image.MEDIANCUT).save(dst, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", help="an existing run folder (copied first: the report writes doctor.json into it)")
    ap.add_argument("--steps", type=int, default=180)
    ap.add_argument("--grids", type=int, default=9)
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--work", default=None, help="folder for the run (default: a temporary one)")
    ap.add_argument("--no-screenshot", action="store_true")
    ap.add_argument("--metrics", default=None, help="gankit eval --metrics (default: its defaults)")
    args = ap.parse_args()

    from gankit.evaluation import evaluate
    from gankit.report.run import write_report

    work = Path(args.work or tempfile.mkdtemp(prefix="gankit-report-bench-"))
    folder = work / "run"
    train_s = None
    if args.run:
        shutil.copytree(args.run, folder, dirs_exist_ok=True)
        what = f"the run `{args.run}`"
    else:
        if not (folder / "checkpoints").is_dir():
            train_s = make_run(folder, args.steps, args.grids)
        what = (f"the default config cut to {args.steps} steps (`--set train.steps={args.steps} train.sample_every="
                f"{args.steps // args.grids} train.checkpoint_every={args.steps // 3} train.log_every="
                f"{max(1, args.steps // 90)}`: {args.grids} grids and 90 logs, as many as the 4,500-step default run's)")
    t0 = time.perf_counter()
    if not (folder / "eval.json").exists():
        evaluate(folder, metrics=args.metrics, log=None)
    eval_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    page = write_report(folder, work / "report.html", measure=True)
    report_s = time.perf_counter() - t0
    size = page.stat().st_size
    from gankit.report.record import read_run

    record = read_run(folder)
    grid_kb = sum(p.stat().st_size for _, p in record.grids) / max(len(record.grids), 1) / 1e3
    stopped = (f" The run reached step {record.step} of {record.target_steps} (stopped with Ctrl-C: the shared "
               f"machine ran at up to 40 s a step), so the page holds {len(record.grids)} grids and "
               f"{len(record.metrics)} logs; a grid PNG is {grid_kb:.0f} kB on average, so the default run's 9 "
               f"grids would add about {(9 - len(record.grids)) * grid_kb / 1e3:.2f} MB."
               if record.step < record.target_steps else "")
    metrics = f"`gankit eval --metrics {args.metrics}`" if args.metrics else "`gankit eval`'s default metrics"
    shot = None if args.no_screenshot else work / "shot.png"
    times = render_times(page, args.loads, shot)
    if shot is not None:
        small_png(shot, ROOT / "docs" / "images" / "report.png")
    med = statistics.median(times)
    lines = [
        "## The report page (`gankit report`)",
        "",
        f"`python benchmarks/report_page.py --steps {args.steps}"
        + (f" --metrics {args.metrics}" if args.metrics else "") + f"`: the page of {what}, with {metrics} "
        "and the doctor's measurements (FID at each kept checkpoint, the class histogram), loaded in headless "
        "Chromium (Debian's, through tests/browser.py) and timed from navigation start to the end of the load event "
        f"with every image decoded (median of {args.loads} loads).",
        "",
        "| page size | render time (median) | render times | writing the page (incl. doctor) | gankit eval |"
        + (" training |" if train_s else ""),
        "|---|---|---|---|---|" + ("---|" if train_s else ""),
        f"| {size / 1e6:.2f} MB | {med:.2f} s | {', '.join(f'{t:.2f}' for t in times)} s | {report_s:.0f} s | "
        f"{eval_s:.0f} s |" + (f" {train_s:.0f} s |" if train_s else ""),
        "",
        "Targets: under 5 MB, rendered in under 5 s. The machine was shared with other jobs (2 cores, load up to "
        "~20 while measuring), so the wall times are inflated; the page size does not depend on the load." + stopped,
    ]
    write_section("report_page", "\n".join(lines))
    print("\n".join(lines))
    print(f"page: {page}")


if __name__ == "__main__":
    main()
