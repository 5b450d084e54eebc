"""Stacked MNIST mode metrics: modes covered and KL to uniform over the 1,000 digit triples.

Protocol of VEEGAN (Srivastava et al. 2017, Section 5.2) and PacGAN (Lin et al. 2018, Section 4.2,
Table 2), ../shared/BENCHMARKS.md section 2: a pre-trained digit classifier labels each of the three
channels of a sample; the sample's mode is ``d1 * 100 + d2 * 10 + d3``. Over N = 26,000 generated
samples,

    modes = #{k : n_k > 0},        KL = KL(p || U) = sum_k p_k log(p_k * 1000),   p_k = n_k / N,

with natural logarithms (terms with p_k = 0 contribute 0): 0 for a perfectly balanced histogram,
log(1000 / k) when exactly k modes are equally filled, log 1000 = 6.91 when everything sits on one mode.
The KL splits exactly into the three channels' digit-marginal KLs to uniform over 10 plus the channels'
total correlation (:func:`kl_decomposition`): the report carries both parts (``kl_marginal``,
``kl_dependence``, per channel ``kl_channels``) and each channel's digit shares (``digit_shares``).

The classifier is gankit's bundled ``digit-mnist5k`` CNN (:mod:`gankit.metrics.extractor`); every value
carries its SHA-256. Because it errs on some digits, even real data do not score a perfect KL: the same
metric on N real stacked samples (triples of the evaluation split's held-out digits, so the classifier
never saw them) is printed beside the generated one as the reference.

Example::

    metric = StackedModes(load_extractor("digit-mnist5k"))
    for chunk in fake.split(1000):
        metric.update(chunk)                  # chunk (n, 3, 28, 28) in [-1, 1]
    metric.compute()                          # StackedModesReport(modes_covered=..., kl=..., ...)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gankit.data.stacked import N_CHANNELS, N_MODES, StackedDataset, draw_triples, triple_labels
from gankit.errors import ConfigError
from gankit.metrics.base import Metric
from gankit.metrics.extractor import FeatureExtractor, load_extractor
from gankit.metrics.finite import require_finite
from gankit.metrics.result import QualityReport
from gankit.metrics.samples import as_sampler, checked_shape
from gankit.progress import track
from gankit.sampling import Source

STACKED_N = 26_000  # samples scored by VEEGAN / PacGAN
EXTRACTOR = "digit-mnist5k"
CHUNK = 1_000  # generated images are produced and classified this many at a time, so memory stays flat


def histogram_kl(counts: torch.Tensor) -> float:
    """KL(counts / sum || uniform over len(counts)) in nats, float64; inf for an empty histogram.

    Example::

        histogram_kl(torch.tensor([5, 5, 0, 0]))   # log(4 / 2) = 0.6931...
    """
    counts = counts.to(torch.float64)
    total = float(counts.sum())
    if total <= 0:
        return math.inf
    p = counts[counts > 0] / total
    return float((p * torch.log(p * len(counts))).sum())


@dataclass(frozen=True)
class KLDecomposition:
    """KL(p || uniform over 1000) of one Stacked MNIST histogram split into its two sources (nats).

    With p the joint law of the three channel digits, p_c its marginal on channel c and H the entropy,
    KL(p || U_1000) = 3 log 10 - H(p) = sum_c [log 10 - H(p_c)] + [sum_c H(p_c) - H(p)], that is

        kl = sum_c channel_kl[c] + dependence,   channel_kl[c] = KL(p_c || U_10),
        dependence = KL(p || p_1 x p_2 x p_3)    (total correlation, multi-information; >= 0).

    ``channel_kl`` says how far each channel's digit frequencies are from 1/10 (G prefers some digits);
    ``dependence`` how far the channels are from independent (G couples the digits of a triple, e.g.
    only some combinations). ``marginals[c][d]`` is the share of samples whose channel c shows digit d.
    """

    kl: float
    channel_kl: tuple[float, ...]
    dependence: float
    marginals: tuple[tuple[float, ...], ...]

    @property
    def marginal_kl(self) -> float:
        """sum_c KL(p_c || U_10): the part of ``kl`` that comes from non-uniform digit frequencies."""
        return float(sum(self.channel_kl))


def kl_decomposition(counts: torch.Tensor) -> KLDecomposition:
    """Split KL(counts || uniform) of a 1,000-bin mode histogram (bin d1*100 + d2*10 + d3) into the KL of
    each channel's digit marginal to uniform and the channels' total correlation (:class:`KLDecomposition`).

    float64 throughout; ``kl`` equals :func:`histogram_kl` and ``marginal_kl + dependence`` up to rounding.
    An empty histogram has no law: every field is inf (``marginals`` nan).

    Example::

        d = kl_decomposition(metric.counts)
        d.channel_kl, d.dependence          # (0.01, 0.02, 0.01), 0.3: the KL is mostly channel coupling
    """
    counts = counts.to(torch.float64).flatten()
    if counts.numel() != N_MODES:
        raise ValueError(f"a Stacked MNIST histogram has {N_MODES} bins, got {counts.numel()}")
    total = float(counts.sum())
    k = round(N_MODES ** (1 / N_CHANNELS))  # digits per channel (10)
    if total <= 0:
        nan = (math.nan,) * k
        return KLDecomposition(math.inf, (math.inf,) * N_CHANNELS, math.inf, (nan,) * N_CHANNELS)
    joint = (counts / total).reshape((k,) * N_CHANNELS)  # joint[d1, d2, d3]: channel c is axis c

    def entropy(p: torch.Tensor) -> float:
        p = p[p > 0]
        return float(-(p * torch.log(p)).sum())

    marginals = [joint.sum(dim=tuple(a for a in range(N_CHANNELS) if a != c)) for c in range(N_CHANNELS)]
    h_marginals = [entropy(m) for m in marginals]
    return KLDecomposition(
        kl=N_CHANNELS * math.log(k) - entropy(joint),
        channel_kl=tuple(math.log(k) - h for h in h_marginals),
        dependence=max(0.0, sum(h_marginals) - entropy(joint)),  # >= 0 in exact arithmetic
        marginals=tuple(tuple(float(v) for v in m) for m in marginals),
    )


@dataclass(frozen=True)
class StackedModesReport:
    """Modes covered, KL to uniform and sample count of one Stacked MNIST histogram (``counts``, 1,000 bins)."""

    modes_covered: int
    n_modes: int
    kl: float
    n_samples: int
    counts: tuple[int, ...] = ()

    def decomposition(self) -> KLDecomposition:
        """``kl`` split into per-channel digit-marginal KLs and the channels' dependence (:func:`kl_decomposition`)."""
        return kl_decomposition(torch.tensor(self.counts, dtype=torch.float64))


