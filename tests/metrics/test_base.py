"""Tests of gankit/metrics/base.py: declared state gives reset, merge and state to every metric."""

from __future__ import annotations

import pytest
import torch

from gankit.metrics.base import Metric, StoredFeatures
from gankit.metrics.fid import FID, KID
from gankit.metrics.inception_score import InceptionScore
from gankit.metrics.prdc import PRDC
from gankit.metrics.stacked import StackedModes


class Mean(Metric):
    def __init__(self) -> None:
        super().__init__()
        self.add_state("total", torch.zeros((), dtype=torch.float64))
        self.add_state("count", torch.zeros((), dtype=torch.float64))

    def update(self, x: torch.Tensor) -> None:
        self.total += x.double().sum()
        self.count += len(x)

    def compute(self) -> float:
        return float(self.total / self.count)


def test_sum_state_merges_by_addition_and_resets_to_a_fresh_default() -> None:
    a, b, whole = Mean(), Mean(), Mean()
    a.update(torch.tensor([1.0, 2.0]))
    b.update(torch.tensor([6.0]))
    whole.update(torch.tensor([1.0, 2.0, 6.0]))
    assert a.merge(b).compute() == whole.compute() == 3.0
    assert a.state() == {"total": torch.tensor(9.0, dtype=torch.float64), "count": torch.tensor(3.0, dtype=torch.float64)}
    a.reset()
    assert float(a.total) == 0 and float(a.count) == 0
    a.update(torch.tensor([4.0]))
    assert Mean().state()["total"] == 0  # the default itself was never written into
    with pytest.raises(ValueError, match="float64"):
        Mean().add_state("bad", torch.zeros(3))
    with pytest.raises(ValueError, match="reduce"):
        Mean().add_state("bad", [], reduce="max")


def test_stored_rows_merge_by_concatenation_and_keep_real_on_reset() -> None:
    a, b = StoredFeatures(), StoredFeatures()
    a.store(torch.zeros(2, 3), real=True)
    b.store(torch.ones(1, 3), real=True)
    b.store(torch.ones(4, 3), real=False)
    a.merge(b)
    assert [len(f) for f in a.real_features] == [2, 1] and [len(f) for f in a.fake_features] == [4]
    a.reset(keep_real=True)
    assert len(a.real_features) == 2 and a.fake_features == []
    a.reset()
    assert a.real_features == [] and len(b.real_features) == 1  # b's lists were not shared with a


@pytest.mark.parametrize("make, kind", [
    (FID, {"n_real": "sum", "sum_real": "sum", "outer_real": "sum", "n_fake": "sum", "sum_fake": "sum",
           "outer_fake": "sum"}),
    (KID, {"real_features": "cat", "fake_features": "cat"}),
    (PRDC, {"real_features": "cat", "fake_features": "cat"}),
    (lambda: InceptionScore(3, splits=2), {"count": "sum", "sum_p": "sum", "sum_plogp": "sum"}),
    (lambda: StackedModes(extractor=object()), {"counts": "sum"}),
])
def test_every_metric_declares_its_state(make, kind) -> None:
    metric = make()
    assert isinstance(metric, Metric)
    assert metric.reductions() == kind
