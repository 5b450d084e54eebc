"""Inception Score: closed-form extremes, splits, and sum-reducible state."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.metrics.inception_score import InceptionScore


def _confident_logits(labels: torch.Tensor, classes: int, margin: float = 60.0) -> torch.Tensor:
    return torch.nn.functional.one_hot(labels, classes).double() * margin


def test_uniform_confident_classifier_scores_the_number_of_classes() -> None:
    # Sample i goes to split i mod 3; with labels i mod 10 each split holds every class 20 times.
    metric = InceptionScore(num_classes=10, splits=3)
    metric.update(_confident_logits(torch.arange(600) % 10, 10))
    mean, std = metric.compute()
    assert mean == pytest.approx(10.0, rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-9)


def test_one_class_or_uninformative_classifier_scores_one() -> None:
    for logits in (_confident_logits(torch.zeros(100, dtype=torch.long), 10), torch.zeros(100, 10)):
        metric = InceptionScore(10, splits=1)
        metric.update(logits)
        assert metric.compute()[0] == pytest.approx(1.0, abs=1e-9)


def test_matches_direct_kl_formula_and_merge() -> None:
    logits = torch.randn(90, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    p = logits.softmax(1)
    want = math.exp(float((p * (p.log() - p.mean(0).log())).sum(1).mean()))
    whole = InceptionScore(4, splits=1)
    whole.update(logits)
    assert whole.compute()[0] == pytest.approx(want, rel=1e-12)
    a, b = InceptionScore(4, splits=1), InceptionScore(4, splits=1)
    a.update(logits[:40])
    b.update(logits[40:])
    assert a.merge(b).compute()[0] == pytest.approx(want, rel=1e-12)


def test_wrong_shape_and_empty_split_are_errors() -> None:
    metric = InceptionScore(10, splits=3)
    with pytest.raises(ValueError, match=r"\(N, 10\)"):
        metric.update(torch.zeros(4, 3))
    metric.update(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="per split"):
        metric.compute()
