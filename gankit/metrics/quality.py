"""The end-of-training quality figure: FID + KID for digit images, mode metrics for 2D mixtures.

Every figure comes with its fingerprint (what data, which split, how many samples, which feature
extractor and the hash of its weights, which seed, which gankit), and with the value the same
protocol gives on real data, printed beside it:

- Images: FID is biased by N, so the generated-vs-real FID is printed beside the real-vs-real FID at
  the same N: N images of the TRAIN split (the first N of a seeded permutation) against the same N
  reference images (the test split by default). A generator cannot be expected to beat that value
  by much; KID (unbiased) gets the same treatment.
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

KID is printed without "+-" when one subset holds all the data (subset size = N on both sides): its
spread over subsets would be 0 and read as a precision it does not have. With the digit extractor
(128 ReLU features, larger per dimension than Inception's) KID values are in units to thousands,
not the 0.01s of Inception KID; only values from the same extractor hash compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from gankit.data.base import Dataset, Split
from gankit.errors import ConfigError, GankitError
from gankit.metrics.extractor import EXTRACTORS, FeatureExtractor, extractor_for
from gankit.metrics.fid import FID, KID
from gankit.metrics.modes import ModeReport, mode_metrics
from gankit.sampling import LatentPrior, generate
from gankit.version import gankit_version

DEFAULT_TOY_N = 2500  # the PacGAN protocol scores 2,500 samples
N_STD = 3.0  # HQ radius of the protocol, in component standard deviations


@dataclass
class QualityReport:
    """A quality figure, its values and its fingerprint.

    ``kind`` is "fid_kid" (images with a feature extractor), "modes" (mixtures with known centres),
    "stacked_modes" (Stacked MNIST, :mod:`gankit.metrics.stacked`) or "none" (no figure;
    ``fingerprint["reason"]`` says why). ``values`` holds plain floats and ints; ``fingerprint`` says
    what produced them. ``lines()`` is the printable form.

    Example::

        report = evaluate_generator(G, 2, make_toy("ring8", ring8(), 1000))
        report.values["modes_covered"], report.values["true_modes_covered"]
        json.dumps(report.to_dict())
    """

    kind: Literal["fid_kid", "modes", "stacked_modes", "none"]
    values: dict[str, Any] = field(default_factory=dict)
    fingerprint: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; non-finite floats become the strings "inf" / "-inf" / "nan"."""
        return {"kind": self.kind, "values": json_safe(self.values), "fingerprint": json_safe(self.fingerprint)}

    def lines(self) -> list[str]:
        fp, v = self.fingerprint, self.values
        if self.kind == "fid_kid":
            kid_rr = _kid_text(v["kid_real_vs_real"], v["kid_real_vs_real_std"], fp["kid_subsets"])
            figure = (
                f"FID {v['fid']:.2f} (real-vs-real {v['fid_real_vs_real']:.2f})  "
                f"KID {_kid_text(v['kid'], v['kid_std'], fp['kid_subsets'])} (real-vs-real {kid_rr})"
            )
            where = (
                f"{fp['dataset']} {fp['split']}, N={fp['n_generated']} generated vs {fp['n_real']} real; "
                f"extractor {fp['extractor']} sha256:{fp['extractor_sha256'][:12]}..; seed {fp['seed']}"
            )
            out = [f"{figure}  | {where}"]
            if v.get("non_finite_generated"):
                out.append(f"warning: G produced {v['non_finite_generated']} non-finite images; FID/KID are nan")
            return out
        if self.kind == "modes":
            k = v["n_modes"]
            figure = (
                f"modes {v['modes_covered']}/{k} (true data {v['true_modes_covered']}/{k})  "
                f"HQ {100 * v['hq_fraction']:.1f} % ({100 * v['true_hq_fraction']:.1f} %)  "
                f"reverse KL {v['reverse_kl']:.4f} ({v['true_reverse_kl']:.4f})"
                + (f"  spread {v['hq_spread']:.2f} ({v['true_hq_spread']:.2f})" if "hq_spread" in v else "")
            )
            where = (
                f"{fp['dataset']}, N={fp['n_generated']} generated vs {fp['n_real']} true samples "
                f"({fp['split']} split); HQ = within {fp['n_std']:g} std ({fp['n_std'] * fp['std']:g}) "
                f"of a centre; seed {fp['seed']}"
            )
            return [f"{figure}  | {where}"]
        return [f"no quality figure: {fp.get('reason', 'unknown reason')}"]


