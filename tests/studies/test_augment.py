"""The augmentation study: exact information gain, deterministic augmenters that never see val/test,
a tiny end-to-end study that resumes and whose HTML report loads in a browser."""

from __future__ import annotations

import json
import math

import pytest
import torch

from gankit.cli import main
from gankit.studies import augment as aug
from gankit.studies.augmenters import AUGMENTERS, study_input
from gankit.studies.information import information_gain, posterior_entropy
from gankit.studies.runner import StudyError
from tests.browser import open_page


def _grid_posterior_entropy(phi: torch.Tensor, t: torch.Tensor, alpha: float, beta: float) -> float:
    """Differential entropy of p(w | Phi, t) for 2-d w by brute force: the unnormalised log posterior
    (prior + likelihood, targets included) on a fine grid, normalised numerically."""
    axis = torch.linspace(-6, 6, 801, dtype=torch.float64)
    w = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    log_p = -0.5 * alpha * (w**2).sum(1) - 0.5 * beta * ((w @ phi.T - t) ** 2).sum(1)
    cell = float((axis[1] - axis[0]) ** 2)
    log_p = log_p - torch.logsumexp(log_p, 0) - math.log(cell)  # a density on the grid
    p = log_p.exp()
    return float(-(p * log_p).sum() * cell)


def test_information_gain_closed_form_equals_brute_force_on_a_tiny_problem():
    g = torch.Generator().manual_seed(0)
    phi_d, phi_g = torch.randn(3, 2, generator=g, dtype=torch.float64), torch.randn(1, 2, generator=g, dtype=torch.float64)
    t_d, t_g = torch.randn(3, generator=g, dtype=torch.float64), torch.randn(1, generator=g, dtype=torch.float64)
    alpha, beta = 1.5, 2.0
    brute = _grid_posterior_entropy(phi_d, t_d, alpha, beta) - _grid_posterior_entropy(
        torch.cat([phi_d, phi_g]), torch.cat([t_d, t_g]), alpha, beta)
    assert information_gain(phi_d, phi_g, alpha, beta) == pytest.approx(brute, abs=2e-4)
    assert posterior_entropy(phi_d, alpha, beta) == pytest.approx(_grid_posterior_entropy(phi_d, t_d, alpha, beta), abs=2e-4)
    # both branches (M < d through the M x M determinant, M >= d directly) equal the entropy difference
    big_d, big_g = torch.randn(20, 6, generator=g), torch.randn(9, 6, generator=g)
    for extra in (big_g[:3], big_g):
        direct = posterior_entropy(big_d, 0.5, 3.0) - posterior_entropy(torch.cat([big_d, extra]), 0.5, 3.0)
        assert information_gain(big_d, extra, 0.5, 3.0, outputs=10) == pytest.approx(10 * direct, rel=1e-10)
    assert information_gain(big_d, big_g[:0]) == 0.0


def _poisoned(dataset):
    """The dataset with its val and test images inverted and labels rotated: anything reading them changes."""
    from gankit.data.base import Dataset, Split

    out = Dataset(dataset.info, dict(dataset.splits))
    for name in ("val", "test"):
        s = dataset.splits[name]
        out.splits[name] = Split((s.x.max() - s.x).to(s.x.dtype) if s.x_max is None else
                                 (int(s.x_max) - s.x).to(torch.uint8), (s.y + 1) % 10, x_max=s.x_max)
    return out


CASES = [(a, s) for a in AUGMENTERS for s in AUGMENTERS[a].situations] + [("none", "A")]


