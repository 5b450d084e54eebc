"""What the metrics of one evaluation share: the generated samples, the real subsets, their features.

An :class:`EvalContext` is built by both callers of the metric registry (:mod:`gankit.metrics.registry`):
the end-of-training figure (:func:`gankit.metrics.evaluate_generator`) and ``gankit eval``
(:func:`gankit.evaluate`). Everything is computed at most once, on first use. Real features are
cached on disk under the hash of their fingerprint, which names the split by content
(:meth:`gankit.data.base.Split.content_sha256`), so a second evaluation on the same data skips them.

Example::

    ctx = EvalContext(dataset, GeneratorSampler(G, model.source), split="test", n=500, seed=0)
    METRICS["fid"](ctx).values["fid"]
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Callable, TypeVar

import torch

from gankit.data.base import Dataset
from gankit.errors import ConfigError, GankitError
from gankit.metrics.extractor import FeatureExtractor, extractor_for
from gankit.metrics.finite import non_finite_rows
from gankit.metrics.result import cached_tensors, fingerprint
from gankit.metrics.samples import SUBSET_RULE, GeneratorSampler, checked_shape, real_subset
from gankit.sampling import generate

T = TypeVar("T")
DEFAULT_TOY_N = 2500  # the PacGAN protocol scores 2,500 samples


class EvalContext:
    """The shared inputs of every metric of one evaluation.

    ``sampler`` draws the generated samples (:mod:`gankit.metrics.samples`); metrics of G's own map
    (MRE, Jacobian, D*) use ``sampler.G`` / ``sampler.source`` of a :class:`GeneratorSampler`, or
    ``G_itself`` when the sampler is another one (DRS). ``n`` defaults to the split's size (images) or
    min(2,500, split size) (toy data). ``cache``: directory of the real-feature cache (None: the
    default, False: none). ``strict``: non-finite generated samples raise (``gankit eval``); otherwise
    :meth:`generated` reports nan for them (the end-of-training figure of a diverged run).
    ``option``: how the caller names its settings in error messages (``eval.n`` / ``--n``).
    """

    def __init__(self, dataset: Dataset, sampler: Any, split: str = "test", n: int | None = None, seed: int = 0,
                 device: torch.device | str = "cpu", *, G_itself: GeneratorSampler | None = None,
                 extractor: FeatureExtractor | None = None, cache: str | Path | None | bool = None,
                 strict: bool = True, generator: str | None = None, step: int | None = None,
                 out_dir: Path | None = None, D: Any = None, objective: str | None = None,
                 option: str = "eval") -> None:
        self.dataset, self.info, self.sampler = dataset, dataset.info, sampler
        self.G_itself = G_itself if G_itself is not None else (sampler if isinstance(sampler, GeneratorSampler) else None)
        self.split, self.seed, self.device, self.cache, self.strict = split, seed, device, cache, strict
        self.generator, self.step, self.out_dir, self.D, self.objective = generator, step, out_dir, D, objective
        self.image = self.info.kind == "image"
        self._extractor, self.option = extractor, option
        reference = dataset.split(split)
        self.n = (len(reference) if self.image else min(DEFAULT_TOY_N, len(reference))) if n is None else n
        self._check_n(len(reference), split)
        if self.image:
            self._check_n(len(dataset.split("train")), "train")

    def _check_n(self, available: int, split: str) -> None:
        key = "--n" if self.option == "cli" else "eval.n"
        if self.n < 2:
            raise ConfigError(f"{key}: need at least 2 samples, got {self.n}")
        if self.n > available:
            raise ConfigError(f"{key}: {self.n} exceeds the {available} samples of {self.info.name}'s {split!r} split "
                              "(scores compare equal sample counts)")

    # -- what G drew -------------------------------------------------------------------------------
    @property
    def source(self) -> Any:
        return self.G_itself.source if self.G_itself is not None else None

    @property
    def prior(self) -> Any:
        return self.source

    def latent_G(self, metric: str) -> GeneratorSampler:
        """G and its source for a metric of G's map (MRE, Jacobian): refused unless G takes latent rows."""
        if self.G_itself is None:
            raise GankitError(f"--metrics {metric}: measures a generator G, and this evaluation has only a sampler")
        if not getattr(self.G_itself.source, "latent", False):
            raise GankitError(f"--metrics {metric}: needs a G of latent rows (G(z)); this model's G takes "
                              f"{type(self.G_itself.source).__name__} inputs")
        return self.G_itself

    @cached_property
    def rows(self) -> Any:
        """G's inputs of :attr:`g_fake` (the seeded draw of its source)."""
        if self.G_itself is None:
            raise GankitError("this evaluation has no generator inputs (a sampler only)")
        return self.G_itself.inputs(self.n, self.seed, self.device)

    @cached_property
    def drawn(self) -> torch.Tensor:
        """The scored samples as drawn (shape checked, not yet checked for nan)."""
        if self.sampler is self.G_itself:
            return self.g_fake
        return checked_shape(self.sampler.draw(self.n, seed=self.seed, device=self.device), self.info.shape)

    @cached_property
    def g_fake(self) -> torch.Tensor:
        """G's own samples at the seeded rows (the same as ``drawn`` unless a sampler such as DRS filters them)."""
        if self.G_itself is None:
            raise GankitError("this evaluation has no generator of its own (a sampler only)")
        return checked_shape(generate(self.G_itself.G, self.rows), self.info.shape)

    @cached_property
    def non_finite_generated(self) -> int:
        """How many scored samples hold nan or inf."""
        return non_finite_rows(self.drawn)

    @property
    def fake(self) -> torch.Tensor:
        """The samples the sample metrics score: G's, or those a sampler keeps (DRS)."""
        if self.strict and self.non_finite_generated:
            raise GankitError(f"G produced {self.non_finite_generated} non-finite samples of {self.n}"
                              f"{f' at step {self.step}' if self.step is not None else ''} (a diverged run): "
                              "nothing to evaluate")
        return self.drawn

    def generated(self, score: Callable[[], T], missing: T) -> T:
        """``score()`` of the generated samples, or ``missing`` (nan) when they are non-finite and this
        context reports rather than raises (the end-of-training figure); strict contexts raise."""
        if not self.strict and self.non_finite_generated:
            return missing
        return score()

    # -- the real subsets ------------------------------------------------------------------------------
    def subset(self, split: str, n: int, role: str) -> torch.Tensor:
        return real_subset(self.dataset.split(split), n, self.seed, role)

    @cached_property
    def reference(self) -> torch.Tensor:
        return self.subset(self.split, self.n, "reference")

    @cached_property
    def train(self) -> torch.Tensor:
        return self.subset("train", self.n, "train")

    # -- features ----------------------------------------------------------------------------------------
    @cached_property
    def extractor(self) -> FeatureExtractor:
        ext = self._extractor if self._extractor is not None else extractor_for(self.info, device=self.device)
        if ext is None:
            raise GankitError(f"no bundled feature extractor for {self.info.name} images {self.info.shape}; "
                              "feature metrics need 1x28x28 or 1x8x8 digits")
        if tuple(ext.image_shape) != tuple(self.info.shape):
            raise ConfigError(f"extractor {ext.name!r} takes images of shape {ext.image_shape}, "
                              f"{self.info.name} has {self.info.shape}")
        return ext

    def _real_features(self, role: str, x: torch.Tensor, split: str) -> torch.Tensor:
        def compute() -> dict[str, torch.Tensor]:
            return {"features": self.extractor(x)}

        if self.cache is False:
            return compute()["features"]
        data = self.dataset.split(split)
        fp = {**fingerprint("real-features", self.info.name, split, None, self.n, self.seed, extractor=self.extractor),
              "subset": role, "subset_rule": SUBSET_RULE, "split_size": len(data),
              "split_sha256": data.content_sha256()}
        return cached_tensors(fp, compute, self.cache)["features"]

    @cached_property
    def ref_feats(self) -> torch.Tensor:
        return self._real_features("reference", self.reference, self.split)

    @cached_property
    def train_feats(self) -> torch.Tensor:
        return self._real_features("train", self.train, "train")

    @cached_property
    def fake_feats(self) -> torch.Tensor:
        return self.extractor(self.fake)

    # -- fingerprints ------------------------------------------------------------------------------------
    def fp(self, metric: str, n_real: int | None = None, extractor: Any = None, **extra: Any) -> dict[str, Any]:
        """The fingerprint of one metric of this evaluation; the real data are named by content."""
        if extractor is not None:
            prep = getattr(extractor, "preprocessing", None) or "float32 in [-1, 1], no resize, fed to the extractor as is"
        else:
            prep = "float32 pixels in [-1, 1], as stored" if self.image else "raw samples"
        if self.sampler is not self.G_itself and metric not in G_ITSELF:
            extra = {**extra, "sampler": self.sampler.fingerprint()}
        content = {"reference_sha256": self.dataset.split(self.split).content_sha256(),
                   "real_subsets": SUBSET_RULE}
        if self.image:
            content["train_sha256"] = self.dataset.split("train").content_sha256()
        return fingerprint(metric, self.info.name, self.split, self.n, self.n if n_real is None else n_real, self.seed,
                           extractor=extractor, preprocessing=prep, generator=self.generator, step=self.step,
                           prior=repr(self.source), **content, **extra)

    def rr(self) -> str:
        return f"{self.n} train vs the same {self.n} {self.split} images"


G_ITSELF = ("mre", "jacobian", "dstar")  # metrics of G's map (or D against G), not of a sample: DRS leaves them

__all__ = ["DEFAULT_TOY_N", "G_ITSELF", "EvalContext"]
