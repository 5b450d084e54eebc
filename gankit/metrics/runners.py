"""Each metric's runner: one function per metric, from an :class:`~gankit.metrics.context.EvalContext`
to a fingerprinted :class:`~gankit.metrics.result.MetricResult`.

A runner prints one figure: the metric on the generated samples and, where one exists, the same
metric on real data at the same N (FID beside real-vs-real). The registry
(:mod:`gankit.metrics.registry`) maps names to runners; both the end-of-training figure and
``gankit eval`` run them, so a number has one definition.

Example::

    result = run_fid(ctx)
    result.values["fid"], result.values["fid_real_vs_real"], result.line()
"""

from __future__ import annotations

import math
from typing import Any

import torch

from gankit.errors import GankitError
from gankit.metrics.context import EvalContext
from gankit.metrics.fid import FID, KID
from gankit.metrics.modes import ModeReport, mode_metrics
from gankit.metrics.result import MetricResult, kid_text

PRDC_NAMES = ("precision", "recall", "density", "coverage")
GAN_OBJECTIVES = {"nonsaturating", "minimax"}  # D(x) = sigmoid(logit): the D* of Goodfellow et al. applies
MRE_IMAGES = 32  # images of each split whose MRE is measured (the optimisation dominates eval time)
JACOBIAN_POINTS = 32
N_STD = 3.0  # HQ radius of the mode protocol, in component standard deviations
NAN = math.nan


def run_fid(c: EvalContext) -> MetricResult:
    def fid(feats: torch.Tensor) -> float:
        metric = FID()
        metric.update(c.ref_feats, real=True)
        metric.update(feats, real=False)
        return metric.compute()

    v = {"fid": c.generated(lambda: fid(c.fake_feats), NAN), "fid_real_vs_real": fid(c.train_feats)}
    fp = c.fp("fid", extractor=c.extractor, real_vs_real=c.rr(), feature_dim=c.extractor.dim)
    return MetricResult("fid", v, fp, f"FID {v['fid']:.3f} (real-vs-real {v['fid_real_vs_real']:.3f} at the same N)")


def run_kid(c: EvalContext) -> MetricResult:
    def kid(feats: torch.Tensor) -> tuple[float, float, int, int]:
        metric = KID(seed=c.seed)
        metric.update(c.ref_feats, real=True)
        metric.update(feats, real=False)
        return *metric.compute(), *metric.resolved_subsets()

    mr, sr, subsets, size = kid(c.train_feats)  # both sides hold n features: the same subsets
    m, s, _, _ = c.generated(lambda: kid(c.fake_feats), (NAN, NAN, subsets, size))
    v = {"kid": m, "kid_std": s, "kid_real_vs_real": mr, "kid_real_vs_real_std": sr}
    fp = c.fp("kid", extractor=c.extractor, kernel="(x.y/d + 1)^3, unbiased MMD^2", subsets=subsets,
              subset_size=size, real_vs_real=c.rr())
    text = f"KID {kid_text(m, s, subsets)} (real-vs-real {kid_text(mr, sr, subsets)}; {subsets} subset(s) of {size})"
    return MetricResult("kid", v, fp, text)


def run_is(c: EvalContext) -> MetricResult:
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


