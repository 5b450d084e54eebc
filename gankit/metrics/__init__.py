"""Metrics: FID/KID with a fingerprinted feature extractor, mode coverage, the end-of-training figure.

Example::

    from gankit.metrics import FID, load_extractor, evaluate_generator
    report = evaluate_generator(G, 100, dataset=load_mnist5k())
    print("\\n".join(report.lines()))
"""

from __future__ import annotations

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

__all__ = [
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
]