class StackedModes(Metric):
    """Torchmetrics-style Stacked MNIST mode counter: ``update`` images or labels, ``compute``, ``reset``.

    The state is one float64 histogram of 1,000 bins, so two metrics merge by adding ``counts``.

    Example::

        metric = StackedModes()
        metric.update(images)       # (N, 3, 28, 28) in [-1, 1]
        report = metric.compute()   # report.modes_covered, report.kl
    """

    def __init__(self, extractor: FeatureExtractor | None = None) -> None:
        super().__init__()
        self.extractor = extractor if extractor is not None else load_extractor(EXTRACTOR)
        self.add_state("counts", torch.zeros(N_MODES, dtype=torch.float64))

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """Mode labels (N,) of stacked images (N, 3, H, W): the classifier's digit for each channel, combined."""
        if images.ndim != 4 or images.shape[1] != N_CHANNELS:
            raise ValueError(f"stacked images must be (N, {N_CHANNELS}, H, W), got {tuple(images.shape)}")
        # Each channel is one grey digit image: classify all 3N of them in one pass.
        digits = self.extractor.classify(images.reshape(-1, 1, *images.shape[2:]))
        return triple_labels(digits.reshape(-1, N_CHANNELS))

    def update_labels(self, labels: torch.Tensor) -> None:
        """Add mode labels (N,) in 0..999 to the histogram."""
        labels = labels.to("cpu", torch.int64)
        if len(labels) and (labels.min() < 0 or labels.max() >= N_MODES):
            raise ValueError(f"mode labels must lie in 0..{N_MODES - 1}")
        self.counts += torch.bincount(labels, minlength=N_MODES).to(torch.float64)

    def update(self, images: torch.Tensor) -> None:
        # a nan image still gets an argmax digit: it would be counted as a sample of some mode
        self.update_labels(self.classify(require_finite(images, "Stacked MNIST modes", "images")))

    def compute(self) -> StackedModesReport:
        return StackedModesReport(
            modes_covered=int((self.counts > 0).sum()),
            n_modes=N_MODES,
            kl=histogram_kl(self.counts),
            n_samples=int(self.counts.sum()),
            counts=tuple(int(c) for c in self.counts),
        )


def real_stacked_modes(dataset: StackedDataset, split: str, n: int, seed: int,
                       extractor: FeatureExtractor) -> tuple[StackedModesReport, float]:
    """The metric on ``n`` real stacked samples: triples of ``split``'s digits drawn with ``seed``.

    Returns the report and the classifier's per-channel accuracy on those samples. Each digit image of
    the split is classified once and the triples are labelled from those predictions: the classifier is
    a fixed function of one channel in eval mode, so this equals classifying every channel of the n
    stacked images (tested), at a fraction of the cost.
    """
    digits = dataset.digits[split]
    predicted = extractor.classify(digits.float_x())  # (N_digits,)
    indices = draw_triples(len(digits), n, torch.Generator().manual_seed(seed))
    metric = StackedModes(extractor)
    metric.update_labels(triple_labels(predicted[indices]))
    accuracy = float((predicted[indices] == digits.y[indices]).double().mean())
    return metric.compute(), accuracy


