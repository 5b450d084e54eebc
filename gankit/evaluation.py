"""``gankit eval`` and its Python twin :func:`evaluate`: fingerprinted metrics of a trained run -> RUN_DIR/eval.json.

(The module is ``evaluation``, not ``evaluate``: a submodule named like the function ``gankit.evaluate``
would replace that function as an attribute of the package as soon as it is imported.)

Default metrics: on images, FID, KID, IS, precision, recall, density, coverage, memorisation and
train/test MRE; on 1D/2D toy data, mode metrics (when the mixture has known centres), the optimal
discriminator check and the k-NN entropy. Every metric prints one line: its figure, the same figure
on real data where one exists (FID beside real-vs-real at the same N), and its fingerprint.

Real images are the first N of a seeded permutation of the ``split`` (reference) and of the train
split; their features are cached on disk under the hash of their fingerprint (``$GANKIT_CACHE`` or
``~/.cache/gankit``), so a second evaluation of any run on the same data skips them.

Example::

    import gankit
    report = gankit.evaluate("runs/00000-mnist5k-dcgan-nonsaturating", metrics=["fid", "kid"], n=500)
    report.results["fid"].values["fid"], report.results["fid"].values["fid_real_vs_real"]
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from gankit.errors import GankitError
from gankit.metrics.fid import FID, KID
from gankit.metrics.quality import _kid_text
from gankit.metrics.result import MetricResult, cached_tensors, fingerprint
from gankit.sampling import generate

IMAGE_DEFAULTS = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "memorization", "mre")
TOY_DEFAULTS = ("modes", "dstar", "entropy")
G_ITSELF = ("mre", "jacobian", "dstar")  # metrics of G's map (or D against G), not of a sample: --drs leaves them
PRDC_NAMES = ("precision", "recall", "density", "coverage")
ALIASES = {"memorisation": "memorization", "prdc": PRDC_NAMES, "inception_score": "is", "fid_infinity": "fid_inf"}
IMAGE_ONLY = {"fid", "kid", "is", "fid_inf", "memorization", "mre", "cas", *PRDC_NAMES}
GAN_OBJECTIVES = {"nonsaturating", "minimax"}  # D(x) = sigmoid(logit): the D* of Goodfellow et al. applies
MRE_IMAGES = 32  # images of each split whose MRE is measured (the optimisation dominates eval time)
JACOBIAN_POINTS = 32


@dataclass
class EvalReport:
    """The results of :func:`evaluate`, by metric name, and where eval.json was written."""

    run_dir: Path
    step: int
    generator: str
    results: dict[str, MetricResult] = field(default_factory=dict)
    path: Path | None = None

    def lines(self) -> list[str]:
        return [r.line() for r in self.results.values()]

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "step": self.step, "generator": self.generator,
                "results": {k: r.to_dict() for k, r in self.results.items()}}


def resolve_metrics(metrics: str | list[str] | tuple[str, ...] | None, image: bool) -> list[str]:
    """Metric names in order, aliases expanded; unknown or inapplicable names raise one GankitError line."""
    if metrics is None:
        return list(IMAGE_DEFAULTS if image else TOY_DEFAULTS)
    names = [m.strip().lower() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    out: list[str] = []
    for name in names:
        alias = ALIASES.get(name, name)
        for m in (alias,) if isinstance(alias, str) else alias:
            if m not in METRICS:
                raise GankitError(f"--metrics: unknown metric {name!r}; choose from {', '.join(sorted(METRICS))}")
            if m in IMAGE_ONLY and not image:
                raise GankitError(f"--metrics: {m!r} needs image data; this run's data is not images")
            if m not in out:
                out.append(m)
    if not out:
        raise GankitError("--metrics: no metric named")
    return out


class _Context:
    """What the metrics of one evaluation share, each computed at most once."""

    def __init__(self, run_dir: Path, n: int | None, split: str, seed: int, ema: bool, device: str,
                 cache: str | Path | None, drs: bool = False) -> None:
        from gankit.api import _pick_generator, drs_sampler, load_run
        from gankit.data import build_dataset

        self.cfg, self.model, ckpt = load_run(run_dir, device)
        self.G = _pick_generator(self.model, ckpt, ema)
        self.generator = "G_ema" if ema else "G"
        # --drs: the sample metrics score what DRS keeps; mre, jacobian and dstar measure G itself
        self.sampler = drs_sampler(self.cfg, self.model, self.G, device) if drs else None
        self.step = int(ckpt.meta["step"])
        self.run_dir, self.split, self.seed, self.device, self.cache = run_dir, split, seed, device, cache
        self.prior = self.model.prior
        self.dataset = build_dataset(self.cfg.data)
        self.info = self.dataset.info
        self.image = self.info.kind == "image"
        if split not in ("val", "test"):
            raise GankitError(f"--split: choose val or test, got {split!r} (train is the real-vs-real baseline)")
        reference = self.dataset.split(split)
        default_n = len(reference) if self.image else min(2500, len(reference))
        self.n = default_n if n is None else n
        if not 2 <= self.n <= len(reference):
            raise GankitError(f"--n: need 2 <= n <= {len(reference)} (the {split} split's size), got {self.n}")
        if self.image and self.n > len(self.dataset.split("train")):
            raise GankitError(f"--n: {self.n} exceeds the train split ({len(self.dataset.split('train'))})")

    def fp(self, metric: str, n_real: int | None = None, extractor: Any = None, **extra: Any) -> dict[str, Any]:
        if extractor is not None:
            prep = getattr(extractor, "preprocessing", None) or "float32 in [-1, 1], no resize, fed to the extractor as is"
        else:
            prep = "float32 pixels in [-1, 1], as stored" if self.image else "raw samples"
        if self.sampler is not None and metric not in G_ITSELF:
            extra = {**extra, "sampler": self.sampler.fingerprint()}
        return fingerprint(metric, self.info.name, self.split, self.n, self.n if n_real is None else n_real, self.seed,
                           extractor=extractor, preprocessing=prep, generator=self.generator, step=self.step,
                           prior=repr(self.prior), **extra)

    def _subset(self, split: str, n: int, salt: int) -> torch.Tensor:
        rows = self.dataset.split(split)
        g = torch.Generator().manual_seed(self.seed * 1000 + salt)
        return rows.float_x(torch.randperm(len(rows), generator=g)[:n])

    @cached_property
    def rows(self) -> torch.Tensor:
        return self.prior.sample(self.n, seed=self.seed, device=self.device)

    @cached_property
    def fake(self) -> torch.Tensor:
        """The samples the sample metrics score: G's, or those DRS keeps (--drs)."""
        if self.sampler is None:
            return self.g_fake
        return self._checked(self.sampler.draw(self.n, seed=self.seed, device=self.device))

    @cached_property
    def g_fake(self) -> torch.Tensor:
        """G's own samples at the seeded rows."""
        return self._checked(generate(self.G, self.rows))

    def _checked(self, fake: torch.Tensor) -> torch.Tensor:
        if tuple(fake.shape[1:]) != tuple(self.info.shape):
            raise GankitError(f"G outputs {tuple(fake.shape[1:])} per sample, {self.info.name} has {self.info.shape}")
        if not torch.isfinite(fake).all():
            raise GankitError(f"G produced non-finite samples at step {self.step} (a diverged run): nothing to evaluate")
        return fake

    @cached_property
    def reference(self) -> torch.Tensor:
        return self._subset(self.split, self.n, 0)

    @cached_property
    def train(self) -> torch.Tensor:
        return self._subset("train", self.n, 1)

    @cached_property
    def extractor(self) -> Any:
        from gankit.metrics.extractor import extractor_for

        ext = extractor_for(self.info, device=self.device)
        if ext is None:
            raise GankitError(f"no bundled feature extractor for {self.info.name} images {self.info.shape}; "
                              "feature metrics need 1x28x28 or 1x8x8 digits")
        return ext

    def _real_features(self, which: str, x: torch.Tensor, split: str) -> torch.Tensor:
        fp = {**fingerprint("real-features", self.info.name, split, None, self.n, self.seed, extractor=self.extractor),
              "data": self.cfg.data.model_dump(), "subset": which, "split_size": len(self.dataset.split(split))}
        return cached_tensors(fp, lambda: {"features": self.extractor(x)}, self.cache)["features"]

    @cached_property
    def ref_feats(self) -> torch.Tensor:
        return self._real_features("reference", self.reference, self.split)

    @cached_property
    def train_feats(self) -> torch.Tensor:
        return self._real_features("train", self.train, "train")

    @cached_property
    def fake_feats(self) -> torch.Tensor:
        return self.extractor(self.fake)

    def rr(self) -> str:
        return f"{self.n} train vs the same {self.n} {self.split} images"


