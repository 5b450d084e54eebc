"""``gankit study generalize``: the MRE protocol of the Loss-Sensitive GAN paper (Qi 2017, Sec. 6).

The claim: GANs with a Lipschitz-type regularity (LS-GAN, GLS-GAN, WGAN, WGAN-GP) generalise - their
generator reconstructs held-out test images about as well as training images, with a lower and steadier
test minimum reconstruction error (MRE) than the unregularised ones (GAN, f-GAN, LSGAN, EBGAN); GLS-GAN
reaches the lowest test MRE.

Protocol here: ``digits`` (scikit-learn's 8x8 digits; fixed split 1,437 train / 180 val / 180 test). Each
objective is trained on the training split by gankit's trainer with its mnist5k preset's recipe (objective,
regularisers, learning rates, d_steps) and the DCGAN pair for 8x8 images, for several seeds. At every
checkpoint, MRE(x) = min_z ||G(z) - x|| (:mod:`gankit.metrics.mre`, Adam on z, restarts, the best iterate)
of fixed subsets of training and test images (val at the end); the test - train gap; the fluctuation of the
test MRE (standard deviation over the second half of the checkpoints); at the end the nearest-neighbour
memorisation check (:mod:`gankit.metrics.memorization`: generated samples' distance to the nearest training
image vs test images').

The report compares the two groups per seed (mean over the group's objectives; regularised - unregularised,
paired by seed: :func:`gankit.studies.stats.paired_effect`) and ranks the objectives by final test MRE.

Small default (about 10 min on 2 shared cores, --workers 2): 8 objectives x 2 seeds x 400 steps, MRE of
64 + 64 images (40 Adam steps, 2 restarts) at 4 checkpoints. Full setting: ``gankit study generalize
--seeds 10 --steps 10000 --every 1000 --n-mre 180 --mre-steps 200 --restarts 5 --workers 8``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gankit.studies.runner import Job, Study, StudyError, StudyReport, settings_of

DESCRIPTION = "the LS-GAN paper's MRE protocol: train/test reconstruction error over training, regularised vs not"
DEFAULT_OUT = "studies/generalize"
REGULARISED = ("loss-sensitive", "gls-gan", "wgan", "wgan-gp")
UNREGULARISED = ("nonsaturating", "fgan", "lsgan", "ebgan")


def add_arguments(parser: Any) -> None:
    parser.add_argument("--objectives", nargs="+", default=list(REGULARISED + UNREGULARISED),
                        choices=list(REGULARISED + UNREGULARISED), help="objectives (default: the eight of the claim)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per objective (default 2)")
    parser.add_argument("--data", default="digits", choices=["digits", "mnist5k"], help="images (default digits)")
    parser.add_argument("--steps", type=int, default=400, help="G steps per run (default 400)")
    parser.add_argument("--every", type=int, default=100, help="G steps between MRE measurements (default 100)")
    parser.add_argument("--n-mre", dest="n_mre", type=int, default=64, help="train and test images in the MRE (default 64)")
    parser.add_argument("--mre-steps", dest="mre_steps", type=int, default=40, help="Adam steps on z (default 40)")
    parser.add_argument("--restarts", type=int, default=2, help="MRE restarts per image (default 2)")


def job(objective: str, seed: int, data: str, steps: int, every: int, n_mre: int, mre_steps: int,
        restarts: int) -> dict[str, Any]:

    import torch

    from gankit.metrics.memorization import memorization
    from gankit.metrics.mre import MREConfig, reconstruction_errors
    from gankit.studies.common import recipe, train_quietly

    cfg = recipe(objective, data, steps, seed, net={"name": "dcgan", "z_dim": 32, "width": 32}, family="mnist5k",
                 extra=["eval.at_end=false", "train.batch_size=64"])
    run = train_quietly(cfg, checkpoint_every=every)
    ds = run.dataset
    train_split, test_split, val_split = ds.split("train"), ds.split("test"), ds.split("val")
    pick = torch.Generator().manual_seed(99)
    tr_idx = torch.randperm(len(train_split), generator=pick)[:n_mre]
    te_idx = torch.randperm(len(test_split), generator=pick)[:n_mre]
    x_tr, x_te = train_split.float_x(tr_idx), test_split.float_x(te_idx)
    mcfg = MREConfig(steps=mre_steps, restarts=restarts, seed=seed)
    trace = []
    for step, G in run.generators:
        tr = reconstruction_errors(G, run.prior, x_tr, mcfg)
        te = reconstruction_errors(G, run.prior, x_te, mcfg)
        trace.append({"step": step, "train": float(tr.double().mean()), "test": float(te.double().mean())})
    G = run.generators[-1][1]
    x_val = val_split.float_x(torch.arange(min(n_mre, len(val_split))))
    val = float(reconstruction_errors(G, run.prior, x_val, mcfg).double().mean())
    with torch.no_grad():
        fake = run.model.sample(len(test_split), seed=seed + 555, G=G)
    mem = memorization(fake, train_split.float_x(torch.arange(len(train_split))),
                       test_split.float_x(torch.arange(len(test_split))))
    return {"objective": objective, "regularised": objective in REGULARISED, "seed": seed, "trace": trace,
            "final_train": trace[-1]["train"], "final_test": trace[-1]["test"], "final_val": val,
            "gap": trace[-1]["test"] - trace[-1]["train"],
            "memorization": {"gen_median": mem.gen_median, "test_median": mem.test_median, "ratio": mem.ratio,
                             "near_copy_share": mem.near_copy_share, "test_near_copy_share": mem.test_near_copy_share},
            "mre_protocol": mcfg.describe(), "n_mre": n_mre}


def fluctuation(trace: list[dict[str, Any]], key: str = "test") -> float:
    """Standard deviation of ``key`` over the second half of the checkpoints (at least two of them)."""
    import numpy as np

    vals = [t[key] for t in trace[len(trace) // 2:]]
    if len(vals) < 2:
        vals = [t[key] for t in trace[-2:]]
    return float(np.std(vals, ddof=1)) if len(vals) >= 2 else math.nan


@dataclass
class GeneralizeStudy(Study):
    objectives: list[str] = field(default_factory=lambda: list(REGULARISED + UNREGULARISED))
    seeds: int = 2
    data: str = "digits"
    steps: int = 400
    every: int = 100
    n_mre: int = 64
    mre_steps: int = 40
    restarts: int = 2
    name: str = "generalize"

    def settings(self) -> dict[str, Any]:
        return settings_of(self)

    def jobs(self) -> list[Job]:
        if self.seeds < 1 or self.every < 1 or self.steps < self.every or self.n_mre < 1 or self.mre_steps < 1 \
                or self.restarts < 1:
            raise StudyError("--seeds, --every, --n-mre, --mre-steps, --restarts must be at least 1 and --steps >= --every")
        return [Job("gankit.studies.generalize:job",
                    {"objective": o, "seed": s, "data": self.data, "steps": self.steps, "every": self.every,
                     "n_mre": self.n_mre, "mre_steps": self.mre_steps, "restarts": self.restarts},
                    label=f"{o}-seed{s}") for s in range(self.seeds) for o in self.objectives]

    def report(self, records: list[dict[str, Any]]) -> StudyReport:
        return generalize_report(self, [r["result"] for r in records])


def generalize_report(study: GeneralizeStudy, results: list[dict[str, Any]]) -> StudyReport:
    import numpy as np

    from gankit.report import html
    from gankit.studies.common import band_figure, fmt_ci, jsonable, mean_ci
    from gankit.studies.stats import paired_effect

    per_obj: dict[str, Any] = {}
    rows = []
    md = ["# gankit study generalize", "",
          f"{study.data}, {study.steps} G steps, MRE of {study.n_mre} train and {study.n_mre} test images every "
          f"{study.every} steps ({study.mre_steps} Adam steps on z, {study.restarts} restarts, best iterate); "
          f"{study.seeds} seeds. Means over seeds with 95 % bootstrap intervals. Fluctuation: standard deviation "
          "of the test MRE over the second half of the checkpoints. Memorisation: median distance of generated "
          "samples to their nearest training image / the same for test images (1: as far as new real data).", "",
          "| objective | group | final train MRE | final test MRE | gap (test - train) | val MRE | fluctuation | NN ratio |",
          "|---|---|---|---|---|---|---|---|"]
    for o in study.objectives:
        rs = [r for r in results if r["objective"] == o]
        if not rs:
            continue
        e = {k: mean_ci([r[k] for r in rs]) for k in ("final_train", "final_test", "gap", "final_val")}
        e["fluct"] = mean_ci([fluctuation(r["trace"]) for r in rs])
        e["nn_ratio"] = mean_ci([r["memorization"]["ratio"] for r in rs])
        e["group"] = "regularised" if o in REGULARISED else "unregularised"
        per_obj[o] = e
        md.append(f"| {o} | {e['group']} | {fmt_ci(*e['final_train'])} | {fmt_ci(*e['final_test'])} | {fmt_ci(*e['gap'])} | "
                  f"{fmt_ci(*e['final_val'])} | {fmt_ci(*e['fluct'])} | {fmt_ci(*e['nn_ratio'])} |")
        rows.append([o, e["group"], fmt_ci(*e["final_train"]), fmt_ci(*e["final_test"]), fmt_ci(*e["gap"]),
                     fmt_ci(*e["final_val"]), fmt_ci(*e["fluct"]), fmt_ci(*e["nn_ratio"])])
    summary: dict[str, Any] = {"per_objective": per_obj}
    ranking = sorted(per_obj, key=lambda o: per_obj[o]["final_test"][0])
    summary["ranking_test_mre"] = ranking
    md += ["", f"Lowest final test MRE: {ranking[0]}; order: {', '.join(ranking)}.", ""]

    # the two groups, paired by seed
    seeds = sorted({r["seed"] for r in results})
    diffs: dict[str, list[float]] = {"final_test": [], "fluct": [], "gap": []}
    for s in seeds:
        reg = [r for r in results if r["seed"] == s and r["regularised"]]
        unr = [r for r in results if r["seed"] == s and not r["regularised"]]
        if reg and unr:
            diffs["final_test"].append(np.mean([r["final_test"] for r in reg]) - np.mean([r["final_test"] for r in unr]))
            diffs["fluct"].append(np.nanmean([fluctuation(r["trace"]) for r in reg])
                                  - np.nanmean([fluctuation(r["trace"]) for r in unr]))
            diffs["gap"].append(np.mean([r["gap"] for r in reg]) - np.mean([r["gap"] for r in unr]))
    groups = {}
    if diffs["final_test"]:
        md += ["## Regularised - unregularised (group means, paired by seed)", "",
               "| measure | mean difference | 95 % CI | exact signed-rank p | seeds |", "|---|---|---|---|---|"]
        for k, d in diffs.items():
            e = paired_effect(d, seed=0)
            groups[k] = e
            md.append(f"| {k} | {e['mean']:.4f} | [{e['ci95'][0]:.4f}, {e['ci95'][1]:.4f}] | {e['p']:.3g} | {e['n']} |")
        md += ["", "A negative difference favours the regularised group (lower MRE, steadier, smaller gap). With "
               f"{len(seeds)} seeds the smallest reachable two-sided p is {2 / 2 ** len(seeds):.3g}.", ""]
    summary["groups"] = groups

    body = [html.heading("Final MRE per objective"),
            html.table(["objective", "group", "train MRE", "test MRE", "gap", "val MRE", "fluctuation", "NN ratio"], rows)]
    if groups:
        body += [html.heading("Regularised - unregularised"),
                 html.table(["measure", "mean diff", "95 % CI", "p", "seeds"],
                            [[k, e["mean"], f"[{e['ci95'][0]:.4f}, {e['ci95'][1]:.4f}]", e["p"], e["n"]]
                             for k, e in groups.items()])]
    for split in ("test", "train"):
        series = {}
        for o in study.objectives:
            rs = [r for r in results if r["objective"] == o]
            if rs:
                series[o] = ([t["step"] for t in rs[0]["trace"]], [[t[split] for t in r["trace"]] for r in rs])
        if series:
            body.append(html.figure(band_figure(series, "G step", f"{split} MRE", f"{split} MRE over training",
                                                size=(6.5, 3.8)),
                                    f"{split} MRE over training, mean and 95 % CI over seeds"))
    body.append(html.figure(_memo_figure(study, results), "memorisation: nearest-train distance ratio vs test MRE"))
    return StudyReport(jsonable(summary), "\n".join(md) + "\n", body, title="gankit study generalize",
                       subtitle="minimum reconstruction error on training and test images")


def _memo_figure(study, results):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for o in study.objectives:
        rs = [r for r in results if r["objective"] == o]
        if not rs:
            continue
        marker = "o" if o in REGULARISED else "x"
        axes[0].scatter([r["final_test"] for r in rs], [r["memorization"]["ratio"] for r in rs], marker=marker, label=o)
        axes[1].scatter([r["final_train"] for r in rs], [r["final_test"] for r in rs], marker=marker, label=o)
    axes[0].axhline(1.0, color="grey", lw=0.8, ls="--")
    axes[0].set_xlabel("final test MRE")
    axes[0].set_ylabel("NN distance ratio (generated / test)")
    lims = [min(r["final_train"] for r in results), max(r["final_test"] for r in results)]
    axes[1].plot(lims, lims, color="grey", lw=0.8, ls="--")
    axes[1].set_xlabel("final train MRE")
    axes[1].set_ylabel("final test MRE")
    axes[1].legend(fontsize=6)
    return fig


STUDY = GeneralizeStudy
__all__ = ["GeneralizeStudy", "REGULARISED", "STUDY", "UNREGULARISED", "fluctuation", "job"]