@pytest.mark.parametrize("augmenter,situation", sorted(set(CASES)))
def test_each_augmenter_is_deterministic_per_seed_and_never_sees_val_or_test(augmenter, situation):
    dataset = aug.load_dataset("digits")
    poisoned = _poisoned(dataset)
    assert not torch.equal(poisoned.split("test").x, dataset.split("test").x)
    first = aug.synthesize(dataset, 2, 3, augmenter, situation, n_out=20, steps=3)
    blind = aug.synthesize(poisoned, 2, 3, augmenter, situation, n_out=20, steps=3)
    for a, c in zip(first, blind):  # equal twice over: deterministic per seed, and blind to val and test
        assert torch.equal(a, c)
    x, y, x_syn, y_syn = first
    assert len(x) == 20 and sorted(y.tolist()) == sorted(list(range(10)) * 2)
    if augmenter == "real":
        assert len(x_syn) == len(dataset.train) - 20
    elif augmenter != "none":
        assert x_syn.shape == (20, 1, 8, 8) and x_syn.abs().max() <= 1 and y_syn.tolist() == [i % 10 for i in range(20)]
    if augmenter in ("affine", "mixup", "smote", "pca"):  # (the trained ones cost a training run more)
        other = aug.synthesize(dataset, 2, 4, augmenter, situation, n_out=20, steps=3)
        assert not torch.equal(other[2], x_syn)  # another seed: another labelled set and other samples


def test_situation_b_hands_over_pool_labels_only_where_declared():
    train = aug.load_dataset("digits").train
    x, y = train.float_x(), train.y
    idx = aug.labelled_subset(y, 3, 0, 10)
    for name, spec in AUGMENTERS.items():
        if "B" not in spec.situations:
            continue
        inp = study_input(x, y, idx, 10, "B", name)
        assert len(inp.pool_x) == len(x) - 30 and (inp.pool_y is not None) == spec.pool_labels
    assert study_input(x, y, idx, 10, "A", "cgan").pool_x is None
    with pytest.raises(StudyError, match="no situation B"):
        study_input(x, y, idx, 10, "B", "smote")


TINY = ["--data", "digits", "--budgets", "2", "--seeds", "3", "--classifiers", "knn,logreg",
        "--augmenters", "none,smote,pca,real", "--no-progress"]


def test_tiny_study_resumes_and_writes_a_report_that_loads(tmp_path, capsys):
    out = tmp_path / "aug"
    assert main(["study", "augment", *TINY, "--out", str(out)]) == 0
    assert "15 jobs run, 0 reused" in capsys.readouterr().out  # 3 seeds x (none, smote, pca-A, pca-B, real)
    doc = json.loads((out / "study.json").read_text())
    s = doc["summary"]
    assert s["variants"] == ["none", "smote", "pca-A", "pca-B", "real"] and s["seeds"] == 3
    assert s["comparisons_n"] == 2 * 4  # per classifier, every variant vs none
    assert all(0 <= e["p_holm"] <= 1 and e["p_holm"] >= e["p"] for e in s["comparisons"])
    real = [e for e in s["comparisons"] if e["variant"] == "real"]
    assert all(e["mean"] > 0 for e in real)  # 2 vs ~143 labelled images per class
    assert "H(D_G) - H(D)" in (out / "summary.md").read_text()
    # resume: a second run redoes nothing, a finished job's file is reused as it is
    before = {p.name: p.read_bytes() for p in (out / "jobs").glob("*.json")}
    assert main(["study", "augment", *TINY, "--out", str(out)]) == 0
    assert "0 jobs run, 15 reused" in capsys.readouterr().out
    assert before == {p.name: p.read_bytes() for p in (out / "jobs").glob("*.json")}
    with open_page(out / "report.html") as page:
        assert page.errors() == []
        imgs = page.find("figure img")
        assert len(imgs) >= 3 and all(page.run("return arguments[0].naturalWidth", i) > 0 for i in imgs)
        assert len(page.find("table tbody tr")) == s["comparisons_n"]


def test_bad_study_arguments_are_one_line_errors(capsys):
    assert main(["study", "augment", "--classifiers", "knn,nope", "--out", "/tmp/unused-augment"]) == 2
    assert "--classifiers: unknown 'nope'" in capsys.readouterr().err
    assert main(["study", "augment", "--augmenters", "gan", "--out", "/tmp/unused-augment"]) == 2
    assert "--augmenters: unknown 'gan'" in capsys.readouterr().err
    with pytest.raises(StudyError, match="class 0 has"):
        aug.labelled_subset(aug.load_dataset("digits").train.y, 1000, 0, 10)