def _kid_text(mean: float, std: float, subsets: int) -> str:
    def num(x: float) -> str:
        return f"{x:.4f}" if x == 0 or abs(x) >= 1e-3 or not math.isfinite(x) else f"{x:.2e}"

    # One subset (all the data) has no spread to show; a "+- 0" would read as a precise value.
    return f"{num(mean)} +- {num(std)}" if subsets > 1 else num(mean)


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float (nan, inf) turned into its string, so the JSON is standard."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def _subset(split: Split, n: int, g: torch.Generator) -> torch.Tensor:
    """The first n rows of a seeded permutation of ``split``, as float32 (only those rows are converted or read)."""
    return split.float_x(torch.randperm(len(split), generator=g)[:n])


def _generate(G: nn.Module | Any, prior: LatentPrior, n: int, seed: int, device: torch.device | str,
              shape: tuple) -> torch.Tensor:
    if isinstance(G, nn.Module):
        fake = generate(G, prior.sample(n, seed=seed, device=device))
    else:  # a sampler standing in for G (gankit.drs.RejectionSampler): n accepted samples from its own seed
        fake = G.draw(n, seed=seed, device=device)
    return checked_shape(fake, shape)


def checked_shape(fake: torch.Tensor, shape: tuple) -> torch.Tensor:
    """``fake`` itself, or a :class:`GankitError` when its samples do not have the dataset's ``shape``."""
    if tuple(fake.shape[1:]) != tuple(shape):
        raise GankitError(
            f"generator output has shape {tuple(fake.shape[1:])} per sample, the dataset's samples {tuple(shape)}"
        )
    return fake


def _check_n(n: int, available: int, split: str, dataset: str) -> None:
    if n < 2:
        raise ConfigError(f"eval.n: need at least 2 samples, got {n}")
    if n > available:
        raise ConfigError(
            f"eval.n: {n} exceeds the {available} samples of {dataset}'s {split!r} split "
            "(scores compare equal sample counts)"
        )


