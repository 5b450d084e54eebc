"""``gankit study balance``: does a discriminator near 50 % accuracy mean a healthy game?

The heuristic (folklore of GAN training, e.g. the "D loss near log 4 / accuracy near 1/2" rule of thumb):
when D classifies about half of the real and fake samples correctly, G and D are balanced and training
is going well. Here it is tested over the objective zoo: each objective is trained on ``ring8`` by
gankit's trainer with its preset's recipe, for several seeds, and for each run

- D's accuracy over the last ``tail`` share of training: the mean of (acc_real + acc_fake) / 2 of the
  logged steps, each side judged by the objective's own ``says_real`` (a score above 0 for the
  classifiers; a loss or an energy below its threshold for LS-GAN, GLS-GAN and EBGAN);
- a threshold-free counterpart: the AUC of D's final scores on 2,000 real vs 2,000 generated points
  (0.5: D cannot tell them apart, whatever its offset), oriented so that 1 means "real scores higher";
- the final quality figure of the trainer (ring8 mode metrics on 2,500 samples): the HQ share (samples
  within 3 std of a mode), modes covered of 8 and the reverse KL.

The report gives Spearman's rho between |accuracy - 1/2| and the HQ share (and modes), with percentile
bootstrap 95 % intervals (:mod:`gankit.studies.correlation`), over all runs and per family:

- ``classifier``: D's output is a logit / a probability score with a meaningful 0 (nonsaturating,
  minimax, fgan (JS), lsgan, hinge);
- ``critic``: D's output is a critic or energy whose offset is free (wgan, wgan-gp: adding c to the critic
  changes neither loss) or a loss scale (loss-sensitive, gls-gan, ebgan): accuracy at a fixed threshold
  has no calibrated meaning there.

Small default (about 10 min on 2 shared cores, --workers 2): 10 objectives x 3 seeds x 600 G steps.
Full setting: ``gankit study balance --seeds 10 --steps 3000 --workers 8``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gankit.studies.runner import Job, Study, StudyError, StudyReport, settings_of

DESCRIPTION = "does D near 50 percent accuracy mean a healthy game? D accuracy vs final quality over the objective zoo"
DEFAULT_OUT = "studies/balance"
FAMILIES = {"nonsaturating": "classifier", "minimax": "classifier", "fgan": "classifier", "lsgan": "classifier",
            "hinge": "classifier", "wgan": "critic", "wgan-gp": "critic", "loss-sensitive": "critic",
            "gls-gan": "critic", "ebgan": "critic"}


def add_arguments(parser: Any) -> None:
    parser.add_argument("--objectives", nargs="+", default=list(FAMILIES), choices=list(FAMILIES),
                        help="objectives of the zoo (default: all ten)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per objective (default 3)")
    parser.add_argument("--steps", type=int, default=600, help="G steps per run (default 600)")
    parser.add_argument("--data", default="ring8", choices=["ring8", "grid25"], help="toy data (default ring8)")
    parser.add_argument("--tail", type=float, default=0.3,
                        help="share of training at its end over which D's accuracy is averaged (default 0.3)")


def auc(real_scores, fake_scores) -> float:
    """P(real score > fake score) + 1/2 P(tie): the Mann-Whitney AUC, from mid-ranks."""
    import numpy as np
    from scipy.stats import rankdata

    r = np.asarray(real_scores, dtype=np.float64).reshape(-1)
    f = np.asarray(fake_scores, dtype=np.float64).reshape(-1)
    ranks = rankdata(np.concatenate([r, f]))
    return float((ranks[: len(r)].sum() - len(r) * (len(r) + 1) / 2) / (len(r) * len(f)))


def realness(objective, out):
    """D's raw outputs as "how real" scores, higher = more real: minus the loss for LS-GAN / GLS-GAN (D
    outputs a loss), else the raw output, negated when the objective calls low scores real (EBGAN's energy)."""
    import torch

    if hasattr(objective, "loss_values"):
        return -objective.loss_values(out)
    lo, hi = objective.says_real(torch.tensor([-1e6, 1e6])).tolist()
    if hi and not lo:
        return out
    if lo and not hi:
        return -out
    raise ValueError(f"{objective!r}: says_real does not separate very low from very high scores")


def job(objective: str, seed: int, steps: int, data: str, tail: float) -> dict[str, Any]:

    import numpy as np
    import torch

    from gankit.studies.common import recipe, train_quietly

    log_every = max(1, steps // 40)
    run = train_quietly(recipe(objective, data, steps, seed), log_every=log_every)
    hist = [h for h in run.history if "d_acc_real" in h]
    start = steps * (1 - tail)
    last = [h for h in hist if h["step"] > start] or hist[-1:]
    acc = float(np.mean([(h["d_acc_real"] + h["d_acc_fake"]) / 2 for h in last]))
    model = run.model
    D = model.nets["D"].eval()
    fake = model.sample(2000, seed=seed + 777)
    test = run.dataset.split("test")
    real = test.float_x(torch.arange(min(2000, len(test))))
    with torch.no_grad():
        s_real, s_fake = D(real).reshape(-1), D(fake).reshape(-1)
    q = run.quality["values"]
    return {"objective": objective, "family": FAMILIES[objective], "seed": seed, "steps": steps,
            "acc": acc, "acc_real": float(np.mean([h["d_acc_real"] for h in last])),
            "acc_fake": float(np.mean([h["d_acc_fake"] for h in last])),
            "auc": auc(realness(model.objective, s_real).numpy(), realness(model.objective, s_fake).numpy()),
            "score_offset": float(torch.cat([s_real, s_fake]).median()),
            "hq_fraction": q["hq_fraction"], "modes_covered": q["modes_covered"], "n_modes": q["n_modes"],
            "reverse_kl": _finite(q["reverse_kl"]),
            "acc_trace": [[h["step"], (h["d_acc_real"] + h["d_acc_fake"]) / 2] for h in hist]}


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


@dataclass
class BalanceStudy(Study):
    objectives: list[str] = field(default_factory=lambda: list(FAMILIES))
    seeds: int = 3
    steps: int = 600
    data: str = "ring8"
    tail: float = 0.3
    name: str = "balance"

    def settings(self) -> dict[str, Any]:
        return settings_of(self)

    def jobs(self) -> list[Job]:
        if self.seeds < 1 or self.steps < 10:
            raise StudyError(f"--seeds must be at least 1 and --steps at least 10, got {self.seeds} and {self.steps}")
        if not 0 < self.tail <= 1:
            raise StudyError(f"--tail: a share in (0, 1], got {self.tail}")
        bad = [o for o in self.objectives if o not in FAMILIES]
        if bad:
            raise StudyError(f"--objectives: unknown {bad[0]!r}; choose from {', '.join(FAMILIES)}")
        return [Job("gankit.studies.balance:job", {"objective": o, "seed": s, "steps": self.steps, "data": self.data,
                                                   "tail": self.tail}, label=f"{o}-seed{s}")
                for s in range(self.seeds) for o in self.objectives]

    def report(self, records: list[dict[str, Any]]) -> StudyReport:
        return balance_report(self, [r["result"] for r in records])


def _corr_rows(results, groups):
    from gankit.studies.correlation import spearman_ci

    out = {}
    for name, rs in groups.items():
        gap = [abs(r["acc"] - 0.5) for r in rs]
        agap = [abs(r["auc"] - 0.5) for r in rs]
        out[name] = {
            "n": len(rs),
            "gap_vs_hq": spearman_ci(gap, [r["hq_fraction"] for r in rs]),
            "gap_vs_modes": spearman_ci(gap, [r["modes_covered"] for r in rs]),
            "acc_vs_hq": spearman_ci([r["acc"] for r in rs], [r["hq_fraction"] for r in rs]),
            "auc_gap_vs_hq": spearman_ci(agap, [r["hq_fraction"] for r in rs]),
        }
    return out


def balance_report(study: BalanceStudy, results: list[dict[str, Any]]) -> StudyReport:
    from gankit.report import html
    from gankit.studies.common import fmt_ci, jsonable, mean_ci

    groups = {"all runs": results,
              "classifier family": [r for r in results if r["family"] == "classifier"],
              "critic family": [r for r in results if r["family"] == "critic"]}
    groups = {k: v for k, v in groups.items() if len(v) >= 3}
    corr = _corr_rows(results, groups)
    per_obj = {}
    for o in study.objectives:
        rs = [r for r in results if r["objective"] == o]
        if rs:
            per_obj[o] = {k: mean_ci([r[k] for r in rs]) for k in ("acc", "auc", "hq_fraction", "modes_covered")}
            per_obj[o]["family"] = FAMILIES[o]
    summary = {"correlations": corr, "per_objective": per_obj, "runs": len(results)}

    def c(e):
        return f"{e['rho']:.2f} [{e['ci95'][0]:.2f}, {e['ci95'][1]:.2f}]" if math.isfinite(e["rho"]) else "n/a"

    md = ["# gankit study balance", "",
          f"D's accuracy over the last {study.tail:.0%} of training vs the final quality, {study.data}, "
          f"{study.steps} G steps, {study.seeds} seeds per objective ({len(results)} runs). Spearman's rho with "
          "95 % percentile-bootstrap intervals over runs. The heuristic predicts a NEGATIVE rho between "
          "|accuracy - 1/2| and quality.", "",
          "| runs | n | rho(abs(acc - 1/2), HQ) | rho(abs(acc - 1/2), modes) | rho(acc, HQ) | rho(abs(AUC - 1/2), HQ) |",
          "|---|---|---|---|---|---|"]
    rows = []
    for name, e in corr.items():
        md.append(f"| {name} | {e['n']} | {c(e['gap_vs_hq'])} | {c(e['gap_vs_modes'])} | {c(e['acc_vs_hq'])} | "
                  f"{c(e['auc_gap_vs_hq'])} |")
        rows.append([name, e["n"], c(e["gap_vs_hq"]), c(e["gap_vs_modes"]), c(e["acc_vs_hq"]), c(e["auc_gap_vs_hq"])])
    md += ["", "| objective | family | D accuracy (tail) | AUC (final D) | HQ share | modes |", "|---|---|---|---|---|---|"]
    orows = []
    for o, e in per_obj.items():
        md.append(f"| {o} | {e['family']} | {fmt_ci(*e['acc'])} | {fmt_ci(*e['auc'])} | {fmt_ci(*e['hq_fraction'])} | "
                  f"{fmt_ci(*e['modes_covered'], 1)} |")
        orows.append([o, e["family"], fmt_ci(*e["acc"]), fmt_ci(*e["auc"]), fmt_ci(*e["hq_fraction"]),
                      fmt_ci(*e["modes_covered"], 1)])
    md.append("")
    body = [html.heading("Correlations"), html.table(["runs", "n", "rho(|acc-1/2|, HQ)", "rho(|acc-1/2|, modes)",
                                                      "rho(acc, HQ)", "rho(|AUC-1/2|, HQ)"], rows),
            html.paragraph("The heuristic predicts a negative rho between |accuracy - 1/2| and quality.", "note"),
            html.figure(_scatter(results, "acc"), "D accuracy (last part of training) vs HQ share, one dot per run"),
            html.figure(_scatter(results, "auc"), "AUC of the final D (threshold-free) vs HQ share"),
            html.heading("Per objective"),
            html.table(["objective", "family", "D accuracy", "AUC", "HQ share", "modes"], orows)]
    return StudyReport(jsonable(summary), "\n".join(md) + "\n", body, title="gankit study balance",
                       subtitle="D near 50 % accuracy: a sign of a healthy game?")


def _scatter(results, key):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, fam in zip(axes, ("classifier", "critic")):
        objs = sorted({r["objective"] for r in results if r["family"] == fam})
        for o in objs:
            rs = [r for r in results if r["objective"] == o]
            ax.scatter([r[key] for r in rs], [r["hq_fraction"] for r in rs], s=16, label=o)
        ax.axvline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_title(f"{fam} family", fontsize=10)
        ax.set_xlabel("D accuracy, last part of training" if key == "acc" else "AUC of final D, real vs fake")
        if objs:
            ax.legend(fontsize=7)
    axes[0].set_ylabel("HQ share (final)")
    return fig


STUDY = BalanceStudy
__all__ = ["BalanceStudy", "FAMILIES", "STUDY", "auc", "job", "realness"]
