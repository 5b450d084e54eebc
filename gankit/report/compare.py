"""``gankit compare RUN RUN ...``: the runs side by side, in the terminal and as an HTML page.

The terminal gets two tables (the config keys whose values differ between the runs, and each run's
figures: steps, wall time, the quality figure beside real-vs-real, gankit eval's main values, the
doctor's findings from what is on disk) and the curves as aligned sparklines on one shared scale per
stat. The page (``--out FILE.html``) has the same tables, the curves overlaid (matplotlib), and the
runs' sample grids side by side with a slider over steps.

Example::

    result = gankit.compare(["runs/00001-ring8-mlp-minimax", "runs/00002-ring8-mlp-nonsaturating"], out="cmp.html")
    print("\\n".join(result.lines()))
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.errors import GankitError
from gankit.report import html
from gankit.report.doctor import diagnose
from gankit.report.record import RunRecord, as_float, read_run
from gankit.report.run import ACC_KEYS, LOSS_KEYS, curves_figure

SPARK = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 40
SKIP_KEYS = {"description"}  # text that differs whenever presets differ; the keys themselves say what


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys -> values (lists kept as values)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def config_diff(records: list[RunRecord]) -> list[list[Any]]:
    """[key, value of run 1, value of run 2, ...] for each key whose values are not all equal."""
    flats = [flatten(r.config) for r in records]
    keys: list[str] = []
    for f in flats:
        keys += [k for k in f if k not in keys and k not in SKIP_KEYS]
    rows = []
    for key in keys:
        values = [json.dumps(f[key]) if key in f else "(absent)" for f in flats]
        if len(set(values)) > 1:
            rows.append([key, *[v.strip('"') for v in values]])
    return rows


def _main_values(record: RunRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"steps": record.step, "wall time (s)": round(record.wall_time_s, 1)}
    q = record.quality or {}
    v = q.get("values") or {}
    if q.get("kind") == "fid_kid":
        out["FID (real-vs-real)"] = f"{as_float(v['fid']):.2f} ({as_float(v['fid_real_vs_real']):.2f})"
        out["KID (real-vs-real)"] = f"{as_float(v['kid']):.4f} ({as_float(v['kid_real_vs_real']):.4f})"
    elif q.get("kind") == "modes":
        out["modes (true data)"] = f"{v.get('modes_covered')}/{v.get('n_modes')} ({v.get('true_modes_covered')})"
        out["HQ % (true data)"] = f"{100 * as_float(v.get('hq_fraction')):.1f} ({100 * as_float(v.get('true_hq_fraction')):.1f})"
    elif q.get("kind") == "stacked_modes":
        out["stacked modes (real)"] = f"{v.get('modes_covered')}/{v.get('n_modes')} ({v.get('real_modes_covered')})"
    for name, result in ((record.eval or {}).get("results") or {}).items():
        for key, value in (result.get("values") or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and "real" not in key and "std" not in key:
                out[f"eval {name}: {key}"] = value
    steps, real = record.series("d_acc_real")
    _, fake = record.series("d_acc_fake")
    if steps and fake:
        out["D acc real/fake at end (%)"] = f"{100 * real[-1]:.0f}/{100 * fake[-1]:.0f}"
    out["doctor (on disk)"] = ", ".join(f.rule for f in diagnose(record)) or "nothing found"
    return out


def figures_table(records: list[RunRecord]) -> list[list[Any]]:
    per_run = [_main_values(r) for r in records]
    keys: list[str] = []
    for values in per_run:
        keys += [k for k in values if k not in keys]
    return [[key, *[values.get(key, "") for values in per_run]] for key in keys]


def sparkline(steps: list[int], values: list[float], last_step: int, lo: float, hi: float,
              width: int = SPARK_WIDTH) -> str:
    """One stat on a shared axis: column j shows the value logged last at or before step
    (j + 1) / width * ``last_step`` (blank before the first log, "!" where it was not finite), on the
    scale [lo, hi] shared by the runs."""
    out = []
    for j in range(width):
        at = (j + 1) * last_step / width
        known = [v for s, v in zip(steps, values) if s <= at + 1e-9]
        if not known or at - last_step / width >= steps[-1]:  # before the run's first log, after its last
            out.append(" ")
            continue
        v = known[-1]
        if not math.isfinite(v):
            out.append("!")
            continue
        level = 0 if hi <= lo else int((v - lo) / (hi - lo) * (len(SPARK) - 1) + 0.5)
        out.append(SPARK[max(0, min(len(SPARK) - 1, level))])
    return "".join(out).rstrip()


def _text_table(rows: list[list[Any]], header: list[str]) -> list[str]:
    cells = [[str(h) for h in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return [lines[0], "  ".join("-" * w for w in widths)] + lines[1:]


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@dataclass
class Comparison:
    """What :func:`compare` found: the records, the two tables, and the page written (or None)."""

    records: list[RunRecord]
    config_rows: list[list[Any]] = field(default_factory=list)
    figure_rows: list[list[Any]] = field(default_factory=list)
    path: Path | None = None

    @property
    def names(self) -> list[str]:
        return [f"[{i + 1}] {r.name}" for i, r in enumerate(self.records)]

    def lines(self) -> list[str]:
        header = [""] + [f"[{i + 1}]" for i in range(len(self.records))]
        out = [f"{name}: {r.path}" for name, r in zip(self.names, self.records)]
        out += ["", "config keys that differ:"]
        out += _text_table(self.config_rows, header) if self.config_rows else ["  (none: the configs are equal)"]
        out += ["", "figures:"] + _text_table(self.figure_rows, header)
        last = max((r.step for r in self.records), default=0)
        out += ["", f"curves: steps 0 .. {last} in {SPARK_WIDTH} columns, one value scale per stat:"]
        for key in LOSS_KEYS + ACC_KEYS:
            series = [r.series(key) for r in self.records]
            finite = [v for _, s in series for v in s if math.isfinite(v)]
            if not finite:
                continue
            lo, hi = min(finite), max(finite)
            out.append(f"  {key} [{lo:.3g} .. {hi:.3g}]")
            out += [f"    [{i + 1}] {sparkline(st, s, last, lo, hi)}" for i, (st, s) in enumerate(series) if st]
        return out


def _grids_slider(records: list[RunRecord]) -> str:
    steps = sorted({step for r in records for step, _ in r.grids})
    frames, labels = [], []
    for step in steps:
        cells = []
        for i, r in enumerate(records):
            shown = [(s, p) for s, p in r.grids if s <= step]
            if shown:
                s, p = shown[-1]
                cells.append(f'<figure style="display:inline-block;width:{96 // len(records)}%;vertical-align:top">'
                             f"{html.image(p, f'{r.name} step {s}')}<figcaption>[{i + 1}] {html.escape(r.name)}, "
                             f"step {s}</figcaption></figure>")
            else:
                cells.append(f'<figure style="display:inline-block"><figcaption>[{i + 1}] no grid yet</figcaption></figure>')
        frames.append("".join(cells))
        labels.append(f"step {step}")
    return html.slider(frames, labels, "samples")


def compare(run_dirs: list[str | Path], out: str | Path | None = None) -> Comparison:
    """Compare runs (the twin of ``gankit compare``); with ``out`` also write the HTML page there."""
    if len(run_dirs) < 2:
        raise GankitError("gankit compare: give at least two run folders")
    path = html.check_out(out) if out is not None else None
    records = [read_run(d) for d in run_dirs]
    result = Comparison(records, config_diff(records), figures_table(records))
    if path is None:
        return result
    header = ["key"] + result.names
    body = [html.paragraph(" | ".join(f"{n}: {r.path}" for n, r in zip(result.names, records)), "note"),
            html.heading("Config keys that differ", anchor="config"),
            html.table(header, result.config_rows) if result.config_rows else html.paragraph("The configs are equal."),
            html.heading("Figures", anchor="figures"), html.table(header, result.figure_rows),
            html.heading("Curves", anchor="curves")]
    for keys, title, label, pct in ((list(LOSS_KEYS), "Losses", "loss", False),
                                    (list(ACC_KEYS), "D's accuracy", "%", True)):
        if any(r.series(k)[0] for r in records for k in keys):
            body.append(html.figure(curves_figure(records, keys, title, label, percent=pct),
                                    f"{title} of every run over steps (colour: run; line style: which stat)"))
    if any(r.grids for r in records):
        body += [html.heading("Samples side by side", anchor="samples-side-by-side"), _grids_slider(records)]
    result.path = html.write_page(path, f"gankit compare: {len(records)} runs", body)
    return result


__all__ = ["Comparison", "compare", "config_diff", "figures_table", "flatten", "sparkline"]
