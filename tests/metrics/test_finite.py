"""Tests of gankit/metrics/finite.py: every metric function refuses nan/inf input with one line."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.errors import GankitError, NonFiniteError
from gankit.metrics.finite import non_finite_rows, require_finite
from gankit.metrics.fid import FID, KID
from gankit.metrics.inception_score import InceptionScore
from gankit.metrics.modes import mode_metrics
from gankit.metrics.prdc import PRDC, prdc
from gankit.metrics.stacked import StackedModes


def _feats(n: int = 20, d: int = 4, bad: tuple[int, ...] = ()) -> torch.Tensor:
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(0))
    for i in bad:
        x[i, i % d] = math.nan if i % 2 else math.inf
    return x


def test_non_finite_rows_counts_rows_not_elements() -> None:
    x = _feats(bad=(1, 2))
    x[1, :] = math.nan  # a whole row of nan is still one row
    assert non_finite_rows(x) == 2 and non_finite_rows(_feats()) == 0
    assert non_finite_rows(torch.zeros(3, dtype=torch.long)) == 0
    assert require_finite(_feats(), "X") is not None
    with pytest.raises(NonFiniteError) as e:
        require_finite(x, "X", "generated features")
    assert str(e.value).startswith("X: 2 of 20 rows of the generated features hold nan or inf")
    assert isinstance(e.value, GankitError) and isinstance(e.value, ValueError) and "\n" not in str(e.value)


@pytest.mark.parametrize("metric_cls, name", [(FID, "FID"), (KID, "KID")])
@pytest.mark.parametrize("real", [True, False])
def test_fid_and_kid_refuse_non_finite_features(metric_cls, name, real) -> None:
    side = "real features" if real else "generated features"
    with pytest.raises(NonFiniteError, match=f"^{name}: 3 of 20 rows of the {side} hold nan or inf"):
        metric_cls().update(_feats(bad=(0, 5, 7)), real=real)


def test_inception_score_refuses_non_finite_logits() -> None:
    with pytest.raises(NonFiniteError, match="^IS: 1 of 20 rows of the logits hold nan or inf"):
        InceptionScore(4, splits=2).update(_feats(bad=(3,)))


def test_prdc_refuses_non_finite_features_on_either_side() -> None:
    with pytest.raises(NonFiniteError, match="^PRDC: 2 of 20 rows of the generated features"):
        prdc(_feats(), _feats(bad=(1, 4)), k=3)
    with pytest.raises(NonFiniteError, match="^PRDC: 1 of 20 rows of the real features"):
        prdc(_feats(bad=(9,)), _feats(), k=3)
    metric = PRDC(k=3)
    metric.update(_feats(), real=True)
    metric.update(_feats(bad=(2,)), real=False)
    with pytest.raises(NonFiniteError, match="^PRDC: 1 of 20 rows"):
        metric.compute()


def test_mode_metrics_refuse_non_finite_samples() -> None:
    centres = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    samples = centres.repeat(5, 1)
    samples[3, 1] = math.nan
    with pytest.raises(NonFiniteError, match="^mode metrics: 1 of 10 rows of the samples hold nan or inf"):
        mode_metrics(samples, centres, std=0.1)
    assert mode_metrics(centres.repeat(5, 1), centres, std=0.1).modes_covered == 2


def test_stacked_modes_refuse_non_finite_images() -> None:
    class NoExtractor:  # the check comes before any classification
        def classify(self, x):  # pragma: no cover - never reached
            raise AssertionError("classified a non-finite image")

    images = torch.zeros(4, 3, 28, 28)
    images[2, 1, 5, 5] = math.inf
    with pytest.raises(NonFiniteError, match="^Stacked MNIST modes: 1 of 4 rows of the images hold nan or inf"):
        StackedModes(NoExtractor()).update(images)
