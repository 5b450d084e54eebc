"""The report of ``gankit study augment``: statistics over the job records, markdown, HTML figures and tables.

Every comparison is paired by seed (same labelled subset, same classifier seed) against "none"; the Holm
correction runs over all comparisons of the study at once (:mod:`gankit.studies.stats`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from gankit.studies.augmenters import variant_name
from gankit.studies.classifiers import STRENGTH
from gankit.studies.runner import StudyReport
from gankit.studies.stats import bootstrap_ci, holm, min_p_value, paired_effect, verdict

ALPHA = 0.05
MARK = {"helps": "+", "hurts": "-", "no significant difference": ""}


def _variant(record: dict[str, Any]) -> str:
    p = record["params"]
    return variant_name(p["augmenter"], p["situation"])


def _mean_ci(values: list[float], seed: int = 0) -> dict[str, Any]:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return {"mean": None, "ci95": [None, None], "n": 0}
    return {"mean": float(np.mean(vals)), "ci95": list(bootstrap_ci(vals, seed=seed)), "n": len(vals)}


def analyse(records: list[dict[str, Any]], classifiers: list[str]) -> dict[str, Any]:
    """The study's numbers as JSON: accuracies, paired comparisons (Holm), CAS, entropy, IG, timings."""
    acc: dict[tuple[int, str, str], dict[int, float]] = defaultdict(dict)
    cas: dict[tuple[int, str], list[float]] = defaultdict(list)
    ent: dict[tuple[int, str], list[float]] = defaultdict(list)
    ig: dict[tuple[int, str], list[float]] = defaultdict(list)
    secs: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    budgets, variants = [], []
    for r in records:
        p, res, v = r["params"], r["result"], _variant(r)
        b, s = p["budget"], p["seed"]
        budgets += [b] if b not in budgets else []
        variants += [v] if v not in variants else []
        for c, out in res["classifiers"].items():
            acc[(b, v, c)][s] = out["test_acc"]
        if "cas" in res:
            cas[(b, v)].append(res["cas"]["test_acc"])
        if "entropy" in res and res["entropy"].get("H_G_minus_H_D") is not None:
            ent[(b, v)].append(res["entropy"]["H_G_minus_H_D"])
        if "ig" in res:
            ig[(b, v)].append(res["ig"]["nats"])
        secs[v].append(r.get("seconds", 0.0))
        cpu[v].append(r.get("cpu_seconds", math.nan))  # records written before cpu_seconds existed: unknown
    accuracy = [{"budget": b, "variant": v, "classifier": c, **_mean_ci(list(acc[(b, v, c)].values()))}
                for b in budgets for v in variants for c in classifiers if acc.get((b, v, c))]
    comparisons = []
    for b in budgets:
        for c in classifiers:
            base = acc.get((b, "none", c), {})
            for i, v in enumerate(variants):
                if v == "none" or not acc.get((b, v, c)):
                    continue
                seeds = sorted(set(base) & set(acc[(b, v, c)]))
                d = [acc[(b, v, c)][s] - base[s] for s in seeds]
                if len(d) < 2:
                    continue
                e = paired_effect(d, seed=1000 * b + 10 * i + classifiers.index(c))
                comparisons.append({"budget": b, "classifier": c, "strength": STRENGTH.get(c, ""), "variant": v,
                                    "baseline": float(np.mean([base[s] for s in seeds])), **e})
    adjusted = holm([e["p"] for e in comparisons])
    for e, q in zip(comparisons, adjusted):
        e["p_holm"] = float(q)
        e["verdict"] = verdict(e["mean"], e["p_holm"], ALPHA)
    none_logreg = {b: _mean_ci(list(acc.get((b, "none", "logreg"), {}).values())) for b in budgets}
    info = [{"budget": b, "variant": v, "cas": _mean_ci(cas[(b, v)]), "real_same_size": none_logreg[b],
             "entropy_diff": _mean_ci(ent[(b, v)]), "ig_nats": _mean_ci(ig[(b, v)])}
            for b in budgets for v in variants if v != "none"]
    n_seeds = max((len(x) for x in acc.values()), default=0)
    counts = defaultdict(int)
    by_cell: dict[str, dict[int, dict[str, int]]] = {}
    for e in comparisons:
        counts[e["verdict"]] += 1
        cell = by_cell.setdefault(e["variant"], {}).setdefault(e["budget"], {"helps": 0, "hurts": 0, "of": 0})
        cell["of"] += 1
        if e["verdict"] in cell:  # helps / hurts; the rest is "of" minus those
            cell[e["verdict"]] += 1
    return {"budgets": budgets, "variants": variants, "classifiers": classifiers, "seeds": n_seeds,
            "comparisons_n": len(comparisons), "alpha": ALPHA, "holm_family": "all comparisons of the study",
            "min_p": min_p_value(n_seeds), "min_p_holm": min(1.0, min_p_value(n_seeds) * len(comparisons)),
            "verdicts": dict(counts), "verdicts_by_variant": by_cell, "accuracy": accuracy, "comparisons": comparisons, "information": info,
            "job_seconds_mean": {v: float(np.mean(t)) for v, t in secs.items()},
            "job_seconds_total": float(sum(sum(t) for t in secs.values())),
            "job_cpu_seconds_mean": {v: float(np.mean(t)) for v, t in cpu.items()},
            "job_cpu_seconds_total": float(sum(sum(t) for t in cpu.values()))}


