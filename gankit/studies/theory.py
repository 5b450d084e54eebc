"""``gankit study theory``: the original GAN's theory (Goodfellow et al. 2014) on densities known exactly.

Four checks, each a set of jobs over seeds:

1. **D\\* (Prop. 1)** - for a fixed generator distribution q (an exact Gaussian), train D alone with the
   GAN's discriminator loss (``gankit.objectives.gan``) on fresh samples of p (a toy with a known density:
   ``mog1d``, ``ring8``, ``grid25``) and of q, then compare D(x) with D*(x) = p(x) / (p(x) + q(x)) on a grid:
   the error curve (1D), its maximum where the mixture (p + q) / 2 has mass, the mixture-weighted mean
   error, all at several points of D's training (is it converging to D*?).
2. **V(D\\*, G) = -log 4 + 2 JSD (Thm. 1)** - p = N(0, 1), q = N(s, 1) for a family of shifts s: the value
   of the trained D and of the exact D* (Monte Carlo on fresh samples) beside -log 4 + 2 JSD(p || q), the
   JSD integrated numerically (:func:`jsd_numeric`, midpoint rule on a fine grid).
3. **Saturation (Sec. 3)** - on the same family, the norm of G's gradient d loss / d theta for the
   generator x = z + theta (theta = s), under the minimax loss E log(1 - D(G(z))) and the non-saturating
   loss -E log D(G(z)), D held fixed: with the trained D and with the exact D*. Measured, not asserted.
4. **The k of Algorithm 1** - gankit's trainer on ``mog1d`` (non-saturating, the ring8 recipe), with
   ``train.d_steps`` k in {1, 2, 5} at equal compute (k + 1 network updates per G step, the same total
   for every k); final quality: the numerical JSD between p and a KDE of 2,000 samples (lower is better),
   with modes covered and the HQ share beside it.

Small default (about 10 min on 2 shared cores with --workers 2): 3 seeds. Full setting:
``gankit study theory --seeds 10 --d-iters 4000 --shift-iters 2000 --updates 6000 --workers 8``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from gankit.studies.runner import Job, Study, StudyError, StudyReport, settings_of

DESCRIPTION = "the original GAN's theory on exact densities: D*, V(D*,G) vs JSD, saturation, k of Algorithm 1"
DEFAULT_OUT = "studies/theory"
LOG4 = math.log(4.0)

# the fixed q of the D* check, per dataset: an isotropic Gaussian N(0, scale^2 I) covering the data
DSTAR_Q = {"mog1d": 2.0, "gauss1d": 2.0, "ring8": 0.8, "grid25": 3.0}
DSTAR_BOUNDS = {"mog1d": [(-6.0, 6.0)], "gauss1d": [(-6.0, 6.0)], "ring8": [(-2.0, 2.0)] * 2,
                "grid25": [(-6.0, 6.0)] * 2}


def add_arguments(parser: Any) -> None:
    parser.add_argument("--seeds", type=int, default=3, help="seeds per setting (default 3)")
    parser.add_argument("--datasets", nargs="+", default=["mog1d", "ring8", "grid25"], choices=sorted(DSTAR_Q),
                        help="data of the D* check (default mog1d ring8 grid25)")
    parser.add_argument("--d-iters", dest="d_iters", type=int, default=1500,
                        help="D's Adam steps in the D* check (default 1500)")
    parser.add_argument("--shifts", nargs="+", type=float, default=[0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0],
                        help="shifts s of q = N(s, 1) against p = N(0, 1)")
    parser.add_argument("--shift-iters", dest="shift_iters", type=int, default=800,
                        help="D's Adam steps per shift (default 800)")
    parser.add_argument("--n-mc", dest="n_mc", type=int, default=20_000,
                        help="Monte Carlo samples per side for V(D) and V(D*) in the shift family (default 20000)")
    parser.add_argument("--ks", nargs="+", type=int, default=[1, 2, 5], help="d_steps values (default 1 2 5)")
    parser.add_argument("--updates", type=int, default=1800,
                        help="network updates per run in the k check, (k + 1) per G step (default 1800)")


# ---- exact pieces (tested against closed forms) -------------------------------------------------------

def xlogy(x, y):
    """x log y with 0 log 0 = 0 (numpy or torch arrays of float64)."""
    import numpy as np

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    out = np.zeros(np.broadcast(x, y).shape)
    pos = np.broadcast_to(x > 0, out.shape)
    xb, yb = np.broadcast_to(x, out.shape), np.broadcast_to(y, out.shape)
    out[pos] = xb[pos] * np.log(yb[pos])
    return out


def jsd_numeric(p, q, weight: float = 1.0) -> float:
    """JSD(p || q) in nats of two densities (or probability vectors) given on the same points.

    ``weight`` is the volume of one cell (1 for discrete distributions), so the integral is the
    midpoint-rule sum. JSD = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q) / 2; 0 <= JSD <= log 2, with
    log 2 exactly when the supports are disjoint.
    """
    import numpy as np

    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p and q must be given on the same points, got {p.shape} and {q.shape}")
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        rp = np.where(p > 0, p / np.where(m > 0, m, 1), 1.0)
        rq = np.where(q > 0, q / np.where(m > 0, m, 1), 1.0)
    return float(0.5 * (xlogy(p, rp).sum() + xlogy(q, rq).sum()) * weight)


def optimal_d(log_p, log_q):
    """D*(x) = p / (p + q) = sigmoid(log p - log q), computed stably (torch tensors)."""
    import torch

    return torch.sigmoid(log_p - log_q)


def dstar_errors(d: Any, d_star: Any, mix: Any, mass: float = 0.01) -> dict[str, float]:
    """max |D - D*| where the mixture density is at least ``mass`` x its maximum, and the mix-weighted MAE."""
    import numpy as np

    d, d_star, mix = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (d, d_star, mix))
    err = np.abs(d - d_star)
    keep = mix >= mass * mix.max()
    return {"max": float(err[keep].max()), "mae": float((mix * err).sum() / mix.sum()),
            "support_share": float(keep.mean())}


def gauss_log_prob(x, mean, scale: float):
    """log N(x; mean, scale^2 I) for rows x (N, d) (torch, float64)."""
    import torch

    x = x.to(torch.float64)
    d = x.shape[1]
    return (-0.5 * ((x - torch.as_tensor(mean, dtype=torch.float64)) / scale).pow(2).sum(1)
            - d * math.log(scale) - 0.5 * d * math.log(2 * math.pi))


# ---- training a D alone --------------------------------------------------------------------------------

def make_d(dim: int, width: int = 64, seed: int = 0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(dim, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
                         nn.Linear(width, 1))


def train_d(sample_p: Callable, sample_q: Callable, dim: int, iters: int, seed: int, batch: int = 512,
            lr: float = 1e-3, snapshots: tuple[int, ...] = (), on_snapshot: Callable | None = None):
    """D trained with the GAN's discriminator loss (-V of Eq. 1, :mod:`gankit.objectives.gan`) on fresh batches."""
    import torch

    from gankit.objectives.gan import NonSaturating

    objective = NonSaturating()
    D = make_d(dim, seed=seed)
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    g = torch.Generator().manual_seed(10_000 + seed)
    for it in range(1, iters + 1):
        real, fake = sample_p(batch, g), sample_q(batch, g)
        loss = objective.d_loss(D(real), D(fake))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if on_snapshot is not None and it in snapshots:
            on_snapshot(it, D)
    return D