def evaluate_generator(
    G: nn.Module | Any,
    prior: LatentPrior | int,
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
    mode metrics of n (default 2,500) generated samples beside n samples of ``split``. Else kind "none".
    G's inputs come from ``prior.sample(n, seed=seed)`` (an int means N(0, I) of that width); the same ``seed`` draws the real subsets
    and the KID subsets. G's train/eval mode is restored afterwards. ``G`` may also be a sampler with
    ``draw(n, seed, device)`` and ``fingerprint()`` (:class:`gankit.drs.RejectionSampler`): its samples
    are scored, and its fingerprint (calibration, acceptance rate) joins the report's under "sampler".

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
    prior = LatentPrior(prior) if isinstance(prior, int) else prior
    base = {"dataset": info.name, "gankit_version": gankit_version(), "prior": repr(prior)}
    if getattr(dataset, "centres", None) is not None:
        return _mode_report(G, prior, dataset, split, n or DEFAULT_TOY_N, seed, device, base)
    if getattr(dataset, "digits", None) is not None:  # Stacked MNIST: modes + KL over 1,000 digit triples
        from gankit.metrics.stacked import stacked_report  # imports this module, so not at the top

        return stacked_report(G, prior, dataset, split, n, seed, device, extractor, base)
    if info.kind == "image":
        if extractor is None:
            extractor = extractor_for(info, device=device)
        if extractor is not None:
            return _fid_kid_report(G, prior, dataset, split, n, seed, device, extractor, base)
        shapes = ", ".join(str((1, s, s)) for s in EXTRACTORS.values())
        reason = (
            f"{info.name} images have shape {info.shape}; gankit ships feature extractors only for {shapes} "
            "(pass extractor= to score other images)"
        )
    else:
        reason = f"{info.name} holds {info.kind} data without known mode centres, so no mode or FID figure applies"
    return QualityReport("none", {}, {**base, "metrics": [], "reason": reason})


def _fid_kid_report(
    G: nn.Module,
    prior: LatentPrior,
    dataset: Dataset,
    split: str,
    n: int | None,
    seed: int,
    device: torch.device | str,
    extractor: FeatureExtractor,
    base: dict[str, Any],
) -> QualityReport:
    info = dataset.info
    if tuple(extractor.image_shape) != tuple(info.shape):
        raise ConfigError(
            f"extractor {extractor.name!r} takes images of shape {extractor.image_shape}, "
            f"{info.name} has {info.shape}"
        )
    if split == "train":
        raise ConfigError("eval.split: FID is measured against val or test; train is the real-vs-real baseline")
    reference, train = dataset.split(split), dataset.split("train")
    n = len(reference) if n is None else n
    _check_n(n, len(reference), split, info.name)
    _check_n(n, len(train), "train", info.name)

    g = torch.Generator().manual_seed(seed)
    # Features of the real images are computed once and shared by both metrics and both comparisons.
    ref_feats = extractor(_subset(reference, n, g))
    train_feats = extractor(_subset(train, n, g))
    fake = _generate(G, prior, n, seed, device, info.shape)
    non_finite = int((~torch.isfinite(fake.flatten(1))).any(dim=1).sum())

    def fid_kid(feats: torch.Tensor) -> tuple[float, float, float, int, int]:
        fid, kid = FID(), KID(seed=seed)
        for metric in (fid, kid):
            metric.update(ref_feats, real=True)
            metric.update(feats, real=False)
        subsets, size = kid.resolved_subsets()
        return fid.compute(), *kid.compute(), subsets, size

    fid_rr, kid_rr, kid_rr_std, subsets, size = fid_kid(train_feats)
    if non_finite:
        # A diverged G (nan/inf pixels) has no meaningful features; say so rather than crash in eigh.
        fid, kid, kid_std = math.nan, math.nan, math.nan
    else:
        fid, kid, kid_std, _, _ = fid_kid(extractor(fake))
    values = {
        "fid": fid,
        "fid_real_vs_real": fid_rr,
        "kid": kid,
        "kid_std": kid_std,
        "kid_real_vs_real": kid_rr,
        "kid_real_vs_real_std": kid_rr_std,
        "non_finite_generated": non_finite,
    }
    fingerprint = {
        **base,
        "metrics": ["fid", "kid"],
        "split": split,
        "n_generated": n,
        "n_real": n,
        "real_vs_real": f"{n} train images (seeded permutation) vs the same {n} {split} images",
        "extractor": extractor.name,
        "extractor_sha256": extractor.sha256,
        "feature_dim": extractor.dim,
        "kid_kernel": "(x.y/d + 1)^3, unbiased MMD^2",
        "kid_subsets": subsets,
        "kid_subset_size": size,
        "seed": seed,
        "z_dim": prior.dim,
    }
    return QualityReport("fid_kid", values, fingerprint)


def _mode_report(
    G: nn.Module,
    prior: LatentPrior,
    dataset: Dataset,
    split: str,
    n: int,
    seed: int,
    device: torch.device | str,
    base: dict[str, Any],
) -> QualityReport:
    info = dataset.info
    centres, std = dataset.centres, float(dataset.std)
    reference = dataset.split(split)
    _check_n(n, len(reference), split, info.name)
    fake = _generate(G, prior, n, seed, device, info.shape)
    # The split's rows are samples of the true mixture (drawn once, the same in every run), so they
    # score the physical limit at the same n.
    true = _subset(reference, n, torch.Generator().manual_seed(seed))
    gen_report, true_report = mode_metrics(fake, centres, std, N_STD), mode_metrics(true, centres, std, N_STD)
    values: dict[str, Any] = _mode_values(gen_report)
    values.update({f"true_{k}": v for k, v in _mode_values(true_report).items() if k != "n_modes"})
    fingerprint = {
        **base,
        "metrics": ["modes_covered", "hq_fraction", "reverse_kl", "hq_spread"],
        "hq_spread": "RMS per-coordinate distance of HQ samples to their centre, in std (true mixture: 0.974)",
        "split": split,
        "n_generated": n,
        "n_real": n,
        "n_modes": gen_report.n_modes,
        "std": std,
        "n_std": N_STD,
        "reverse_kl": "KL(HQ mode histogram || uniform), natural log",
        "seed": seed,
        "z_dim": prior.dim,
    }
    return QualityReport("modes", values, fingerprint)


def _mode_values(report: ModeReport) -> dict[str, Any]:
    return {
        "modes_covered": report.modes_covered,
        "n_modes": report.n_modes,
        "hq_fraction": report.hq_fraction,
        "reverse_kl": report.reverse_kl,
        "hq_spread": report.hq_spread,
    }