def run_fid_inf(c: EvalContext) -> MetricResult:
    from gankit.metrics.fid_inf import fid_infinity

    ns = sorted({max(10, c.n * i // 5) for i in range(1, 6)})  # five sizes up to N (the paper: 15, 5k..50k)
    gen, real = fid_infinity(c.ref_feats, c.fake_feats, ns, c.seed), fid_infinity(c.ref_feats, c.train_feats, ns, c.seed)
    v = {"fid_inf": gen.fid_inf, "fid_inf_real_vs_real": real.fid_inf, "ns": gen.ns, "fids": gen.fids,
         "fids_real_vs_real": real.fids, "slope": gen.slope}
    fp = c.fp("fid_inf", extractor=c.extractor, fit="least squares FID_N = FID_inf + k/N (Chong & Forsyth 2020)",
              ns=gen.ns, real_vs_real=c.rr())
    per_n = ", ".join(f"N={n}: {f:.2f} ({r:.2f})" for n, f, r in zip(gen.ns, gen.fids, real.fids))
    return MetricResult("fid_inf", v, fp, f"FID_inf {gen.fid_inf:.3f} (real-vs-real {real.fid_inf:.3f}); {per_n}")


def run_prdc(c: EvalContext, k: int = 5) -> MetricResult:
    from gankit.metrics.prdc import prdc

    gen, real = prdc(c.ref_feats, c.fake_feats, k), prdc(c.ref_feats, c.train_feats, k)
    v = {**gen, **{f"{key}_real_vs_real": val for key, val in real.items()}}
    fp = c.fp("prdc", extractor=c.extractor, k=k, reference="Kynkaanniemi et al. 2019; Naeem et al. 2020",
              real_vs_real=c.rr())
    text = "  ".join(f"{key} {gen[key]:.3f} ({real[key]:.3f})" for key in PRDC_NAMES)
    return MetricResult("prdc", v, fp, f"{text}  (in brackets: real-vs-real, k={k})")


def run_memorization(c: EvalContext) -> MetricResult:
    from gankit.metrics.memorization import memorization, save_closest_pairs

    train_x, test_x = c.dataset.split("train").float_x(), c.dataset.split(c.split).float_x()
    rep = memorization(c.fake, train_x, test_x)
    files, pairs = [], ""
    if c.out_dir is not None:
        path = save_closest_pairs(rep, c.fake, train_x, c.out_dir / "memorization_pairs.png")
        files, pairs = [str(path)], f"; pairs: {path.name}"
    v = {"gen_median_distance": rep.gen_median, "test_median_distance": rep.test_median, "ratio": rep.ratio,
         "near_copy_threshold": rep.threshold, "near_copy_share": rep.near_copy_share,
         "test_near_copy_share": rep.test_near_copy_share}
    fp = c.fp("memorization", n_real=len(test_x), space="pixels (L2)", train_images=len(train_x),
              near_copy="closer to the train set than the 1% quantile of test images' distances")
    text = (f"memorisation: median NN-train distance gen {rep.gen_median:.3f} vs {c.split} {rep.test_median:.3f} "
            f"(ratio {rep.ratio:.3f}); near copies {100 * rep.near_copy_share:.2f} % (real {c.split} "
            f"{100 * rep.test_near_copy_share:.2f} %){pairs}")
    return MetricResult("memorization", v, fp, text, files=files)


def run_mre(c: EvalContext) -> MetricResult:
    from gankit.metrics.mre import MREConfig, mre_report

    G = c.latent_G("mre")
    m = min(MRE_IMAGES, c.n)
    cfg = MREConfig(seed=c.seed)
    rep = mre_report(G.G, G.source, c.subset("train", m, "mre_train"), c.subset(c.split, m, "mre_test"), cfg, c.device)
    v = {"train_mre": rep.train_mre, "test_mre": rep.test_mre, "gap": rep.gap,
         "train_mre_std": float(rep.train_errors.std()), "test_mre_std": float(rep.test_errors.std())}
    fp = {**c.fp("mre", n_real=m, optimizer=cfg.describe()), "n_generated": None, "images_per_split": m}
    text = (f"MRE train {rep.train_mre:.3f} test {rep.test_mre:.3f} gap {rep.gap:+.3f} "
            f"(min_z ||G(z)-x||_2, {m} images each; Adam {cfg.steps} steps lr {cfg.lr}, {cfg.restarts} restarts)")
    return MetricResult("mre", v, fp, text)


def run_jacobian(c: EvalContext) -> MetricResult:
    from gankit.metrics.jacobian import jacobian_spectrum

    G = c.latent_G("jacobian")
    p = min(JACOBIAN_POINTS, c.n)
    spec = jacobian_spectrum(G.G, c.rows[:p])
    mean_s = spec.singular_values.mean(0)
    v = {"mean_rank": spec.mean_rank, "full_rank": spec.full_rank, "mean_effective_rank": spec.mean_effective_rank,
         "rank_deficient_share": spec.rank_deficient_share, "mean_singular_values": [float(s) for s in mean_s]}
    fp = {**c.fp("jacobian", rank_tol=spec.rank_tol, method="torch.func vmap(jacrev)"), "n_generated": p, "n_real": None}
    text = (f"Jacobian dG/dz: rank {spec.mean_rank:.2f}/{spec.full_rank}, effective rank {spec.mean_effective_rank:.2f}, "
            f"rank-deficient points {100 * spec.rank_deficient_share:.1f} % (s_max {float(mean_s[0]):.3g}, "
            f"s_min {float(mean_s[-1]):.3g}; {p} points)")
    return MetricResult("jacobian", v, fp, text)


def run_cas(c: EvalContext, epochs: int = 5) -> MetricResult:
    from gankit.metrics.cas import gan_test, train_and_test
    from gankit.metrics.samples import subset_indices

    test = c.dataset.split(c.split)
    k = c.info.num_classes
    if test.y is None or k < 2:
        raise GankitError(f"--metrics cas: {c.info.name} has no class labels")
    labels_of = getattr(c.source, "labels", None)
    if labels_of is not None:
        fake_y, source = labels_of(c.rows).cpu(), "generation labels (conditional prior)"
        gt = gan_test(c.extractor.classify, c.fake, fake_y)
    else:
        fake_y, source, gt = c.extractor.classify(c.fake), f"predicted by the {c.extractor.name} classifier", None
    train = c.dataset.split("train")
    idx = subset_indices(len(train), c.n, c.seed, "train")  # the real-vs-real train subset, with its labels
    test_x = test.float_x()
    cas = train_and_test(c.fake, fake_y, test_x, test.y, k, epochs, c.seed)
    base = train_and_test(train.float_x(idx), train.y[idx], test_x, test.y, k, epochs, c.seed)
    v = {"cas": cas, "real_train_accuracy": base, "gan_test": gt}
    fp = c.fp("cas", n_real=len(test), extractor=c.extractor, labels=source,
              classifier=f"MLP 256 hidden, Adam 1e-3, {epochs} epochs, batch 128")
    gt_text = f"GAN-test {gt:.3f}" if gt is not None else "GAN-test n/a (unconditional G)"
    return MetricResult("cas", v, fp, f"CAS {cas:.3f} (same classifier on {c.n} real train images {base:.3f}); {gt_text}; labels {source}")


def mode_values(report: ModeReport) -> dict[str, Any]:
    return {"modes_covered": report.modes_covered, "n_modes": report.n_modes, "hq_fraction": report.hq_fraction,
            "reverse_kl": report.reverse_kl, "hq_spread": report.hq_spread}


def run_modes(c: EvalContext) -> MetricResult:
    centres = getattr(c.dataset, "centres", None)
    if centres is None:
        raise GankitError(f"--metrics modes: {c.info.name} has no known mode centres")
    std = float(c.dataset.std)
    # The split's rows are samples of the true mixture (drawn once, the same in every run), so they
    # score the physical limit at the same n.
    gen, true = mode_metrics(c.fake, centres, std, N_STD), mode_metrics(c.reference, centres, std, N_STD)
    v: dict[str, Any] = mode_values(gen)
    v.update({f"true_{k}": val for k, val in mode_values(true).items() if k != "n_modes"})
    fp = c.fp("modes", metrics=["modes_covered", "hq_fraction", "reverse_kl", "hq_spread"],
              hq_spread="RMS per-coordinate distance of HQ samples to their centre, in std (true mixture: 0.974)",
              n_modes=gen.n_modes, std=std, n_std=N_STD, reverse_kl="KL(HQ mode histogram || uniform), natural log")
    k = gen.n_modes
    text = (f"modes {v['modes_covered']}/{k} (true data {v['true_modes_covered']}/{k})  "
            f"HQ {100 * v['hq_fraction']:.1f} % ({100 * v['true_hq_fraction']:.1f} %)  "
            f"reverse KL {v['reverse_kl']:.4f} ({v['true_reverse_kl']:.4f})  "
            f"spread {v['hq_spread']:.2f} ({v['true_hq_spread']:.2f})")
    return MetricResult("modes", v, fp, text)


def run_dstar(c: EvalContext) -> MetricResult:
    from gankit.metrics.dstar import dstar_check

    if c.info.kind != "vector" or c.info.shape[0] not in (1, 2) or not hasattr(c.dataset, "log_prob"):
        raise GankitError("--metrics dstar: needs 1D/2D toy data with a known density")
    if c.objective not in GAN_OBJECTIVES or c.D is None:
        raise GankitError(f"--metrics dstar: D* = p_data/(p_data+p_g) is the optimum of the GAN objectives "
                          f"({', '.join(sorted(GAN_OBJECTIVES))}), not of {c.objective!r}")
    D = c.D.eval()
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


def run_entropy(c: EvalContext, k: int = 3) -> MetricResult:
    from gankit.metrics.entropy import kl_entropy

    if c.image:
        gen, real, ext, space = kl_entropy(c.fake_feats, k), kl_entropy(c.ref_feats, k), c.extractor, "extractor features"
    else:
        gen, real, ext, space = kl_entropy(c.fake, k), kl_entropy(c.reference, k), None, "raw samples"
    fp = c.fp("entropy", extractor=ext, k=k, space=space, caveat="k-NN estimate, biased at finite N and high d")
    return MetricResult("entropy", {"entropy": gen, "entropy_real": real}, fp,
                        f"entropy (Kozachenko-Leonenko, k={k}) gen {gen:.3f} nats (real {c.split} {real:.3f}; same N)")


__all__ = ["GAN_OBJECTIVES", "JACOBIAN_POINTS", "MRE_IMAGES", "N_STD", "PRDC_NAMES", "mode_values", "run_cas",
           "run_dstar", "run_entropy", "run_fid", "run_fid_inf", "run_is", "run_jacobian", "run_kid",
           "run_memorization", "run_modes", "run_mre", "run_prdc"]