def _d_prob(D):
    import torch

    def f(x):
        with torch.no_grad():
            return torch.sigmoid(D(x.to(torch.float32)).to(torch.float64)).reshape(-1)
    return f


# ---- the jobs ---------------------------------------------------------------------------------------------

def dstar_job(dataset: str, seed: int, iters: int, n_eval: int = 4000) -> dict[str, Any]:
    """Part 1: D trained on p (toy) vs fixed q = N(0, s^2 I); errors to D* at snapshots; the 1D curve.

    The errors are taken at ``n_eval`` fresh points of the mixture (p + q) / 2 (half from each), the
    region where D is trained and D* is defined, so a mode of std 0.01 (ring8) is resolved as well as a
    broad one; V(D) and V(D*) are Monte Carlo means on the same points; JSD(p || q) on a grid (1D) or by
    Monte Carlo (2D: JSD = 1/2 E_p log(2 D*) + 1/2 E_q log(2 (1 - D*)))."""
    import torch

    from gankit.data.toy import TOY_DISTRIBUTIONS
    from gankit.metrics.dstar import grid_points

    p = TOY_DISTRIBUTIONS[dataset]()
    dim, scale = p.dim, DSTAR_Q[dataset]

    def sample_q(n, g):
        return scale * torch.randn(n, dim, generator=g)

    def log_q(x):
        return gauss_log_prob(x, [0.0] * dim, scale)

    g = torch.Generator().manual_seed(30_000 + seed)
    xp, xq = p.sample(n_eval // 2, g).double(), sample_q(n_eval // 2, g).double()
    pts = torch.cat([xp, xq])
    d_star = optimal_d(p.log_prob(pts), log_q(pts))
    ones = torch.ones(len(pts), dtype=torch.float64)

    snaps = sorted({max(1, iters // 8), max(1, iters // 4), max(1, iters // 2), iters})
    trace: list[dict[str, Any]] = []

    def snapshot(it, D):
        trace.append({"iter": it, **dstar_errors(_d_prob(D)(pts), d_star, ones, mass=0.0)})

    D = train_d(p.sample, sample_q, dim, iters, seed, snapshots=tuple(snaps), on_snapshot=snapshot)
    out: dict[str, Any] = {"dataset": dataset, "seed": seed, "q_scale": scale, "trace": trace,
                           "final": trace[-1], "n_eval": len(pts)}
    eps = 1e-300
    d = _d_prob(D)(pts)
    n = len(xp)
    out["value_trained"] = float(d[:n].clamp(min=eps).log().mean() + (1 - d[n:]).clamp(min=eps).log().mean())
    out["value_optimal_mc"] = float(d_star[:n].clamp(min=eps).log().mean() + (1 - d_star[n:]).clamp(min=eps).log().mean())
    if dim == 1:
        points, cell = grid_points(DSTAR_BOUNDS[dataset], 4001)
        pd, qd = p.log_prob(points).exp(), log_q(points).exp()
        out["jsd"] = jsd_numeric(pd.numpy(), qd.numpy(), cell)
        grid_star = optimal_d(p.log_prob(points), log_q(points))
        keep = slice(None, None, 20)
        out["curve"] = {"x": points[keep, 0].tolist(), "d": _d_prob(D)(points)[keep].tolist(),
                        "d_star": grid_star[keep].tolist()}
    else:
        out["jsd"] = float(0.5 * (2 * d_star[:n]).clamp(min=eps).log().mean()
                           + 0.5 * (2 * (1 - d_star[n:])).clamp(min=eps).log().mean())
    out["value_optimal"] = -LOG4 + 2 * out["jsd"]
    return out


def shift_job(shift: float, seed: int, iters: int, n_mc: int = 20_000) -> dict[str, Any]:
    """Parts 2 and 3: p = N(0, 1), q = N(s, 1); V(D), V(D*) vs -log 4 + 2 JSD; G's gradient norms."""
    import numpy as np
    import torch

    from gankit.objectives.gan import Minimax, NonSaturating

    def sample_p(n, g):
        return torch.randn(n, 1, generator=g)

    def sample_q(n, g):
        return torch.randn(n, 1, generator=g) + shift

    D = train_d(sample_p, sample_q, 1, iters, seed)
    xs = np.linspace(-12.0, 12.0 + shift, 200_001)
    dens = lambda mu: np.exp(-0.5 * (xs - mu) ** 2) / math.sqrt(2 * math.pi)  # noqa: E731
    jsd = jsd_numeric(dens(0.0), dens(shift), float(xs[1] - xs[0]))

    def log_p(x):
        return gauss_log_prob(x, [0.0], 1.0)

    def log_q(x):
        return gauss_log_prob(x, [shift], 1.0)

    g = torch.Generator().manual_seed(20_000 + seed)
    xp, xq = sample_p(n_mc, g).double(), sample_q(n_mc, g).double()
    eps = 1e-300

    def value(prob) -> tuple[float, float]:
        a, b = prob(xp).clamp(min=eps).log(), (1 - prob(xq)).clamp(min=eps).log()
        terms = a.mean() + b.mean()
        se = math.sqrt(float(a.var() / n_mc + b.var() / n_mc))
        return float(terms), se

    d_prob = _d_prob(D)
    v_trained, se_trained = value(d_prob)
    v_star, se_star = value(lambda x: optimal_d(log_p(x), log_q(x)))

    # G(z) = z + theta, theta = shift: the gradient of G's loss w.r.t. theta with D held fixed
    z = torch.randn(n_mc, 1, generator=g, dtype=torch.float64)
    grads: dict[str, float] = {}
    for dname, logit_fn in {
        "trained": lambda x: D(x.to(torch.float32)).to(torch.float64).reshape(-1),
        "optimal": lambda x: (log_p(x) - log_q(x)).reshape(-1),  # logit of D*, q frozen at this theta
    }.items():
        for lname, objective in (("minimax", Minimax()), ("nonsaturating", NonSaturating())):
            theta = torch.tensor(float(shift), dtype=torch.float64, requires_grad=True)
            loss = objective.g_loss(logit_fn(z + theta))
            (grad,) = torch.autograd.grad(loss, theta)
            grads[f"{lname}_{dname}"] = abs(float(grad))
    return {"shift": shift, "seed": seed, "n_mc": n_mc, "jsd": jsd, "theory": -LOG4 + 2 * jsd, "value_trained": v_trained,
            "value_trained_se": se_trained, "value_optimal_mc": v_star, "value_optimal_se": se_star,
            "grad": grads}


def k_job(k: int, seed: int, updates: int) -> dict[str, Any]:
    """Part 4: gankit's trainer on mog1d with d_steps = k and updates / (k + 1) G steps."""
    import numpy as np
    import torch

    from gankit.metrics.dstar import kde_density
    from gankit.metrics.modes import mode_metrics
    from gankit.studies.common import recipe, train_quietly

    steps = max(1, updates // (k + 1))
    cfg = recipe("nonsaturating", "mog1d", steps, seed, net={"name": "mlp", "z_dim": 2, "width": 64, "depth": 2},
                 extra=[f"train.d_steps={k}", "eval.at_end=false", "train.log_every=50"])
    run = train_quietly(cfg)
    G = run.generators[-1][1]
    with torch.no_grad():
        x = G(run.prior.sample(2000, seed=seed)).double()
    p = run.dataset.distribution
    xs = torch.linspace(-6, 6, 2001, dtype=torch.float64)[:, None]
    pd = p.log_prob(xs).exp().numpy()
    qd = kde_density(x, xs).numpy()
    cell = float(xs[1, 0] - xs[0, 0])
    pd, qd = pd / (pd.sum() * cell), qd / (qd.sum() * cell)
    modes = mode_metrics(x, p.centres, p.std)
    accs = [h for h in run.history if "d_acc_real" in h]
    return {"k": k, "seed": seed, "g_steps": steps, "updates": steps * (k + 1), "jsd": jsd_numeric(pd, qd, cell),
            "modes_covered": modes.modes_covered, "hq_fraction": modes.hq_fraction,
            "reverse_kl": modes.reverse_kl if math.isfinite(modes.reverse_kl) else None,
            "final_d_acc": float(np.mean([(h["d_acc_real"] + h["d_acc_fake"]) / 2 for h in accs[-3:]])) if accs else None}


# ---- the study ---------------------------------------------------------------------------------------------

@dataclass
class TheoryStudy(Study):
    seeds: int = 3
    datasets: list[str] = field(default_factory=lambda: ["mog1d", "ring8", "grid25"])
    d_iters: int = 1500
    shifts: list[float] = field(default_factory=lambda: [0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0])
    shift_iters: int = 800
    ks: list[int] = field(default_factory=lambda: [1, 2, 5])
    updates: int = 1800
    n_mc: int = 20_000
    name: str = "theory"

    def settings(self) -> dict[str, Any]:
        return settings_of(self)

    def jobs(self) -> list[Job]:
        if self.seeds < 1 or self.d_iters < 1 or self.shift_iters < 1 or self.updates < 2:
            raise StudyError("--seeds, --d-iters, --shift-iters must be at least 1 and --updates at least 2")
        if any(k < 1 for k in self.ks):
            raise StudyError(f"--ks: every k must be at least 1, got {self.ks}")
        jobs = []
        for s in range(self.seeds):
            jobs += [Job("gankit.studies.theory:dstar_job", {"dataset": d, "seed": s, "iters": self.d_iters},
                         label=f"dstar-{d}-seed{s}") for d in self.datasets]
            jobs += [Job("gankit.studies.theory:shift_job", {"shift": float(x), "seed": s, "iters": self.shift_iters,
                                                                   **self._mc()},
                         label=f"shift{x:g}-seed{s}") for x in self.shifts]
            jobs += [Job("gankit.studies.theory:k_job", {"k": k, "seed": s, "updates": self.updates},
                         label=f"k{k}-seed{s}") for k in self.ks]
        return jobs

    def _mc(self) -> dict[str, int]:
        # the default sample size is left out of the job's params, so its id is that of the jobs measured
        # before --n-mc existed (docs/studies/theory.md): a rerun with the default reuses them
        return {} if self.n_mc == 20_000 else {"n_mc": self.n_mc}

    def report(self, records: list[dict[str, Any]]) -> StudyReport:
        return theory_report(self, [r["result"] for r in records])


def theory_report(study: TheoryStudy, results: list[dict[str, Any]]) -> StudyReport:
    from gankit.report import html
    from gankit.studies.common import band_figure, fmt_ci, jsonable, mean_ci

    dstar = [r for r in results if "q_scale" in r]
    shift = [r for r in results if "grad" in r]
    kres = [r for r in results if "g_steps" in r]
    summary: dict[str, Any] = {"dstar": {}, "shift": {}, "k": {}}
    md = ["# gankit study theory", "",
          "The original GAN's theory on densities known exactly (Goodfellow et al. 2014). Means over seeds with "
          "95 % percentile-bootstrap intervals.", ""]
    body: list[str] = []

    # 1. D*
    md += ["## 1. Trained D vs D* = p / (p + q)", "",
           "| data | q | D's steps | max abs(D - D*) | mean abs(D - D*) | V(D) | V(D*) Monte Carlo | -log 4 + 2 JSD |", "|---|---|---|---|---|---|---|---|"]
    rows = []
    trace_series: dict[str, Any] = {}
    for d in study.datasets:
        rs = [r for r in dstar if r["dataset"] == d]
        if not rs:
            continue
        mx, mae = mean_ci([r["final"]["max"] for r in rs]), mean_ci([r["final"]["mae"] for r in rs])
        vt, vm = mean_ci([r["value_trained"] for r in rs]), mean_ci([r["value_optimal_mc"] for r in rs])
        vo = mean_ci([r["value_optimal"] for r in rs])
        summary["dstar"][d] = {"max_error": mx, "mae": mae, "value_trained": vt, "value_optimal_mc": vm,
                               "value_optimal": vo, "n": len(rs)}
        q = f"N(0, {rs[0]['q_scale']:g}^2 I)"
        md.append(f"| {d} | {q} | {study.d_iters} | {fmt_ci(*mx)} | {fmt_ci(*mae)} | {fmt_ci(*vt)} | {fmt_ci(*vm)} | "
                  f"{fmt_ci(*vo)} |")
        rows.append([d, q, fmt_ci(*mx), fmt_ci(*mae), fmt_ci(*vt), fmt_ci(*vm), fmt_ci(*vo)])
        trace_series[d] = ([t["iter"] for t in rs[0]["trace"]], [[t["max"] for t in r["trace"]] for r in rs])
    body += [html.heading("1. Trained D vs D* = p / (p + q)"),
             html.table(["data", "q", "max |D - D*|", "mean |D - D*|", "V(D)", "V(D*) MC", "-log4+2JSD"], rows),
             html.paragraph("Errors at 4,000 fresh points of the mixture (p + q) / 2, half from each.", "note")]
    if trace_series:
        body.append(html.figure(band_figure(trace_series, "D's Adam steps", "max |D - D*| on mixture samples",
                                            "convergence of D to D*"), "max error over D's training, mean and 95 % CI"))
    curves = [r for r in dstar if "curve" in r and r["dataset"] == "mog1d"] or [r for r in dstar if "curve" in r]
    if curves:
        x = curves[0]["curve"]["x"]
        fig = band_figure({"trained D": (x, [r["curve"]["d"] for r in curves]),
                           "D* exact": (x, [curves[0]["curve"]["d_star"]])}, "x", "D(x)",
                          f"{curves[0]['dataset']} vs N(0, {curves[0]['q_scale']:g}^2)")
        body.append(html.figure(fig, "D(x) over seeds (band: 95 % CI) and the exact D*"))
        err = {"|D - D*|": (x, [[abs(a - b) for a, b in zip(r["curve"]["d"], r["curve"]["d_star"])] for r in curves])}
        body.append(html.figure(band_figure(err, "x", "|D(x) - D*(x)|", "error curve"), "error curve, 1D"))
    md.append("")

    # 2 and 3: shift family
    shifts = sorted({r["shift"] for r in shift})
    if shifts:
        md += ["## 2. V(D*, G) vs -log 4 + 2 JSD(p || q), p = N(0, 1), q = N(s, 1)", "",
               "| s | JSD (numerical) | -log 4 + 2 JSD | V(D*) Monte Carlo [bootstrap CI over seeds] (MC s.e. of the mean) | V(trained D) | "
               "abs grad minimax (trained D) | abs grad non-sat. (trained D) | abs grad minimax (D*) | abs grad non-sat. (D*) |",
               "|---|---|---|---|---|---|---|---|---|"]
        rows = []
        per_shift = {}
        for s in shifts:
            rs = [r for r in shift if r["shift"] == s]
            e = {"jsd": rs[0]["jsd"], "theory": rs[0]["theory"],
                 "value_optimal_mc": mean_ci([r["value_optimal_mc"] for r in rs]),
                 "value_optimal_se": math.sqrt(sum(r["value_optimal_se"] ** 2 for r in rs)) / len(rs),
                 "value_trained": mean_ci([r["value_trained"] for r in rs]),
                 **{f"grad_{k}": mean_ci([r["grad"][k] for r in rs]) for k in rs[0]["grad"]}}
            per_shift[s] = e
            md.append(f"| {s:g} | {e['jsd']:.4f} | {e['theory']:.4f} | {fmt_ci(*e['value_optimal_mc'], 4)} "
                      f"({e['value_optimal_se']:.4f}) | "
                      f"{fmt_ci(*e['value_trained'], 4)} | {e['grad_minimax_trained'][0]:.3g} | "
                      f"{e['grad_nonsaturating_trained'][0]:.3g} | {e['grad_minimax_optimal'][0]:.3g} | "
                      f"{e['grad_nonsaturating_optimal'][0]:.3g} |")
            rows.append([s, e["jsd"], e["theory"], fmt_ci(*e["value_optimal_mc"], 4), fmt_ci(*e["value_trained"], 4),
                         e["grad_minimax_trained"][0], e["grad_nonsaturating_trained"][0],
                         e["grad_minimax_optimal"][0], e["grad_nonsaturating_optimal"][0]])
        summary["shift"] = {f"{s:g}": v for s, v in per_shift.items()}
        worst = max(abs(v["value_optimal_mc"][0] - v["theory"]) for v in per_shift.values())
        worst_se = max(abs(v["value_optimal_mc"][0] - v["theory"]) / max(v["value_optimal_se"], 1e-300)
                       for v in per_shift.values())
        summary["identity_max_abs_diff"] = worst
        summary["identity_max_diff_in_se"] = worst_se
        big = per_shift[shifts[-1]]
        summary["saturation"] = {
            "largest_shift": shifts[-1], "jsd_at_largest": big["jsd"], "log2": math.log(2),
            "minimax_trained": big["grad_minimax_trained"], "nonsaturating_trained": big["grad_nonsaturating_trained"],
            "minimax_optimal": big["grad_minimax_optimal"], "nonsaturating_optimal": big["grad_nonsaturating_optimal"]}
        md += ["", f"Largest gap between V(D*) (Monte Carlo, {rs[0].get('n_mc', 20000):,} samples per side and seed, "
               f"the same normal draws at every shift) and -log 4 + 2 JSD over the shifts: {worst:.4f} "
               f"({worst_se:.1f} Monte Carlo standard errors).", "",
               f"At s = {shifts[-1]:g} (JSD {big['jsd']:.4f} of log 2 = {math.log(2):.4f}): G's gradient norm "
               f"under the minimax loss {big['grad_minimax_trained'][0]:.3g} (trained D) / "
               f"{big['grad_minimax_optimal'][0]:.3g} (D*), under the non-saturating loss "
               f"{big['grad_nonsaturating_trained'][0]:.3g} / {big['grad_nonsaturating_optimal'][0]:.3g}.", ""]
        body += [html.heading("2. V(D*, G) = -log 4 + 2 JSD"),
                 html.table(["s", "JSD", "-log4+2JSD", "V(D*) MC", "V(trained D)", "|grad| minimax (D)",
                             "|grad| non-sat (D)", "|grad| minimax (D*)", "|grad| non-sat (D*)"], rows)]
        series = {"V(trained D)": (shifts, _by_seed(shift, shifts, lambda r: r["value_trained"])),
                  "V(D*) Monte Carlo": (shifts, _by_seed(shift, shifts, lambda r: r["value_optimal_mc"])),
                  "-log 4 + 2 JSD (numerical)": (shifts, [[per_shift[s]["theory"] for s in shifts]])}
        body.append(html.figure(band_figure(series, "shift s", "value", "V vs the JSD identity", hline=-LOG4),
                                "value of the trained D and of D* against -log 4 + 2 JSD"))
        body.append(html.heading("3. Saturation: G's gradient as the supports separate"))
        gseries = {f"{l} ({d})": (shifts, _by_seed(shift, shifts, lambda r, k=f"{l}_{d}": max(r["grad"][k], 1e-30)))
                   for l in ("minimax", "nonsaturating") for d in ("trained", "optimal")}
        body.append(html.figure(band_figure(gseries, "shift s", "|dL_G / d theta|", "G's gradient norm", logy=True),
                                "gradient norm of G's loss w.r.t. its shift parameter, D fixed (trained D or D*)"))

    # 4. k
    ks = sorted({r["k"] for r in kres})
    if ks:
        md += ["## 4. k of Algorithm 1 at equal compute (mog1d, (k + 1) updates per G step)", "",
               "| k | G steps | JSD(p, KDE of G) | modes of 3 | HQ share |", "|---|---|---|---|---|"]
        rows = []
        for k in ks:
            rs = [r for r in kres if r["k"] == k]
            j, m, h = (mean_ci([r[key] for r in rs]) for key in ("jsd", "modes_covered", "hq_fraction"))
            summary["k"][str(k)] = {"jsd": j, "modes_covered": m, "hq_fraction": h, "g_steps": rs[0]["g_steps"],
                                    "n": len(rs)}
            md.append(f"| {k} | {rs[0]['g_steps']} | {fmt_ci(*j)} | {fmt_ci(*m, 2)} | {fmt_ci(*h)} |")
            rows.append([k, rs[0]["g_steps"], fmt_ci(*j), fmt_ci(*m, 2), fmt_ci(*h)])
        best = min(ks, key=lambda k: summary["k"][str(k)]["jsd"][0])
        summary["k_best"] = best
        md += ["", f"Lowest mean JSD: k = {best}.", ""]
        body += [html.heading("4. The k of Algorithm 1 at equal compute"),
                 html.table(["k", "G steps", "JSD", "modes", "HQ"], rows)]
        body.append(html.figure(_points_figure({str(k): [r["jsd"] for r in kres if r["k"] == k] for k in ks},
                                               "d_steps k", "JSD(p, KDE of G's samples)"),
                                "final quality per k: one dot per seed, mean and 95 % CI"))
    return StudyReport(jsonable(summary), "\n".join(md) + "\n", body, title="gankit study theory",
                       subtitle="the original GAN's theory on exactly known densities")


def _by_seed(results, xs, value) -> list[list[float]]:
    seeds = sorted({r["seed"] for r in results})
    out = []
    for s in seeds:
        by_x = {r["shift"]: value(r) for r in results if r["seed"] == s}
        if all(x in by_x for x in xs):
            out.append([by_x[x] for x in xs])
    return out


def _points_figure(groups: dict[str, list[float]], xlabel: str, ylabel: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gankit.studies.common import mean_ci

    fig, ax = plt.subplots(figsize=(max(3.5, 0.6 * len(groups) + 2), 3))
    for i, (name, vals) in enumerate(groups.items()):
        ax.scatter([i] * len(vals), vals, s=12, alpha=0.6)
        m, lo, hi = mean_ci(vals)
        ax.errorbar([i + 0.15], [m], yerr=[[m - lo], [hi - m]], fmt="o", color="black", ms=4, capsize=3)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(list(groups), fontsize=8, rotation=30 if len(groups) > 5 else 0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


STUDY = TheoryStudy
__all__ = ["STUDY", "TheoryStudy", "dstar_errors", "dstar_job", "gauss_log_prob", "jsd_numeric", "k_job",
           "optimal_d", "shift_job", "train_d", "xlogy"]
