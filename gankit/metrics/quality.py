"""The end-of-training quality figure: FID + KID for digit images, mode metrics for 2D mixtures.

Every figure comes with its fingerprint (what data, which split, how many samples, which feature
extractor and the hash of its weights, which seed, which gankit), and with the value the same
protocol gives on real data, printed beside it:

- Images: FID is biased by N, so the generated-vs-real FID is printed beside the real-vs-real FID at
  the same N: N images of the TRAIN split against the same N reference images (the test split by
  default), both drawn by :func:`gankit.metrics.samples.real_subset`, the one seeding rule. A generator cannot be expected to beat that value
  by much; KID (unbiased) gets the same treatment.
- Voxel grids (3D shapes): nearest-neighbour IoU to the training shapes, coverage and MMD-IoU, each
  beside real shapes (:mod:`gankit.metrics.voxels`); no FID (it needs 2D images).
- Mixtures with known centres (ring8, grid25): modes covered, HQ fraction and reverse KL of the
  generated samples, beside the same metrics on as many samples of the true mixture (the rows of the
  reference split): the physical limit that no generator can beat.
- Anything else: kind "none" and a line that says why there is no figure.

Example::

    from gankit.metrics import evaluate_generator
    report = evaluate_generator(G, 100, dataset=load_mnist5k())
    print("\\n".join(report.lines()))
    # FID 21.80 (real-vs-real 23.07)  KID -9.3534 (real-vs-real -6.9218)  | mnist5k test, N=500
    #   generated vs 500 real; extractor digit-mnist5k sha256:fc936d373eb8..; seed 0
    # (that "generator" replays the 500 val images: it scores like real data, as it should)

The figure is computed by the metric registry that ``gankit eval`` runs (:mod:`gankit.metrics.registry`,
on an :class:`~gankit.metrics.context.EvalContext`), so both print the same number for the same
fingerprint. A diverged G (non-finite samples) does not stop the run: FID/KID are nan with a warning,
and the mode figures become kind "none" with the reason.

KID is printed without "+-" when one subset holds all the data (subset size = N on both sides): its
spread over subsets would be 0 and read as a precision it does not have. With the digit extractor
(128 ReLU features, larger per dimension than Inception's) KID values are in units to thousands,
not the 0.01s of Inception KID; only values from the same extractor hash compare.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gankit.data.base import Dataset
from gankit.errors import ConfigError, NonFiniteError
from gankit.metrics.context import EvalContext
from gankit.metrics.extractor import EXTRACTORS, FeatureExtractor, extractor_for
from gankit.metrics.registry import run_metrics
from gankit.metrics.result import QualityReport
from gankit.metrics.samples import as_sampler
from gankit.metrics.stacked import stacked_report
from gankit.sampling import LatentPrior, Source
from gankit.version import gankit_version

# What the end-of-run figure adds to a runner's fingerprint, and what it leaves to its own keys.
_RUNNER_ONLY = ("metric", "kernel", "subsets", "subset_size")


def evaluate_generator(
    G: nn.Module | Any,
    prior: Source | int,
    dataset: Dataset,
    split: str = "test",
    n: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    extractor: FeatureExtractor | None = None,
) -> QualityReport:
    """The quality figure of generator ``G`` on ``dataset`` against its ``split``.

    Images with a feature extractor (``extractor``, else the shipped one for the image shape): FID and
    KID of N generated images vs N images of ``split`` (N defaults to the split's size), beside
    real-vs-real at the same N (N train images vs the same reference). Toy mixtures with ``centres``:
    mode metrics of n (default min(2,500, split size)) generated samples beside n samples of ``split``.
    Else kind "none". G's inputs come from ``prior.sample(n, seed=seed)`` (an int means N(0, I) of that
    width); the same ``seed`` draws the real subsets and the KID subsets. G's train/eval mode is
    restored afterwards. ``G`` may also be a sampler with ``draw(n, seed, device)`` and ``fingerprint()``
    (:class:`gankit.drs.RejectionSampler`): its samples are scored, and its fingerprint (calibration,
    acceptance rate) joins the report's under "sampler".

    Example::

        report = evaluate_generator(G_ema, model.prior, dataset, split="test", seed=0)
        for line in report.lines():
            print(line)
    """
    report = _evaluate(G, prior, dataset, split, n, seed, device, extractor)
    if not isinstance(G, nn.Module):
        report.fingerprint["sampler"] = G.fingerprint()
    return report


def _evaluate(G, prior, dataset: Dataset, split: str, n: int | None, seed: int, device, extractor) -> QualityReport:
    info = dataset.info
    source = LatentPrior(prior) if isinstance(prior, int) else prior
    base = {"dataset": info.name, "gankit_version": gankit_version(), "prior": repr(source)}
    sampler = as_sampler(G, source)
    if getattr(dataset, "digits", None) is not None:  # Stacked MNIST: modes + KL over 1,000 digit triples
        try:
            return stacked_report(sampler, source, dataset, split, n, seed, device, extractor, base)
        except NonFiniteError as e:
            return QualityReport("none", {}, {**base, "split": split, "seed": seed, "reason": str(e)})
    if getattr(dataset, "centres", None) is not None:
        ctx = EvalContext(dataset, sampler, split, n, seed, device, strict=False, cache=False)
        if ctx.non_finite_generated:
            return _non_finite(ctx, base)
        return _report("modes", run_metrics(ctx, ["modes"]), base, source)
    if info.kind == "voxel":  # 3D shapes: no image extractor applies; IoU figures on the grids themselves
        ctx = EvalContext(dataset, sampler, split, n, seed, device, strict=False, cache=False)
        return _report("voxel", run_metrics(ctx, ["voxel_iou"]), base, source)
    if info.kind == "image":
        if extractor is None:
            extractor = extractor_for(info, device=device)
        if extractor is not None:
            if split == "train":
                raise ConfigError("eval.split: FID is measured against val or test; train is the real-vs-real baseline")
            # The extractor's fit is checked before anything is drawn (a wrong one wastes no sampling).
            if tuple(extractor.image_shape) != tuple(info.shape):
                raise ConfigError(f"extractor {extractor.name!r} takes images of shape {extractor.image_shape}, "
                                  f"{info.name} has {info.shape}")
            ctx = EvalContext(dataset, sampler, split, n, seed, device, extractor=extractor, strict=False, cache=False)
            report = _report("fid_kid", run_metrics(ctx, ["fid", "kid"]), base, source)
            report.values["non_finite_generated"] = ctx.non_finite_generated
            return report
        shapes = ", ".join(str((1, s, s)) for s in EXTRACTORS.values())
        reason = (
            f"{info.name} images have shape {info.shape}; gankit ships feature extractors only for {shapes} "
            "(pass extractor= to score other images)"
        )
    else:
        reason = f"{info.name} holds {info.kind} data without known mode centres, so no mode or FID figure applies"
    return QualityReport("none", {}, {**base, "metrics": [], "reason": reason})


def _report(kind: str, results: dict, base: dict[str, Any], source: Any) -> QualityReport:
    """The figure of the registry's ``results``: their values side by side, their fingerprints merged."""
    values: dict[str, Any] = {}
    fingerprint: dict[str, Any] = {}
    for result in results.values():
        values.update(result.values)
        fingerprint.update({k: v for k, v in result.fingerprint.items()
                            if k not in _RUNNER_ONLY and not (k in ("generator", "step") and v is None)})
    fingerprint.update(base)  # the figure's own provenance (dataset, prior, version) wins
    if "kid" in results:
        kid_fp = results["kid"].fingerprint
        fingerprint.update({"kid_kernel": kid_fp["kernel"], "kid_subsets": kid_fp["subsets"],
                            "kid_subset_size": kid_fp["subset_size"]})
    fingerprint.setdefault("metrics", list(results))
    fingerprint["z_dim"] = getattr(source, "dim", None)
    return QualityReport(kind, values, fingerprint)


def _non_finite(ctx: EvalContext, base: dict[str, Any]) -> QualityReport:
    k = ctx.non_finite_generated
    reason = f"G produced {k} non-finite samples of {ctx.n} (a diverged generator): no mode figure"
    return QualityReport("none", {"non_finite_generated": k},
                         {**base, "metrics": [], "split": ctx.split, "seed": ctx.seed, "reason": reason})


__all__ = ["QualityReport", "evaluate_generator"]