def _fid(c: _Context) -> MetricResult:
    def fid(feats: torch.Tensor) -> float:
        metric = FID()
        metric.update(c.ref_feats, real=True)
        metric.update(feats, real=False)
        return metric.compute()

    v = {"fid": fid(c.fake_feats), "fid_real_vs_real": fid(c.train_feats)}
    return MetricResult("fid", v, c.fp("fid", extractor=c.extractor, real_vs_real=c.rr()),
                        f"FID {v['fid']:.3f} (real-vs-real {v['fid_real_vs_real']:.3f} at the same N)")


def _kid(c: _Context) -> MetricResult:
    def kid(feats: torch.Tensor) -> tuple[float, float, int, int]:
        metric = KID(seed=c.seed)
        metric.update(c.ref_feats, real=True)
        metric.update(feats, real=False)
        return *metric.compute(), *metric.resolved_subsets()

    m, s, subsets, size = kid(c.fake_feats)
    mr, sr, _, _ = kid(c.train_feats)
    v = {"kid": m, "kid_std": s, "kid_real_vs_real": mr, "kid_real_vs_real_std": sr}
    fp = c.fp("kid", extractor=c.extractor, kernel="(x.y/d + 1)^3, unbiased MMD^2", subsets=subsets,
              subset_size=size, real_vs_real=c.rr())
    # One subset holding all the data has no spread: print no "+- 0" that would read as precision.
    text = f"KID {_kid_text(m, s, subsets)} (real-vs-real {_kid_text(mr, sr, subsets)}; {subsets} subset(s) of {size})"
    return MetricResult("kid", v, fp, text)


