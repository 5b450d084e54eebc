"""Tests of gankit/metrics/context.py: what one evaluation shares, and the refusals of its metrics."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gankit.data.digits import load_digits_dataset
from gankit.errors import ConfigError, GankitError
from gankit.metrics.context import EvalContext
from gankit.metrics.registry import METRICS, run_metrics
from gankit.metrics.samples import GeneratorSampler, real_subset
from gankit.sampling import LatentPrior, Source


class ImageSource(Source):
    """A non-latent source: G takes a (n, 1, 8, 8) conditioning image (a translation model)."""

    latent = False

    def sample(self, n, seed=None, device="cpu", y=None):
        return torch.zeros(n, 1, 8, 8, device=device)


class Constant(nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.full((len(inputs), 1, 8, 8), self.value)


@pytest.fixture(scope="module")
def digits():
    return load_digits_dataset()


def test_real_subsets_and_fingerprint_name_the_data_by_content(digits) -> None:
    ctx = EvalContext(digits, GeneratorSampler(Constant(0.0), LatentPrior(4)), n=50, seed=2, cache=False)
    assert torch.equal(ctx.reference, real_subset(digits.split("test"), 50, 2, "reference"))
    assert torch.equal(ctx.train, real_subset(digits.split("train"), 50, 2, "train"))
    fp = ctx.fp("fid")
    assert fp["reference_sha256"] == digits.split("test").content_sha256()
    assert fp["train_sha256"] == digits.split("train").content_sha256()


def test_latent_metrics_refuse_a_non_latent_source(digits) -> None:
    ctx = EvalContext(digits, GeneratorSampler(Constant(0.0), ImageSource()), n=20, cache=False)
    for name in ("mre", "jacobian"):
        with pytest.raises(GankitError, match=f"^--metrics {name}: needs a G of latent rows") as e:
            METRICS[name](ctx)
        assert "ImageSource" in str(e.value) and "\n" not in str(e.value)
    # the sample metrics do not care what G takes: its samples come from the sampler
    assert math.isfinite(run_metrics(ctx, ["fid"])["fid"].values["fid"])


def test_non_finite_samples_raise_when_strict_and_are_nan_otherwise(digits) -> None:
    sampler = GeneratorSampler(Constant(math.nan), LatentPrior(4))
    with pytest.raises(GankitError, match="G produced 30 non-finite samples of 30"):
        METRICS["fid"](EvalContext(digits, sampler, n=30, cache=False))
    lenient = EvalContext(digits, sampler, n=30, cache=False, strict=False)
    values = {**METRICS["fid"](lenient).values, **METRICS["kid"](lenient).values}
    assert math.isnan(values["fid"]) and math.isnan(values["kid"]) and lenient.non_finite_generated == 30
    assert math.isfinite(values["fid_real_vs_real"]) and math.isfinite(values["kid_real_vs_real"])


def test_sample_counts_are_checked_with_the_callers_key(digits) -> None:
    sampler = GeneratorSampler(Constant(0.0), LatentPrior(4))
    with pytest.raises(ConfigError, match="^eval.n: 181 exceeds the 180 samples"):
        EvalContext(digits, sampler, n=181)
    with pytest.raises(ConfigError, match="^--n: need at least 2"):
        EvalContext(digits, sampler, n=1, option="cli")
