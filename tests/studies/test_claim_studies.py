"""The seed-claim studies (theory, balance, collapse, generalize): exact pieces against closed forms and
scipy, deterministic jobs, and each report loading in headless Chromium on a tiny setting."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from gankit.metrics.jacobian import effective_rank, jacobian_spectrum
from gankit.studies import theory
from gankit.studies.correlation import fisher_ci, lagged_spearman, spearman, spearman_ci
from gankit.studies.registry import build_study
from gankit.studies.runner import execute, run_study
from tests.browser import open_page, require_browser

LOG2 = math.log(2)


# ---- numerical JSD against closed forms ----------------------------------------------------------------

def test_jsd_of_discrete_distributions_matches_the_closed_form():
    # p = (1/2, 1/2, 0), q = (0, 1/2, 1/2): m = (1/4, 1/2, 1/4), KL(p||m) = KL(q||m) = 1/2 log 2
    assert theory.jsd_numeric([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]) == pytest.approx(0.5 * LOG2, abs=1e-15)
    assert theory.jsd_numeric([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    # disjoint supports: exactly log 2, the ceiling where the minimax G's gradient saturates
    assert theory.jsd_numeric([0.3, 0.7, 0.0, 0.0], [0.0, 0.0, 0.6, 0.4]) == pytest.approx(LOG2, abs=1e-15)
    # a generic pair against the definition written out
    p, q = np.array([0.1, 0.6, 0.3]), np.array([0.5, 0.25, 0.25])
    m = (p + q) / 2
    assert theory.jsd_numeric(p, q) == pytest.approx(0.5 * (p * np.log(p / m)).sum() + 0.5 * (q * np.log(q / m)).sum(),
                                                     rel=1e-14)
    with pytest.raises(ValueError, match="same points"):
        theory.jsd_numeric([0.5, 0.5], [1.0])


def test_jsd_of_densities_on_a_grid_matches_closed_forms():
    # U(0, 1) vs U(1/2, 3/2): half of each mass is shared -> JSD = 1/2 log 2; U(0,1) vs U(2,3): log 2
    x = (np.arange(300_000) + 0.5) / 100_000  # midpoints on [0, 3]
    u = lambda a: ((x >= a) & (x < a + 1)).astype(float)  # noqa: E731
    assert theory.jsd_numeric(u(0.0), u(0.5), 1e-5) == pytest.approx(0.5 * LOG2, abs=1e-9)
    assert theory.jsd_numeric(u(0.0), u(2.0), 1e-5) == pytest.approx(LOG2, abs=1e-9)


# ---- D* and the value identity ---------------------------------------------------------------------------

def test_dstar_comparison_is_zero_for_the_exact_optimum_and_the_value_identity_holds():
    x = torch.linspace(-8, 10, 20001, dtype=torch.float64)[:, None]
    cell = float(x[1, 0] - x[0, 0])
    lp, lq = theory.gauss_log_prob(x, [0.0], 1.0), theory.gauss_log_prob(x, [2.0], 1.0)
    d_star = theory.optimal_d(lp, lq)
    mix = 0.5 * (lp.exp() + lq.exp())
    zero = theory.dstar_errors(d_star, d_star, mix)
    assert zero["max"] == 0.0 and zero["mae"] == 0.0
    # D = 1/2 everywhere vs D* for two Gaussians 2 apart: D* - 1/2 = tanh((log p - log q) / 2) / 2, so the max
    # error over the whole line tends to 1/2 and is reached at the grid's ends; inside 1 % mass it is smaller
    half = theory.dstar_errors(torch.full_like(d_star, 0.5), d_star, mix, mass=0.0)
    assert half["max"] == pytest.approx(0.5, abs=1e-6)
    # V(D*, G) = E_p log D* + E_q log(1 - D*) = -log 4 + 2 JSD(p || q), by quadrature on the same grid
    p, q = lp.exp(), lq.exp()
    value = float((p * d_star.log() + q * (1 - d_star).log()).sum() * cell)
    jsd = theory.jsd_numeric(p.numpy(), q.numpy(), cell)
    assert value == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-12)
    assert 0 < jsd < LOG2


def test_shift_job_measures_the_identity_and_the_saturation():
    far = theory.shift_job(shift=10.0, seed=0, iters=3, n_mc=4000)
    assert far["jsd"] == pytest.approx(LOG2, abs=1e-6)  # Gaussians 10 sd apart: supports effectively disjoint
    assert abs(far["value_optimal_mc"] - far["theory"]) < 5 * far["value_optimal_se"] + 1e-5  # tails beyond MC
    # with the exact D*, the minimax gradient has vanished, the non-saturating one is about the shift itself
    assert far["grad"]["minimax_optimal"] < 1e-6 < 1.0 < far["grad"]["nonsaturating_optimal"]
    same = theory.shift_job(shift=0.0, seed=0, iters=3, n_mc=4000)
    assert same["jsd"] == 0.0 and same["value_optimal_mc"] == pytest.approx(-math.log(4), abs=1e-12)
    assert same["grad"]["minimax_optimal"] == 0.0 == same["grad"]["nonsaturating_optimal"]


# ---- effective rank -------------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_effective_and_numerical_rank_of_matrices_of_known_rank(k):
    g = torch.Generator().manual_seed(k)
    u, _ = torch.linalg.qr(torch.randn(7, 7, generator=g, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(5, 5, generator=g, dtype=torch.float64))
    s = torch.zeros(5, dtype=torch.float64)
    s[:k] = 3.0
    m = u[:, :5] @ torch.diag(s) @ v.T  # rank k, k equal singular values
    assert float(effective_rank(torch.linalg.svdvals(m)[None])[0]) == pytest.approx(k, rel=1e-9)
    lin = torch.nn.Linear(5, 7, bias=False)
    with torch.no_grad():
        lin.weight.copy_(m.float())
    spec = jacobian_spectrum(lin, torch.randn(3, 5, generator=g))
    assert spec.ranks.tolist() == [k] * 3 and spec.mean_effective_rank == pytest.approx(k, rel=1e-4)
    assert spec.rank_deficient_share == (0.0 if k == 5 else 1.0)
    # unequal singular values: exp(entropy) of s / sum(s), between 1 and the rank
    w = torch.tensor([[4.0, 2.0, 1.0, 1.0]], dtype=torch.float64)
    p = w / w.sum()
    assert float(effective_rank(w)[0]) == pytest.approx(float(torch.exp(-(p * p.log()).sum())), rel=1e-12)


# ---- correlations against scipy --------------------------------------------------------------------------

def test_spearman_and_its_intervals_agree_with_scipy():
    from scipy import stats

    rng = np.random.default_rng(3)
    x = rng.normal(size=40)
    y = 0.6 * x + rng.normal(size=40)
    y[:5] = np.round(y[:5])  # a few ties
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert spearman(x, x) == pytest.approx(1.0) and math.isnan(spearman([1, 1, 1], [1, 2, 3]))
    ours = spearman_ci(x, y, n_boot=2000, seed=0)
    ref = stats.bootstrap((x, y), lambda a, b: stats.spearmanr(a, b).statistic, paired=True, vectorized=False,
                          n_resamples=2000, method="percentile", random_state=1).confidence_interval
    assert ours["rho"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert ours["ci95"][0] == pytest.approx(ref.low, abs=0.05) and ours["ci95"][1] == pytest.approx(ref.high, abs=0.05)
    assert ours["ci95"][0] < ours["rho"] < ours["ci95"][1] and ours["n_boot_used"] == 2000
    # Fisher z with Bonett-Wright's variance, written out
    r, n = ours["rho"], 40
    half = stats.norm.ppf(0.975) * math.sqrt((1 + r * r / 2) / (n - 3))
    assert fisher_ci(r, n) == pytest.approx((math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half)))
    # lag: y follows x one step later
    a = rng.normal(size=30)
    b = np.concatenate([[0.0], a[:-1]])
    assert lagged_spearman(a, b, 1) == pytest.approx(1.0) and lagged_spearman(b, a, -1) == pytest.approx(1.0)


# ---- each study: tiny run, deterministic jobs, report in the browser ---------------------------------------

TINY = {
    "theory": dict(seeds=1, datasets=["mog1d"], d_iters=8, shifts=[0.0, 8.0], shift_iters=4, n_mc=2000, ks=[1],
                   updates=4),
    "balance": dict(objectives=["nonsaturating", "wgan", "gls-gan"], seeds=1, steps=10),
    "collapse": dict(datasets=["ring8"], variants=["none", "ortho+gp"], seeds=1, steps=6, every=2, points=4),
    "generalize": dict(objectives=["gls-gan", "nonsaturating"], seeds=1, steps=4, every=2, n_mre=4, mre_steps=2,
                       restarts=1),
}


@pytest.mark.parametrize("name", list(TINY))
def test_study_runs_deterministically_and_its_report_loads(name, tmp_path):
    require_browser()
    study = build_study(name, **TINY[name])
    out = run_study(study, tmp_path / name, progress=False)
    assert out.ran == len(study.jobs()) and out.html.exists() and out.markdown.read_text().startswith(f"# gankit study {name}")
    doc = json.loads(out.json.read_text())
    assert doc["study"] == name and len(doc["jobs"]) == out.ran
    # a job run again gives the same record (same seed, same data, one torch thread or not)
    job = study.jobs()[-1]
    again = execute(job, threads=None)
    assert again["result"] == out.records[-1]["result"]
    with open_page(out.html) as page:
        assert page.errors() == []
        imgs = page.find("figure img")
        assert imgs and all(page.run("return arguments[0].naturalWidth", i) > 0 for i in imgs)
        assert page.find("table tbody tr")


def test_bad_study_settings_are_one_line_errors():
    from gankit.studies.runner import StudyError

    with pytest.raises(StudyError, match="--ks"):
        build_study("theory", ks=[0]).jobs()
    with pytest.raises(StudyError, match="--tail"):
        build_study("balance", tail=0.0).jobs()
    with pytest.raises(StudyError, match="--every"):
        build_study("collapse", steps=10, every=5).jobs()
    with pytest.raises(StudyError, match="--steps >= --every"):
        build_study("generalize", steps=2, every=3).jobs()


@pytest.mark.parametrize("name", list(TINY))
def test_each_study_prints_its_help(name, capsys):
    from gankit.cli import main
    from gankit.studies.registry import study_module

    with pytest.raises(SystemExit) as e:
        main(["study", name, "--help"])
    assert e.value.code == 0
    out = "".join(capsys.readouterr().out.split())  # help is wrapped at spaces and hyphens
    assert "".join(study_module(name).DESCRIPTION.split()) in out and "--workers" in out