def _is(c: _Context) -> MetricResult:
    from gankit.metrics.inception_score import InceptionScore

    # The digit classifier's feature_scale was set AFTER its head was trained (it calibrates KID's kernel),
    # so the head sees the features it was trained on only once the scale is divided out again; without
    # this the logits shrink (x0.27 for digit-mnist5k) and IS of real test images falls from 9.7 to 5.4.
    scale = getattr(c.extractor.net, "feature_scale", None)

    def score(feats: torch.Tensor) -> tuple[float, float]:
        with torch.no_grad():
            f = feats.to(c.extractor.device)
            logits = c.extractor.net.head(f / scale if scale is not None else f).cpu()
        metric = InceptionScore(logits.shape[1], splits=10)
        metric.update(logits)
        return metric.compute()

    (m, s), (mr, sr) = score(c.fake_feats), score(c.ref_feats)
    v = {"is": m, "is_std": s, "is_real": mr, "is_real_std": sr}
    fp = c.fp("is", extractor=c.extractor, head="the extractor's classifier head on unscaled features", splits=10)
    return MetricResult("is", v, fp, f"IS {m:.3f} +- {s:.3f} over 10 splits (real {c.split} images {mr:.3f} +- {sr:.3f}; max = classes)")


def _fid_inf(c: _Context) -> MetricResult:
    from gankit.metrics.fid_inf import fid_infinity

    ns = sorted({max(10, c.n * i // 5) for i in range(1, 6)})  # five sizes up to N (the paper: 15, 5k..50k)
    gen, real = fid_infinity(c.ref_feats, c.fake_feats, ns, c.seed), fid_infinity(c.ref_feats, c.train_feats, ns, c.seed)
    v = {"fid_inf": gen.fid_inf, "fid_inf_real_vs_real": real.fid_inf, "ns": gen.ns, "fids": gen.fids,
         "fids_real_vs_real": real.fids, "slope": gen.slope}
    fp = c.fp("fid_inf", extractor=c.extractor, fit="least squares FID_N = FID_inf + k/N (Chong & Forsyth 2020)",
              ns=gen.ns, real_vs_real=c.rr())
    per_n = ", ".join(f"N={n}: {f:.2f} ({r:.2f})" for n, f, r in zip(gen.ns, gen.fids, real.fids))
    return MetricResult("fid_inf", v, fp, f"FID_inf {gen.fid_inf:.3f} (real-vs-real {real.fid_inf:.3f}); {per_n}")


def _prdc(c: _Context, k: int = 5) -> MetricResult:
    from gankit.metrics.prdc import prdc

    gen, real = prdc(c.ref_feats, c.fake_feats, k), prdc(c.ref_feats, c.train_feats, k)
    v = {**gen, **{f"{key}_real_vs_real": val for key, val in real.items()}}
    fp = c.fp("prdc", extractor=c.extractor, k=k, reference="Kynkaanniemi et al. 2019; Naeem et al. 2020",
              real_vs_real=c.rr())
    text = "  ".join(f"{key} {gen[key]:.3f} ({real[key]:.3f})" for key in PRDC_NAMES)
    return MetricResult("prdc", v, fp, f"{text}  (in brackets: real-vs-real, k={k})")


def _memorization(c: _Context) -> MetricResult:
    from gankit.metrics.memorization import memorization, save_closest_pairs

    # Nearest neighbours over the whole train split: a streamed split is read from disk in full here.
    train_x, test_x = c.dataset.split("train").float_x(), c.dataset.split(c.split).float_x()
    rep = memorization(c.fake, train_x, test_x)
    path = save_closest_pairs(rep, c.fake, train_x, c.run_dir / "eval" / "memorization_pairs.png")
    v = {"gen_median_distance": rep.gen_median, "test_median_distance": rep.test_median, "ratio": rep.ratio,
         "near_copy_threshold": rep.threshold, "near_copy_share": rep.near_copy_share,
         "test_near_copy_share": rep.test_near_copy_share}
    fp = c.fp("memorization", n_real=len(test_x), space="pixels (L2)", train_images=len(train_x),
              near_copy="closer to the train set than the 1% quantile of test images' distances")
    text = (f"memorisation: median NN-train distance gen {rep.gen_median:.3f} vs {c.split} {rep.test_median:.3f} "
            f"(ratio {rep.ratio:.3f}); near copies {100 * rep.near_copy_share:.2f} % (real {c.split} "
            f"{100 * rep.test_near_copy_share:.2f} %); pairs: {path.name}")
    return MetricResult("memorization", v, fp, text, files=[str(path)])


def _mre(c: _Context) -> MetricResult:
    from gankit.metrics.mre import MREConfig, mre_report

    m = min(MRE_IMAGES, c.n)
    cfg = MREConfig(seed=c.seed)
    rep = mre_report(c.G, c.prior, c._subset("train", m, 2), c._subset(c.split, m, 3), cfg, c.device)
    v = {"train_mre": rep.train_mre, "test_mre": rep.test_mre, "gap": rep.gap,
         "train_mre_std": float(rep.train_errors.std()), "test_mre_std": float(rep.test_errors.std())}
    fp = {**c.fp("mre", n_real=m, optimizer=cfg.describe()), "n_generated": None, "images_per_split": m}
    text = (f"MRE train {rep.train_mre:.3f} test {rep.test_mre:.3f} gap {rep.gap:+.3f} "
            f"(min_z ||G(z)-x||_2, {m} images each; Adam {cfg.steps} steps lr {cfg.lr}, {cfg.restarts} restarts)")
    return MetricResult("mre", v, fp, text)


def _jacobian(c: _Context) -> MetricResult:
    from gankit.metrics.jacobian import jacobian_spectrum

    p = min(JACOBIAN_POINTS, c.n)
    spec = jacobian_spectrum(c.G, c.rows[:p])
    mean_s = spec.singular_values.mean(0)
    v = {"mean_rank": spec.mean_rank, "full_rank": spec.full_rank, "mean_effective_rank": spec.mean_effective_rank,
         "rank_deficient_share": spec.rank_deficient_share, "mean_singular_values": [float(s) for s in mean_s]}
    fp = {**c.fp("jacobian", rank_tol=spec.rank_tol, method="torch.func vmap(jacrev)"), "n_generated": p, "n_real": None}
    text = (f"Jacobian dG/dz: rank {spec.mean_rank:.2f}/{spec.full_rank}, effective rank {spec.mean_effective_rank:.2f}, "
            f"rank-deficient points {100 * spec.rank_deficient_share:.1f} % (s_max {float(mean_s[0]):.3g}, "
            f"s_min {float(mean_s[-1]):.3g}; {p} points)")
    return MetricResult("jacobian", v, fp, text)


def _cas(c: _Context, epochs: int = 5) -> MetricResult:
    from gankit.metrics.cas import gan_test, train_and_test

    test = c.dataset.split(c.split)
    k = c.info.num_classes
    if test.y is None or k < 2:
        raise GankitError(f"--metrics cas: {c.info.name} has no class labels")
    labels_of = getattr(c.prior, "labels", None)
    if labels_of is not None:
        fake_y, source = labels_of(c.rows).cpu(), "generation labels (conditional prior)"
        gt = gan_test(c.extractor.classify, c.fake, fake_y)
    else:
        fake_y, source, gt = c.extractor.classify(c.fake), f"predicted by the {c.extractor.name} classifier", None
    train = c.dataset.split("train")
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(c.seed))[: c.n]
    test_x = test.float_x()
    cas = train_and_test(c.fake, fake_y, test_x, test.y, k, epochs, c.seed)
    base = train_and_test(train.float_x(idx), train.y[idx], test_x, test.y, k, epochs, c.seed)
    v = {"cas": cas, "real_train_accuracy": base, "gan_test": gt}
    fp = c.fp("cas", n_real=len(test), extractor=c.extractor, labels=source,
              classifier=f"MLP 256 hidden, Adam 1e-3, {epochs} epochs, batch 128")
    gt_text = f"GAN-test {gt:.3f}" if gt is not None else "GAN-test n/a (unconditional G)"
    return MetricResult("cas", v, fp, f"CAS {cas:.3f} (same classifier on {c.n} real train images {base:.3f}); {gt_text}; labels {source}")


def _modes(c: _Context) -> MetricResult:
    from gankit.metrics.quality import evaluate_generator

    rep = evaluate_generator(c.sampler or c.G, c.prior, c.dataset, c.split, c.n, c.seed, c.device)
    if rep.kind != "modes":
        raise GankitError(f"--metrics modes: {c.info.name} has no known mode centres")
    return MetricResult("modes", rep.values, {**c.fp("modes"), **rep.fingerprint, "metric": "modes"}, rep.lines()[0].split("  |")[0])


def _dstar(c: _Context) -> MetricResult:
    from gankit.metrics.dstar import dstar_check

    if c.info.kind != "vector" or c.info.shape[0] not in (1, 2) or not hasattr(c.dataset, "log_prob"):
        raise GankitError("--metrics dstar: needs 1D/2D toy data with a known density")
    if c.cfg.objective.name not in GAN_OBJECTIVES or "D" not in c.model.nets:
        raise GankitError(f"--metrics dstar: D* = p_data/(p_data+p_g) is the optimum of the GAN objectives "
                          f"({', '.join(sorted(GAN_OBJECTIVES))}), not of {c.cfg.objective.name!r}")
    D = c.model.nets["D"].eval()
    ref = c.reference.double()
    margin = 3 * float(getattr(c.dataset, "std", 0.0) or ref.std())
    bounds = [(float(ref[:, j].min()) - margin, float(ref[:, j].max()) + margin) for j in range(ref.shape[1])]
    grid = 400 if ref.shape[1] == 1 else 150

    def d_prob(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([torch.sigmoid(D(chunk.to(c.device, torch.float32))).reshape(-1).cpu() for chunk in x.split(4096)])

    chk = dstar_check(d_prob, c.dataset.log_prob, c.g_fake, bounds, grid)
    v = {"mae": chk.mae, "value": chk.value, "value_optimal": chk.value_optimal, "jsd": chk.jsd}
    fp = c.fp("dstar", kde=f"Gaussian, Scott bandwidth {[round(h, 4) for h in chk.bandwidth]}",
              grid=f"{grid}^{ref.shape[1]} over {[(round(a, 2), round(b, 2)) for a, b in bounds]}",
              mae_weight="(p_data + p_g) / 2")
    text = (f"D* check: MAE |D - D*| {chk.mae:.4f}; V(D,G) {chk.value:.4f} vs -log4 + 2 JSD = {chk.value_optimal:.4f} "
            f"(JSD {chk.jsd:.4f} nats)")
    return MetricResult("dstar", v, fp, text)


def _entropy(c: _Context, k: int = 3) -> MetricResult:
    from gankit.metrics.entropy import kl_entropy

    if c.image:
        gen, real, ext, space = kl_entropy(c.fake_feats, k), kl_entropy(c.ref_feats, k), c.extractor, "extractor features"
    else:
        gen, real, ext, space = kl_entropy(c.fake, k), kl_entropy(c.reference, k), None, "raw samples"
    fp = c.fp("entropy", extractor=ext, k=k, space=space, caveat="k-NN estimate, biased at finite N and high d")
    return MetricResult("entropy", {"entropy": gen, "entropy_real": real}, fp,
                        f"entropy (Kozachenko-Leonenko, k={k}) gen {gen:.3f} nats (real {c.split} {real:.3f}; same N)")


METRICS: dict[str, Callable[[_Context], MetricResult]] = {
    "fid": _fid, "kid": _kid, "is": _is, "fid_inf": _fid_inf, "precision": _prdc, "recall": _prdc,
    "density": _prdc, "coverage": _prdc, "memorization": _memorization, "mre": _mre, "jacobian": _jacobian,
    "cas": _cas, "modes": _modes, "dstar": _dstar, "entropy": _entropy,
}


def evaluate(
    run_dir: str | Path,
    metrics: str | list[str] | None = None,
    n: int | None = None,
    split: str = "test",
    seed: int = 0,
    ema: bool = False,
    device: str = "cpu",
    cache: str | Path | None = None,
    log: Callable[[str], None] | None = print,
    drs: bool = False,
) -> EvalReport:
    """Evaluate a trained run, print one fingerprinted line per metric, write RUN_DIR/eval.json.

    ``metrics``: names or a comma-separated string (default: see module docstring); ``n``: generated
    samples and real samples per side (default: the ``split``'s size for images, 2,500 for toy data);
    ``ema``: score G_ema; ``cache``: the real-feature cache directory; ``drs``: the sample metrics score
    the samples discriminator rejection sampling keeps (:mod:`gankit.drs`), each fingerprint then names
    the sampler, while mre, jacobian and dstar still measure G itself. Bad input raises GankitError.
    """
    run_dir = Path(run_dir)
    ctx = _Context(run_dir, n, split, seed, ema, device, cache, drs)
    report = EvalReport(run_dir, ctx.step, ctx.generator)
    for name in resolve_metrics(metrics, ctx.image):
        fn = METRICS[name]
        key = "prdc" if fn is _prdc else name
        if key in report.results:
            continue
        result = fn(ctx)
        report.results[key] = result
        if log is not None:
            log(result.line())
    path = run_dir / "eval.json"
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(report.to_dict(), indent=1, default=str, allow_nan=False) + "\n")
    os.replace(tmp, path)
    report.path = path
    return report


__all__ = ["IMAGE_DEFAULTS", "METRICS", "TOY_DEFAULTS", "EvalReport", "evaluate", "resolve_metrics"]