def _fmt(x: Any, digits: int = 3) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{digits}f}"


def _pp(x: float) -> str:
    return f"{100 * x:+.1f}"


def verdict_table(a: dict[str, Any]) -> list[str]:
    """Markdown lines: per augmenter and budget, how many classifiers it helps / hurts after Holm (the answer at a
    glance; the tables below give the differences)."""
    by = a.get("verdicts_by_variant", {})
    lines = ["## Verdicts per augmenter and budget", "",
             "Classifiers the augmenter helps (`+`) / hurts (`-`) significantly after Holm, of those compared; "
             "blank: not run at that budget.", "",
             "| augmenter | " + " | ".join(f"n = {b}" for b in a["budgets"]) + " |", "|---|" + "---|" * len(a["budgets"])]
    for v in a["variants"]:
        if v == "none":
            continue
        cells = [by.get(v, {}).get(b) for b in a["budgets"]]
        lines.append(f"| {v} | " + " | ".join("" if c is None else f"{c['helps']}+ / {c['hurts']}- of {c['of']}"
                                               for c in cells) + " |")
    return lines + [""]


def markdown(study: Any, a: dict[str, Any], fingerprint: dict[str, Any]) -> str:
    lines = [f"# gankit study augment ({study.data})", "",
             f"Budgets (labelled images per class): {a['budgets']}; seeds per cell: {a['seeds']}; "
             f"classifiers: {', '.join(a['classifiers'])}; GAN/VAE steps: {study.gan_steps}; "
             f"synthetic per real: {study.ratios} (validation chooses when several).",
             f"Test split: {fingerprint.get('test_n')} images (sha256 {fingerprint.get('test_sha256')}); "
             f"features: {fingerprint.get('extractor', '-')} ({fingerprint.get('extractor_sha256', '')[:12]}).", "",
             f"{a['comparisons_n']} paired comparisons with 'none', Holm-corrected together at alpha {a['alpha']}. "
             f"With {a['seeds']} seeds the smallest exact signed-rank p is {a['min_p']:.2g}, so the smallest "
             f"Holm-adjusted p is {a['min_p_holm']:.2g}" + (" - no comparison CAN be significant: add seeds." if
                                                             a["min_p_holm"] > a["alpha"] else "."),
             "", "Verdicts: " + ", ".join(f"{k}: {v}" for k, v in sorted(a["verdicts"].items())), ""]
    if a.get("budgets_without_pool"):
        lines += [f"Situation B is not run at n = {a['budgets_without_pool']} per class: every training image is "
                  "labelled there, so B's pool is empty and each B job would repeat its A job ('real' would "
                  "repeat 'none').", ""]
    lines += verdict_table(a)
    for b in a["budgets"]:
        lines += [f"## n = {b} per class: mean test-accuracy difference to 'none' (percentage points)", "",
                  "`+` helps / `-` hurts after Holm; `.` p < 0.05 before correction only.", "",
                  "| augmenter | " + " | ".join(f"{c} ({STRENGTH.get(c, '')})" for c in a["classifiers"]) + " |",
                  "|---|" + "---|" * len(a["classifiers"])]
        base = {e["classifier"]: e for e in a["accuracy"] if e["budget"] == b and e["variant"] == "none"}
        lines.append("| none (accuracy) | " + " | ".join(_fmt(base.get(c, {}).get("mean")) for c in a["classifiers"]) + " |")
        for v in a["variants"]:
            if v == "none":
                continue
            cells = []
            for c in a["classifiers"]:
                e = next((e for e in a["comparisons"] if e["budget"] == b and e["classifier"] == c and e["variant"] == v), None)
                if e is None:
                    cells.append("")
                    continue
                mark = MARK[e["verdict"]] or ("." if e["p"] < a["alpha"] else "")
                cells.append(f"{_pp(e['mean'])}{mark}")
            lines.append(f"| {v} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Information: CAS, entropy, Bayesian information gain", "",
              "CAS: logistic regression trained on |D| synthetic images only, tested on real; 'real' beside it: "
              "the same classifier on the |D| labelled real images. Entropy: k-NN (k=3) estimate in the "
              "extractor's features, H(D_G) - H(D) at equal N (biased; only the difference is read). IG: "
              "exact for the Gaussian linear model (alpha = beta = 1, 10 outputs) on the same features, "
              "|D_G| = |D|. Mean over seeds [bootstrap 95 % CI].", "",
              "| n | augmenter | CAS | real, same size | H(D_G) - H(D) (nats) | IG(D_G) (nats) |", "|---|---|---|---|---|---|"]
    for e in a["information"]:
        lines.append(f"| {e['budget']} | {e['variant']} | {_fmt(e['cas']['mean'])} | {_fmt(e['real_same_size']['mean'])} | "
                     f"{_fmt(e['entropy_diff']['mean'], 1)} [{_fmt(e['entropy_diff']['ci95'][0], 1)}, "
                     f"{_fmt(e['entropy_diff']['ci95'][1], 1)}] | {_fmt(e['ig_nats']['mean'], 1)} "
                     f"[{_fmt(e['ig_nats']['ci95'][0], 1)}, {_fmt(e['ig_nats']['ci95'][1], 1)}] |")
    lines += ["", "## All comparisons", "",
              "| n | classifier | augmenter | baseline acc | mean diff | 95 % CI | p | p (Holm) | d_z | rank-biserial | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in a["comparisons"]:
        lines.append(f"| {e['budget']} | {e['classifier']} | {e['variant']} | {e['baseline']:.3f} | {_pp(e['mean'])} | "
                     f"[{_pp(e['ci95'][0])}, {_pp(e['ci95'][1])}] | {e['p']:.3g} | {e['p_holm']:.3g} | "
                     f"{_fmt(e['d_z'], 2)} | {e['rank_biserial']:.2f} | {e['verdict']} |")
    cpu_mean = a.get("job_cpu_seconds_mean", {})
    lines += ["", "## Time per job (seconds, mean over its jobs)", "",
              "| augmenter | wall seconds | CPU seconds |", "|---|---|---|"]
    lines += [f"| {v} | {t:.1f} | {_fmt(cpu_mean.get(v), 1)} |" for v, t in a["job_seconds_mean"].items()]
    lines += ["", f"Sum of job times: {a['job_seconds_total']:.0f} s wall, "
              f"{_fmt(a.get('job_cpu_seconds_total'), 0)} s CPU (user + system of the worker processes; on K "
              f"unshared cores the study needs about CPU / K).", ""]
    return "\n".join(lines)


# ---- figures -----------------------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def accuracy_figure(a: dict[str, Any]):
    plt = _plt()
    cls = a["classifiers"]
    cols = min(4, len(cls))
    rows = math.ceil(len(cls) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows), squeeze=False, sharey=True)
    for ax, c in zip(axes.flat, cls):
        for v in a["variants"]:
            pts = [e for e in a["accuracy"] if e["classifier"] == c and e["variant"] == v and e["mean"] is not None]
            if not pts:
                continue
            x = [e["budget"] for e in pts]
            y = [e["mean"] for e in pts]
            err = [[e["mean"] - e["ci95"][0] for e in pts], [e["ci95"][1] - e["mean"] for e in pts]]
            style = {"none": dict(color="black", lw=2), "real": dict(color="grey", ls="--")}.get(v, {})
            ax.errorbar(x, y, yerr=err, marker="o", ms=3, capsize=2, label=v, **style)
        ax.set_title(f"{c} ({STRENGTH.get(c, '')})", fontsize=9)
        ax.set_xscale("log")
        ax.set_xticks(a["budgets"], [str(b) for b in a["budgets"]])
        ax.set_xlabel("labelled images per class", fontsize=8)
    for ax in axes.flat[len(cls):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("test accuracy")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(7, len(labels)), fontsize=8, bbox_to_anchor=(0.5, -0.06))
    fig.tight_layout()
    return fig


