"""Metrics: FID/KID with a fingerprinted feature extractor, mode coverage, the end-of-training figure.

Example::

    from gankit.metrics import FID, load_extractor, evaluate_generator
    report = evaluate_generator(G, 100, dataset=load_mnist5k())
    print("\\n".join(report.lines()))
"""

from __future__ import annotations

from gankit.metrics.base import Metric
from gankit.metrics.extractor import (
    DigitClassifier,
    FeatureExtractor,
    WeightsError,
    extractor_for,
    load_extractor,
)
from gankit.metrics.fid import FID, KID, frechet_distance
from gankit.metrics.modes import ModeReport, mode_metrics
from gankit.metrics.quality import QualityReport, evaluate_generator
from gankit.metrics.result import MetricResult, cached_tensors, fingerprint
from gankit.metrics.context import EvalContext
from gankit.metrics.registry import METRICS, resolve_metrics, run_metrics
from gankit.metrics.samples import GeneratorSampler, real_subset
from gankit.metrics.inception_score import InceptionScore
from gankit.metrics.fid_inf import fid_infinity
from gankit.metrics.prdc import PRDC, prdc
from gankit.metrics.memorization import memorization
from gankit.metrics.mre import MREConfig, mre_report, reconstruction_errors
from gankit.metrics.jacobian import jacobian_spectrum
from gankit.metrics.dstar import dstar_check
from gankit.metrics.entropy import kl_entropy
from gankit.metrics.inception import load_inception

__all__ = [
    "Metric",
    "DigitClassifier",
    "FeatureExtractor",
    "WeightsError",
    "extractor_for",
    "load_extractor",
    "FID",
    "KID",
    "frechet_distance",
    "ModeReport",
    "mode_metrics",
    "QualityReport",
    "evaluate_generator",
    "MetricResult",
    "cached_tensors",
    "fingerprint",
    "EvalContext",
    "METRICS",
    "resolve_metrics",
    "run_metrics",
    "GeneratorSampler",
    "real_subset",
    "InceptionScore",
    "fid_infinity",
    "PRDC",
    "prdc",
    "memorization",
    "MREConfig",
    "mre_report",
    "reconstruction_errors",
    "jacobian_spectrum",
    "dstar_check",
    "kl_entropy",
    "load_inception",
]
