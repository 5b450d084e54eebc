"""``gankit study collapse``: is mode collapse a local dimensional deficiency of G?

The claim (Localized GAN, Qi et al. CVPR 2018): a generator collapses modes where its tangent space
collapses - where the Jacobian J(z) = dG/dz loses rank - and keeping the local coordinates orthonormal
(J^T J = I, ``reg.ortho_jacobian``) keeps both the dimensions and the modes. A Lipschitz regulariser on D
(a one-sided gradient penalty, ``reg.gp``) is the usual other cure for collapse.

For each dataset (``ring8``, ``grid25``; ``stacked-mnist`` in the full setting) and each of four variants
(none, ortho, gp, ortho+gp), gankit's trainer runs the non-saturating GAN (the ring8 recipe) for several
seeds; at every checkpoint the study measures

- modes covered and the HQ share (the trainer's quality figure on 2,500 samples, test split);
- the Jacobian spectrum of G at 64 fixed prior points (:mod:`gankit.metrics.jacobian`): the mean
  effective rank, the mean smallest singular value, the share of rank-deficient points.

Per run: Spearman's rho between effective rank and modes covered over checkpoints (do they move
together?), and the lagged rhos rank(t) vs modes(t + 1) and modes(t) vs rank(t + 1) (which moves first?);
their means over seeds with 95 % bootstrap intervals. Per variant: final modes, effective rank and smallest
singular value with intervals: does a regulariser keep both?

Small default (about 10 min on 2 shared cores, --workers 2): 2 datasets x 4 variants x 3 seeds, 1,000 steps,
a checkpoint every 100. Full setting: ``gankit study collapse --datasets ring8 grid25 stacked-mnist
--seeds 10 --steps 5000 --every 250 --workers 8``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gankit.studies.runner import Job, Study, StudyError, StudyReport, settings_of

DESCRIPTION = "mode collapse vs the rank of G's Jacobian over training, with/without ortho-Jacobian and gradient penalty"
DEFAULT_OUT = "studies/collapse"
VARIANTS = ("none", "ortho", "gp", "ortho+gp")


def add_arguments(parser: Any) -> None:
    parser.add_argument("--datasets", nargs="+", default=["ring8", "grid25"], choices=["ring8", "grid25", "stacked-mnist"],
                        help="data (default ring8 grid25; the full setting adds stacked-mnist)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", type=int, default=3, help="seeds per setting (default 3)")
    parser.add_argument("--steps", type=int, default=1000, help="G steps per run (default 1000)")
    parser.add_argument("--every", type=int, default=100, help="G steps between measurements (default 100)")
    parser.add_argument("--ortho-weight", dest="ortho_weight", type=float, default=0.1,
                        help="weight of ||J^T J - I||^2 (reg.ortho_jacobian.weight, default 0.1)")
    parser.add_argument("--gp-weight", dest="gp_weight", type=float, default=1.0,
                        help="weight of the one-sided gradient penalty on D (reg.gp.weight, default 1.0)")
    parser.add_argument("--points", type=int, default=64, help="prior points of the Jacobian spectrum (default 64)")


def _overrides(variant: str, ortho_weight: float, gp_weight: float) -> list[str]:
    over = []
    if "ortho" in variant:
        over.append(f"reg.ortho_jacobian.weight={ortho_weight}")
    if "gp" in variant:
        over += [f"reg.gp.weight={gp_weight}", "reg.gp.one_sided=true"]
    return over


def job(dataset: str, variant: str, seed: int, steps: int, every: int, ortho_weight: float, gp_weight: float,
        points: int) -> dict[str, Any]:

    from gankit.metrics.jacobian import jacobian_spectrum
    from gankit.metrics.quality import evaluate_generator
    from gankit.studies.common import recipe, train_quietly

    if dataset == "stacked-mnist":
        net = {"name": "dcgan", "z_dim": 100}
        extra = ["data.n_train=25600", "train.batch_size=64"]
    else:
        net, extra = None, []
    cfg = recipe("nonsaturating", dataset, steps, seed, net=net,
                 extra=extra + _overrides(variant, ortho_weight, gp_weight) + ["eval.at_end=false"])
    run = train_quietly(cfg, checkpoint_every=every)
    z = run.prior.sample(points, seed=424242)
    trace = []
    for step, G in run.generators:
        q = evaluate_generator(G, run.prior, run.dataset, split="test", n=2500 if dataset != "stacked-mnist" else 5000,
                               seed=seed).to_dict()["values"]
        spec = jacobian_spectrum(G, z)
        s = spec.singular_values
        trace.append({"step": step, "modes": q["modes_covered"], "n_modes": q["n_modes"],
                      "hq": q.get("hq_fraction"), "erank": spec.mean_effective_rank,
                      "smin": float(s[:, -1].mean()), "smax": float(s[:, 0].mean()),
                      "smin_rel": float((s[:, -1] / s[:, 0].clamp(min=1e-30)).mean()),
                      "deficient": spec.rank_deficient_share})
    return {"dataset": dataset, "variant": variant, "seed": seed, "trace": trace, "full_rank": int(s.shape[1])}


@dataclass
class CollapseStudy(Study):
    datasets: list[str] = field(default_factory=lambda: ["ring8", "grid25"])
    variants: list[str] = field(default_factory=lambda: list(VARIANTS))
    seeds: int = 3
    steps: int = 1000
    every: int = 100
    ortho_weight: float = 0.1
    gp_weight: float = 1.0
    points: int = 64
    name: str = "collapse"

    def settings(self) -> dict[str, Any]:
        return settings_of(self)

    def jobs(self) -> list[Job]:
        if self.seeds < 1 or self.every < 1 or self.steps < self.every * 3:
            raise StudyError(f"--steps must hold at least 3 measurements of --every {self.every}, and --seeds >= 1")
        if self.points < 2:
            raise StudyError("--points: at least 2")
        return [Job("gankit.studies.collapse:job",
                    {"dataset": d, "variant": v, "seed": s, "steps": self.steps, "every": self.every,
                     "ortho_weight": self.ortho_weight, "gp_weight": self.gp_weight, "points": self.points},
                    label=f"{d}-{v}-seed{s}")
                for s in range(self.seeds) for d in self.datasets for v in self.variants]

    def report(self, records: list[dict[str, Any]]) -> StudyReport:
        return collapse_report(self, [r["result"] for r in records])


def run_stats(trace: list[dict[str, Any]]) -> dict[str, float]:
    """Per run: rho(erank, modes), rho(smin, modes) over checkpoints, and the two lagged rhos."""
    from gankit.studies.correlation import lagged_spearman, spearman

    modes = [t["modes"] for t in trace]
    erank = [t["erank"] for t in trace]
    smin = [t["smin_rel"] for t in trace]
    return {"rho_erank_modes": spearman(erank, modes), "rho_smin_modes": spearman(smin, modes),
            "rank_leads": lagged_spearman(erank, modes, 1), "modes_lead": lagged_spearman(modes, erank, 1)}


def collapse_report(study: CollapseStudy, results: list[dict[str, Any]]) -> StudyReport:
    from gankit.report import html
    from gankit.studies.common import band_figure, fmt_ci, jsonable, mean_ci

    summary: dict[str, Any] = {}
    md = ["# gankit study collapse", "",
          f"Non-saturating GAN, {study.steps} G steps, measured every {study.every}; {study.seeds} seeds; ortho weight "
          f"{study.ortho_weight:g}, one-sided GP weight {study.gp_weight:g}. Means over seeds, 95 % bootstrap "
          "intervals. rho: Spearman over checkpoints within a run, then averaged over seeds (runs where either "
          "series is constant give no rho and are left out; n says how many remain).", ""]
    body: list[str] = []
    for d in study.datasets:
        md += [f"## {d}", "",
               "| variant | final modes | final HQ | final eff. rank | final smin/smax | rho(eff. rank, modes) (n) | "
               "rho(rank t, modes t+1) | rho(modes t, rank t+1) |", "|---|---|---|---|---|---|---|---|"]
        rows = []
        summary[d] = {}
        series_modes, series_rank, series_smin = {}, {}, {}
        for v in study.variants:
            rs = [r for r in results if r["dataset"] == d and r["variant"] == v]
            if not rs:
                continue
            stats = [run_stats(r["trace"]) for r in rs]
            fin = {k: mean_ci([r["trace"][-1][k] for r in rs]) for k in ("modes", "hq", "erank", "smin_rel")}
            cor = {k: mean_ci([s[k] for s in stats]) for k in stats[0]}
            n_rho = sum(math.isfinite(s["rho_erank_modes"]) for s in stats)
            summary[d][v] = {"final": fin, "correlation": cor, "n_rho": n_rho, "n": len(rs)}
            md.append(f"| {v} | {fmt_ci(*fin['modes'], 1)} | {fmt_ci(*fin['hq'])} | {fmt_ci(*fin['erank'])} | "
                      f"{fmt_ci(*fin['smin_rel'])} | {fmt_ci(*cor['rho_erank_modes'], 2)} ({n_rho}) | "
                      f"{fmt_ci(*cor['rank_leads'], 2)} | {fmt_ci(*cor['modes_lead'], 2)} |")
            rows.append([v, fmt_ci(*fin["modes"], 1), fmt_ci(*fin["hq"]), fmt_ci(*fin["erank"]), fmt_ci(*fin["smin_rel"]),
                         f"{fmt_ci(*cor['rho_erank_modes'], 2)} ({n_rho})", fmt_ci(*cor["rank_leads"], 2),
                         fmt_ci(*cor["modes_lead"], 2)])
            steps = [t["step"] for t in rs[0]["trace"]]
            series_modes[v] = (steps, [[t["modes"] for t in r["trace"]] for r in rs])
            series_rank[v] = (steps, [[t["erank"] for t in r["trace"]] for r in rs])
            series_smin[v] = (steps, [[max(t["smin_rel"], 1e-12) for t in r["trace"]] for r in rs])
        md.append("")
        body += [html.heading(d),
                 html.table(["variant", "final modes", "final HQ", "final eff. rank", "final smin/smax",
                             "rho(eff. rank, modes) (n)", "rho(rank t, modes t+1)", "rho(modes t, rank t+1)"], rows)]
        if series_modes:
            body.append(html.figure(band_figure(series_modes, "G step", "modes covered", f"{d}: modes"),
                                    f"{d}: modes covered over training, mean and 95 % CI over seeds"))
            body.append(html.figure(band_figure(series_rank, "G step", "mean effective rank of dG/dz",
                                                f"{d}: Jacobian effective rank"),
                                    f"{d}: effective rank of G's Jacobian at 64 fixed z"))
            body.append(html.figure(band_figure(series_smin, "G step", "mean smin / smax", f"{d}: smallest singular value",
                                                logy=True), f"{d}: smallest over largest singular value of dG/dz"))
    return StudyReport(jsonable(summary), "\n".join(md) + "\n", body, title="gankit study collapse",
                       subtitle="mode collapse as local dimensional deficiency")


STUDY = CollapseStudy
__all__ = ["CollapseStudy", "STUDY", "VARIANTS", "job", "run_stats"]