def heatmap_figure(a: dict[str, Any], budget: int):
    plt = _plt()
    vs = [v for v in a["variants"] if v != "none"]
    cls = a["classifiers"]
    grid = np.full((len(vs), len(cls)), np.nan)
    marks = [["" for _ in cls] for _ in vs]
    for e in a["comparisons"]:
        if e["budget"] != budget:
            continue
        i, j = vs.index(e["variant"]), cls.index(e["classifier"])
        grid[i, j] = 100 * e["mean"]
        marks[i][j] = {"helps": " ▲", "hurts": " ▼"}.get(e["verdict"], " ·" if e["p"] < a["alpha"] else "")
    lim = max(1.0, float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0)
    fig, ax = plt.subplots(figsize=(1.0 * len(cls) + 2, 0.42 * len(vs) + 1.2))
    im = ax.imshow(grid, cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
    for i in range(len(vs)):
        for j in range(len(cls)):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:+.1f}{marks[i][j]}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(cls)), [f"{c}\n({STRENGTH.get(c, '')})" for c in cls], fontsize=7)
    ax.set_yticks(range(len(vs)), vs, fontsize=8)
    ax.set_title(f"n = {budget} per class: accuracy difference to 'none' (pp); ▲/▼ significant after Holm, "
                 f"· p<0.05 uncorrected", fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def information_figure(a: dict[str, Any]):
    plt = _plt()
    vs = [v for v in a["variants"] if v != "none"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    width = 0.8 / max(1, len(a["budgets"]))
    for k, (key, title) in enumerate([("cas", "CAS (train on D_G only); dashed: real, same size"),
                                      ("entropy_diff", "H(D_G) - H(D), k-NN, nats"),
                                      ("ig_nats", "IG(D_G), Gaussian linear model, nats")]):
        ax = axes[k]
        for bi, b in enumerate(a["budgets"]):
            rows = [next((e for e in a["information"] if e["budget"] == b and e["variant"] == v), None) for v in vs]
            mean = [r[key]["mean"] if r and r[key]["mean"] is not None else np.nan for r in rows]
            lo = [r[key]["ci95"][0] if r and r[key]["ci95"][0] is not None else np.nan for r in rows]
            hi = [r[key]["ci95"][1] if r and r[key]["ci95"][1] is not None else np.nan for r in rows]
            x = np.arange(len(vs)) + bi * width
            ax.bar(x, mean, width, yerr=[np.subtract(mean, lo), np.subtract(hi, mean)], capsize=2, label=f"n={b}")
            if key == "cas" and rows and rows[0] and rows[0]["real_same_size"]["mean"] is not None:
                ax.axhline(rows[0]["real_same_size"]["mean"], ls="--", lw=1, color=f"C{bi}")
        ax.set_xticks(np.arange(len(vs)) + width * (len(a["budgets"]) - 1) / 2, vs, rotation=60, fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.axhline(0, color="black", lw=0.5)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def preview_figure(records: list[dict[str, Any]]):
    plt = _plt()
    rows = [r for r in records if "preview" in r["result"]]
    by_variant: dict[str, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: r["params"]["budget"]):
        by_variant.setdefault(f"{_variant(r)} n={r['params']['budget']}", r["result"]["preview"])
    if not by_variant:
        return None
    k = max(len(p["labels"]) for p in by_variant.values())
    fig, axes = plt.subplots(len(by_variant), k, figsize=(0.6 * k + 1.5, 0.62 * len(by_variant)), squeeze=False)
    for i, (name, p) in enumerate(by_variant.items()):
        shape = p["shape"]
        codes = np.asarray(p["codes"], dtype=np.uint8).reshape(-1, *shape)
        for j in range(k):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(codes):
                ax.imshow(codes[j, 0], cmap="gray", vmin=0, vmax=255)
        axes[i, 0].text(-0.3, 0.5, name, transform=axes[i, 0].transAxes, ha="right", va="center", fontsize=7)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.2)
    return fig


def build_report(study: Any, records: list[dict[str, Any]]) -> StudyReport:
    from gankit.report import html

    a = analyse(records, list(study.classifiers))
    no_pool = study.budgets_without_pool() if "B" in study.situations else []
    a["budgets_without_pool"] = [b for b in no_pool if b in a["budgets"]]
    res0 = records[0]["result"]
    fingerprint = {**res0.get("fingerprint", {}), **res0.get("extractor", {})}
    a["fingerprint"] = fingerprint
    md = markdown(study, a, fingerprint)
    note = (f"{a['comparisons_n']} comparisons, Holm at {a['alpha']}; {a['seeds']} seeds: smallest attainable "
            f"Holm-adjusted p = {a['min_p_holm']:.2g}. Verdicts: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(a["verdicts"].items())))
    body = [html.paragraph("Does adding generated (or otherwise synthetic) images to D help a classifier? "
                           "Situation A: augmenters see only the labelled images; B: also the rest of the training "
                           "split (VAE and PCA without labels, the conditional GANs with labels); 'real' is D plus "
                           "those real images with labels, the upper bound of B."),
            html.paragraph(note, "note"),
            html.heading("Accuracy vs label budget"),
            html.figure(accuracy_figure(a), "test accuracy (mean over seeds, bootstrap 95 % CI) per classifier"),
            html.heading("Difference to 'none'")]
    heat = [html.figure(heatmap_figure(a, b), f"n = {b} per class") for b in a["budgets"]]
    body.append(html.slider(heat, [f"n = {b}" for b in a["budgets"]], "budget") if len(heat) > 1 else heat[0])
    body += [html.heading("Information"),
             html.figure(information_figure(a), "CAS, entropy difference and Bayesian information gain per augmenter")]
    preview = preview_figure(records)
    if preview is not None:
        body += [html.heading("What the augmenters make (seed 0, one image per class)"),
                 html.figure(preview, "synthetic images, one row per augmenter and budget")]
    body += [html.heading("All comparisons"),
             html.table(["n", "classifier", "strength", "augmenter", "baseline", "mean diff", "CI low", "CI high", "p",
                         "p Holm", "d_z", "rank-biserial", "verdict"],
                        [[e["budget"], e["classifier"], e["strength"], e["variant"], e["baseline"], e["mean"],
                          e["ci95"][0], e["ci95"][1], e["p"], e["p_holm"], e["d_z"], e["rank_biserial"], e["verdict"]]
                         for e in a["comparisons"]]),
             html.preformatted(md)]
    return StudyReport(a, md, body, title=f"gankit study augment ({study.data})",
                       subtitle=f"{len(records)} jobs; test split {fingerprint.get('test_n')} images; "
                                f"features {fingerprint.get('extractor', '-')}")


__all__ = ["analyse", "build_report", "markdown", "verdict_table"]
