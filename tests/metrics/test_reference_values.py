"""Safety net before the core refactor: the Inception Score's closed forms through the class evaluation
uses, and the extractors' sidecar figures recomputed from the data each sidecar names."""

from __future__ import annotations

import json
import math

import pytest
import torch

from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.metrics.extractor import load_extractor, sidecar_path, weights_path
from gankit.metrics.inception_score import InceptionScore

# ------------------------------------------------------------------------------ Inception Score


@pytest.mark.parametrize("classes,eps,splits", [(10, 0.3, 3), (4, 0.05, 1), (7, 0.9, 5)])
def test_smoothed_one_hot_conditionals_with_a_uniform_marginal(classes, eps, splits):
    """p(y|x) = (1 - eps) one_hot(c(x)) + eps / K with every class equally often in every split:
    p(y) is uniform, so KL(p(y|x) || p(y)) = log K - H(p(y|x)) and IS = K exp(-H) exactly;
    eps -> 0 gives K (certain, balanced), eps = 1 gives 1 (uninformative)."""
    labels = torch.arange(classes * splits * 6) % classes  # sample i -> split i mod splits: each split balanced
    p = (1 - eps) * torch.nn.functional.one_hot(labels, classes).double() + eps / classes
    metric = InceptionScore(classes, splits=splits)
    metric.update(p.log())  # logits = log-probabilities: softmax gives p back
    mean, std = metric.compute()
    row = p[0]
    want = classes * math.exp(float((row * row.log()).sum()))
    assert mean == pytest.approx(want, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)
    assert 1 < mean < classes


def test_identical_rows_score_exactly_one_whatever_the_distribution():
    q = torch.tensor([0.5, 0.2, 0.2, 0.1], dtype=torch.float64)
    metric = InceptionScore(4, splits=4)
    metric.update(q.log().expand(40, -1) + 3.0)  # a shift of the logits changes nothing
    mean, std = metric.compute()
    assert mean == pytest.approx(1.0, abs=1e-14) and std == pytest.approx(0.0, abs=1e-14)


def test_two_classes_half_certain_half_uniform():
    """Half the samples certain of class 0 or 1 (alternating), half uniform: p(y) uniform, so
    E KL = (1/2) log 2 + (1/2) 0 and IS = sqrt(2)."""
    certain = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64).repeat(50, 1)
    uniform = torch.full((100, 2), 0.5, dtype=torch.float64)
    logits = torch.cat([certain, uniform]).clamp_min(1e-300).log()  # log(0) -> a finite -690
    metric = InceptionScore(2, splits=1)
    metric.update(logits)
    assert metric.compute()[0] == pytest.approx(math.sqrt(2), rel=1e-12)


# --------------------------------------------------------------------------- extractor sidecars


@pytest.mark.parametrize("name", ["digit-digits", "digit-mnist5k"])
def test_sidecar_figures_are_reproduced_on_the_data_they_name(name):
    """Each sidecar's val/test accuracy, split sizes and feature scale, recomputed from its own dataset.

    Tolerances: the sidecar rounds accuracies to 6 decimals (so 5e-7); the feature scale is a float32
    tensor in the weights file, and the mean squared feature on the train split comes to 1 within 1e-7
    (measured 1 - 9.5e-9 for digits, 1 - 6.5e-8 for mnist5k), asserted within 1e-6."""
    extractor = load_extractor(name)
    sidecar = json.loads(sidecar_path(weights_path(name)).read_text())
    assert sidecar["split"] == "train" and sidecar["file"] == weights_path(name).name
    data = build_dataset(load_config(overrides=[f"data.name={sidecar['dataset']}"]).data)
    for split in ("val", "test"):
        part = data.split(split)
        assert len(part) == sidecar[f"n_{split}"]
        correct = int((extractor.classify(part.float_x()) == part.y).sum())
        assert correct / len(part) == pytest.approx(sidecar[f"{split}_accuracy"], abs=5e-7), split
    assert len(data.split("train")) == sidecar["n_train"]
    assert float(extractor.net.feature_scale) == sidecar["feature_scale"]  # the same float32, written as JSON
    mean_square = extractor(data.split("train").float_x()).double().pow(2).mean().item()
    assert mean_square == pytest.approx(1.0, abs=1e-6)
