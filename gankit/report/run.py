"""``gankit report RUN``: one self-contained HTML page of a run (figures embedded, nothing fetched).

Sections: a summary (steps, wall time, images/s), the diagnosis (:mod:`gankit.report.doctor`), the
loss and D-accuracy curves over steps, the sample grids over training with a slider, on 2D data the
game itself (G's samples over the true density and D's output over the plane at each saved step,
:mod:`gankit.report.toy`) with a slider, the quality figure and every ``gankit eval`` metric beside
real-vs-real with its fingerprint, the family's own figures, the checkpoints, and the resolved config
with the command that reproduces the run. Matplotlib draws the figures.

Example::

    path = gankit.report("runs/00003-mnist5k-dcgan-nonsaturating")   # -> RUN/report.html
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path
from typing import Any

from gankit.report import html
from gankit.report.doctor import Finding, diagnose
from gankit.report.doctor import measure as measure_checkpoints
from gankit.report.record import RunRecord, as_float, read_run

LOSS_KEYS = ("d_loss", "g_loss")
ACC_KEYS = ("d_acc_real", "d_acc_fake")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def curves_figure(records: list[RunRecord], keys: list[str], title: str, ylabel: str, percent: bool = False) -> Any:
    """One axis: each key of each record over steps (runs by colour, keys by line style when several runs)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 3.0))
    styles = ["-", "--", ":", "-."]
    for r_i, record in enumerate(records):
        for k_i, key in enumerate(keys):
            steps, values = record.series(key)
            if not steps:
                continue
            values = [100 * v for v in values] if percent else values
            if len(records) == 1:
                ax.plot(steps, values, label=key, color=f"C{k_i}", lw=1.3)
            else:
                ax.plot(steps, values, label=f"{record.name}: {key}", color=f"C{r_i}", ls=styles[k_i % 4], lw=1.3)
    ax.set_xlabel("generator step")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if percent:
        ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def _partners(key: str) -> tuple[str, ...]:
    std = (f"{key[:-4]}_real_vs_real_std",) if key.endswith("_std") else ()
    return (f"{key}_real_vs_real", *std, f"true_{key}", f"real_{key}", f"{key}_real")


def value_rows(values: dict[str, Any]) -> list[list[Any]]:
    """[name, value, real-vs-real] rows: ``x_real_vs_real`` / ``true_x`` / ``real_x`` / ``x_real`` go beside ``x``."""
    partnered = {p for key in values for p in _partners(key) if p in values}
    rows = []
    for key, value in values.items():
        if key in partnered:
            continue
        partner = next((p for p in _partners(key) if p in values), None)
        rows.append([key, _show(value), _show(values[partner]) if partner else ""])
    return rows