def test_a_smaller_grid_s_jobs_are_reused_by_a_larger_one():
    """The multi-session plan: a study run in parts (one budget, then the rest; 10 seeds, then 16) with one --out
    reuses every stored job, because a job's id depends on its own cell only, not on the grid around it."""
    part = aug.AugmentStudy(data="mnist5k", budgets=[5], seeds=10).jobs()
    full = aug.AugmentStudy(data="mnist5k", budgets=[5, 10, 50, 100, 400], seeds=16).jobs()
    assert len(part) == 10 * 13 and len(full) == 4 * 16 * 13 + 16 * 8  # n = 400: situation A only (below)
    part_ids = {j.id for j in part}
    assert part_ids == {j.id for j in full if j.params["budget"] == 5 and j.params["seed"] < 10}
    later = aug.AugmentStudy(data="mnist5k", budgets=[400, 5], seeds=10).jobs()
    assert [j.id for j in later[80:]] == [j.id for j in part]  # budget order does not matter either
    # what the grid's arguments change: gan steps, classifiers, ratios are part of a job (a new id, redone)
    other = aug.AugmentStudy(data="mnist5k", budgets=[5], seeds=10, gan_steps=1000).jobs()
    assert not part_ids & {j.id for j in other}


def test_situation_b_is_left_out_where_every_training_image_is_labelled():
    """mnist5k's training split has 400 images per class: at n = 400 B's pool is empty, so its jobs would repeat
    A's bit for bit; the grid keeps A (and 'none') there and B at every smaller budget."""
    study = aug.AugmentStudy(data="mnist5k", budgets=[100, 400], seeds=2)
    assert study.budgets_without_pool() == [400]
    jobs = study.jobs()
    at = {b: {(j.params["augmenter"], j.params["situation"]) for j in jobs if j.params["budget"] == b} for b in (100, 400)}
    assert at[400] == {v for v in at[100] if v[1] == "A"} and ("real", "B") in at[100]
    assert aug.AugmentStudy(data="mnist5k", budgets=[400], seeds=2, situations=["A"]).jobs() == \
        [j for j in jobs if j.params["budget"] == 400]


def test_verdict_table_counts_the_holm_verdicts_per_augmenter_and_budget():
    """Hand-made records with known outcomes: 'smote' moves classifier a up and b down on every one of 12 seeds
    (exact p = 2 / 2^12, Holm over 6 comparisons still below 0.05); 'mixup' alternates +-, never significant;
    'pca' (situation A) exists at n = 5 only, so its n = 10 cell is blank."""
    from gankit.studies.augment_report import analyse, verdict_table

    def rec(budget, seed, augmenter, situation, a, b):
        return {"params": {"budget": budget, "seed": seed, "augmenter": augmenter, "situation": situation},
                "result": {"classifiers": {"a": {"test_acc": a}, "b": {"test_acc": b}}}}

    records = []
    for budget in (5, 10):
        for s in range(12):
            base = 0.5 + 0.01 * s
            records += [rec(budget, s, "none", "A", base, base),
                        rec(budget, s, "smote", "A", base + 0.1 + 0.001 * s, base - 0.05 - 0.001 * s),
                        rec(budget, s, "mixup", "A", base + (-1) ** s * 0.02, base)]
            if budget == 5:
                records.append(rec(budget, s, "pca", "A", base - 0.2, base))
    a = analyse(records, ["a", "b"])
    assert a["comparisons_n"] == 2 * 2 * 2 + 2  # smote, mixup at both budgets, pca at n = 5; two classifiers
    by = a["verdicts_by_variant"]
    assert (by["smote"][5]["helps"], by["smote"][5]["hurts"], by["smote"][10]["of"]) == (1, 1, 2)
    assert (by["mixup"][10]["helps"], by["mixup"][10]["hurts"]) == (0, 0)
    assert (by["pca-A"][5]["hurts"], by["pca-A"][5]["helps"]) == (1, 0) and 10 not in by["pca-A"]
    lines = verdict_table(a)
    assert "| smote | 1+ / 1- of 2 | 1+ / 1- of 2 |" in lines
    assert "| mixup | 0+ / 0- of 2 | 0+ / 0- of 2 |" in lines
    assert "| pca-A | 0+ / 1- of 2 |  |" in lines