def generated_stacked_modes(G: nn.Module | Any, prior: Source, n: int, seed: int, device: torch.device | str,
                            extractor: FeatureExtractor, shape: tuple[int, ...]) -> StackedModesReport:
    """The metric on ``n`` samples of G, z from ``prior.sample(n, seed=seed)``, generated in chunks. ``G``
    may be a sampler with ``draw(n, seed, device)`` (:class:`gankit.drs.RejectionSampler`): it returns its
    ``n`` accepted samples at once (26,000 Stacked MNIST images are 245 MB), classified in chunks."""
    metric = StackedModes(extractor)
    sampler = as_sampler(G, prior)  # a plain G is sampled through its source, like every evaluation
    if hasattr(sampler, "draw_chunks"):
        chunks = sampler.draw_chunks(n, seed, device, CHUNK)
    else:
        chunks = sampler.draw(n, seed=seed, device=device).split(CHUNK)
    for fake in track(chunks, "Stacked MNIST: scoring samples", total=math.ceil(n / CHUNK), unit="chunk"):
        metric.update(checked_shape(fake, shape))
    return metric.compute()


class StackedQualityReport(QualityReport):
    """The Stacked MNIST quality figure (kind "stacked_modes"): modes and KL, beside real data's."""

    def lines(self) -> list[str]:
        fp, v = self.fingerprint, self.values
        figure = (f"modes {v['modes_covered']}/{v['n_modes']} (real stacked {v['real_modes_covered']}/{v['n_modes']})  "
                  f"KL {v['kl']:.4f} ({v['real_kl']:.4f})")
        if "kl_marginal" in v:  # reports written before the decomposition lack it
            figure += (f" = marginal {v['kl_marginal']:.4f} ({v['real_kl_marginal']:.4f}) + dependence "
                       f"{v['kl_dependence']:.4f} ({v['real_kl_dependence']:.4f})")
        where = (f"{fp['dataset']}, N={fp['n_generated']} generated vs {fp['n_real']} real triples of "
                 f"{fp['split']} digits; classifier {fp['extractor']} sha256:{fp['extractor_sha256'][:12]}.. "
                 f"(channel accuracy on the real triples {100 * v['real_channel_accuracy']:.1f} %); seed {fp['seed']}")
        return [f"{figure}  | {where}"]


def stacked_report(G: nn.Module | Any, prior: Source, dataset: StackedDataset, split: str = "test",
                   n: int | None = None, seed: int = 0, device: torch.device | str = "cpu",
                   extractor: FeatureExtractor | None = None,
                   base: dict[str, Any] | None = None) -> StackedQualityReport:
    """Modes and KL of ``n`` (default 26,000) samples of G, beside ``n`` real triples of ``split``'s digits.

    Example::

        report = stacked_report(G, model.prior, load_stacked_mnist(), seed=0)
        print(report.lines()[0])
    """
    n = STACKED_N if n is None else n
    if n < 1:
        raise ConfigError(f"eval.n: need at least 1 sample, got {n}")
    if split not in dataset.digits:
        raise ConfigError(f"eval.split: {dataset.info.name} has no {split!r} digits; it has {', '.join(dataset.digits)}")
    extractor = extractor if extractor is not None else load_extractor(EXTRACTOR, device=device)
    if tuple(extractor.image_shape) != (1, *dataset.info.shape[1:]):
        raise ConfigError(f"extractor {extractor.name!r} takes images of shape {extractor.image_shape}, "
                          f"one channel of {dataset.info.name} has {(1, *dataset.info.shape[1:])}")
    gen = generated_stacked_modes(G, prior, n, seed, device, extractor, dataset.info.shape)
    real, accuracy = real_stacked_modes(dataset, split, n, seed, extractor)
    parts, real_parts = gen.decomposition(), real.decomposition()
    values = {
        "modes_covered": gen.modes_covered,
        "n_modes": gen.n_modes,
        "kl": gen.kl,
        "real_modes_covered": real.modes_covered,
        "real_kl": real.kl,
        "real_channel_accuracy": accuracy,
        # kl = kl_marginal + kl_dependence (kl_decomposition); digit_shares[10 c + d]: channel c shows digit d
        "kl_marginal": parts.marginal_kl,
        "kl_dependence": parts.dependence,
        "kl_channels": list(parts.channel_kl),
        "digit_shares": [v for m in parts.marginals for v in m],
        "real_kl_marginal": real_parts.marginal_kl,
        "real_kl_dependence": real_parts.dependence,
        "real_kl_channels": list(real_parts.channel_kl),
        "real_digit_shares": [v for m in real_parts.marginals for v in m],
    }
    fingerprint = {
        **(base or {"dataset": dataset.info.name}),
        "metrics": ["modes_covered", "kl"],
        "split": split,
        "n_generated": n,
        "n_real": n,
        "real": f"{n} triples of the {split} split's digits, drawn with the seed",
        "kl": "KL(mode histogram || uniform over 1000), natural log; = kl_marginal (sum over channels of "
              "KL(digit marginal || uniform over 10)) + kl_dependence (total correlation of the 3 channels)",
        "extractor": extractor.name,
        "extractor_sha256": extractor.sha256,
        "seed": seed,
        "z_dim": getattr(prior, "dim", None),
    }
    return StackedQualityReport("stacked_modes", values, fingerprint)