def _show(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(f"{as_float(v):.3g}" for v in value[:8]) + (" ..." if len(value) > 8 else "")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def fingerprint_block(fp: dict[str, Any]) -> str:
    rows = [[k, json.dumps(v) if isinstance(v, (dict, list)) else v] for k, v in fp.items()]
    return html.details("fingerprint", html.table(["key", "value"], rows))


def findings_block(findings: list[Finding]) -> list[str]:
    if not findings:
        return [html.callout("No problem found", ["The rules (D winning, non-finite values, collapse, memorisation, "
                                                  "FID still falling) found nothing in what was measured."], ok=True)]
    return [html.callout(f.title, [f"Measured: {f.evidence}.", f"Try: {f.suggestion}."]) for f in findings]


def reproduce_command(record: RunRecord) -> str:
    return f"gankit train --config {shlex.quote(str(record.path / 'config.json'))} --run-dir NEW_RUN_FOLDER"


def _summary(record: RunRecord) -> list[list[Any]]:
    cfg = record.config
    wall = record.wall_time_s
    images = max((int(m.get("images_seen", 0)) for m in record.metrics), default=0)
    rows = [
        ["run folder", str(record.path)],
        ["data / model / net / objective", " / ".join(str(cfg.get(k, {}).get("name", "?"))
                                                      for k in ("data", "model", "net", "objective"))],
        ["steps", f"{record.step} of {record.target_steps}"],
        ["wall time of training", f"{wall:.1f} s" + (f" ({images / wall:.0f} images/s)" if wall > 0 else "")],
        ["checkpoints kept", len(record.checkpoints)],
    ]
    if record.quality and record.quality.get("kind") == "fid_kid":
        v = record.quality["values"]
        rows.append(["FID (real-vs-real)", f"{as_float(v['fid']):.2f} ({as_float(v['fid_real_vs_real']):.2f})"])
    if record.diverged:
        rows.append(["diverged", record.diverged.get("message", "")])
    return rows


def _curves(record: RunRecord) -> list[str]:
    out = [html.heading("Training curves", anchor="curves")]
    names = record.stat_names()
    if not names:
        return out + [html.paragraph("No logged steps (metrics.jsonl is empty).", "note")]
    losses = [k for k in LOSS_KEYS if k in names]
    if losses:
        out.append(html.figure(curves_figure([record], losses, "Losses", "loss"), "D's and G's losses over steps"))
    accs = [k for k in ACC_KEYS if k in names]
    if accs:
        out.append(html.figure(curves_figure([record], accs, "D's accuracy", "%", percent=True),
                               "D's accuracy on real and on fake samples over steps (50 %: D cannot tell)"))
    other = [k for k in names if k not in LOSS_KEYS and k not in ACC_KEYS]
    if other:
        out.append(html.figure(curves_figure([record], other, "Other logged stats", "value"),
                               "the family's other logged stats: " + ", ".join(other)))
    return out


def _grids(record: RunRecord) -> list[str]:
    if not record.grids:
        return []
    frames = [html.image(path, f"samples at step {step}") for step, path in record.grids]
    labels = [f"step {step}" for step, _ in record.grids]
    return [html.heading("Samples over training", anchor="samples-over-training"),
            html.paragraph("The same fixed z at every step (G_ema when the run keeps it).", "note"),
            html.slider(frames, labels, "samples")]


def _game(record: RunRecord) -> list[str]:
    if not record.toy_frames:
        return []
    from gankit.report.toy import load_toy_frame, toy_frame_figure

    frames, labels = [], []
    for step, path in record.toy_frames:
        fig = toy_frame_figure(load_toy_frame(path), f"step {step}")
        frames.append(html.image(html.figure_png(fig, dpi=72), f"the game at step {step}"))
        labels.append(f"step {step}")
    return [html.heading("The game on the plane", anchor="game-on-the-plane"),
            html.paragraph("Left: G's samples (orange) over the true density (grey). Right: D's output over the "
                           "plane, real samples in green and G's in purple; where G's samples sit in a region D "
                           "calls fake, G's gradient pushes them towards the real data.", "note"),
            html.slider(frames, labels, "game")]


def _quality(record: RunRecord) -> list[str]:
    out = []
    for title, q in (("Quality figure", record.quality), ("Quality figure with DRS", record.quality_drs)):
        if not q:
            continue
        out.append(html.heading(title, anchor="quality" if title == "Quality figure" else "quality-drs"))
        if q.get("kind") == "none":
            out.append(html.paragraph(f"No figure: {q.get('fingerprint', {}).get('reason', 'not applicable')}", "note"))
        else:
            out.append(html.table(["metric", "generated", "real-vs-real / true data"], value_rows(q.get("values", {}))))
        out.append(fingerprint_block(q.get("fingerprint", {})))
    if record.model_figures:
        out.append(html.heading("The family's own figures", anchor="model-figures"))
        out += [html.paragraph(line) for line in record.model_figures.get("lines", [])]
        if record.model_figures.get("fingerprint"):
            out.append(fingerprint_block(record.model_figures["fingerprint"]))
    return out


def _eval(record: RunRecord) -> list[str]:
    out = [html.heading("gankit eval", anchor="eval")]
    if not record.eval:
        return out + [html.paragraph(f"No eval.json yet: run `gankit eval {record.path}` for every metric.", "note")]
    ev = record.eval
    out.append(html.paragraph(f"Step {ev.get('step')}, generator {ev.get('generator')}.", "note"))
    for name, result in (ev.get("results") or {}).items():
        out.append(html.heading(name, level=3))
        if result.get("text"):
            out.append(html.paragraph(result["text"]))
        out.append(html.table(["value", "generated", "real-vs-real / real"], value_rows(result.get("values", {}))))
        out.append(fingerprint_block(result.get("fingerprint", {})))
    return out


def _checkpoints(record: RunRecord) -> list[str]:
    rows = [[c.name, c.step, f"{c.size_bytes / 1e6:.2f} MB", c.time] for c in record.checkpoints]
    return [html.heading("Checkpoints and wall time", anchor="checkpoints"),
            html.table(["file", "step", "size", "written"], rows),
            html.paragraph(f"Training wall time {record.wall_time_s:.1f} s over {record.step} steps "
                           "(summed over resumed segments; the quality figure and this page not counted).", "note")]


def _config(record: RunRecord) -> list[str]:
    import yaml

    return [html.heading("Config and how to reproduce the run", anchor="config"),
            html.paragraph("The resolved config (every key, defaults included); this command trains the same run "
                           "again (CPU runs are bitwise deterministic):"),
            html.preformatted(reproduce_command(record)),
            html.details("resolved config (YAML)", html.preformatted(yaml.safe_dump(record.config, sort_keys=False)))]


def run_page_body(record: RunRecord, findings: list[Finding]) -> list[str]:
    body = [html.table(["run", record.name], _summary(record)), html.heading("Diagnosis", anchor="diagnosis")]
    body += findings_block(findings)
    if record.measurements is None:
        body.append(html.paragraph(f"Not measured yet: the FID at each kept checkpoint and the class histogram of G's "
                                   f"samples; `gankit report {record.path}` or `gankit doctor {record.path}` measures "
                                   "them (the page written at the end of training diagnoses from the run's files).",
                                   "note"))
    body += _curves(record) + _grids(record) + _game(record) + _quality(record) + _eval(record)
    body += _checkpoints(record) + _config(record)
    return body


def write_report(run_dir: str | Path, out: str | Path | None = None, measure: bool = True,
                 device: str = "cpu") -> Path:
    """Write the report page of a run (default ``RUN/report.html``) and return its path.

    ``measure``: let the doctor measure from the checkpoints (FID per kept checkpoint, classes; cached in
    RUN/doctor.json) before diagnosing; without it only what is on disk is used."""
    record = read_run(run_dir)
    path = html.check_out(Path(out) if out is not None else record.path / "report.html")
    if measure and record.checkpoints and not record.diverged:
        measure_checkpoints(record, device)
    findings = diagnose(record)
    cfg = record.config
    subtitle = (f"{cfg.get('description', '')} | step {record.step} of {record.target_steps} | "
                f"report of {record.path}")
    return html.write_page(path, f"gankit run {record.name}", run_page_body(record, findings), subtitle)


__all__ = ["curves_figure", "reproduce_command", "run_page_body", "value_rows", "write_report"]
