"""Metric speed: FID on 10,000 x 2,048 random features (gankit vs the scipy-sqrtm reference) and MRE throughput.

- FID: two sets of 10,000 random 2,048-d features (correlated Gaussians, so the covariances are full
  rank and unlike). gankit: ``FID.update`` (float64 sums, BLAS syrk) + ``compute`` (Cholesky + one eigvalsh). The
  reference: numpy mean / cov + pytorch-fid's ``calculate_frechet_distance`` formula
  (scipy.linalg.sqrtm of sigma1 @ sigma2, real part). Same features, same run; the relative
  difference of the two values is reported beside the speed-up (target: >= 5x at equal value).
- MRE: images per second of ``reconstruction_errors`` with the default protocol (MREConfig) on the
  default mnist5k DCGAN generator (weights of ``--run`` if given, else a freshly initialised G:
  the cost does not depend on the weights).

    OMP_NUM_THREADS=1 python benchmarks/metrics.py [--run RUN_DIR] [--n 10000] [--dim 2048]

Writes the section "metrics" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.linalg
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

from gankit.metrics.fid import FID  # noqa: E402
from gankit.metrics.mre import MREConfig, reconstruction_errors  # noqa: E402


def reference_stats(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pytorch-fid's statistics: numpy mean and unbiased covariance."""
    return a.mean(0), np.cov(a, rowvar=False)


def reference_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """pytorch-fid's calculate_frechet_distance: scipy.linalg.sqrtm of sigma1 @ sigma2, real part."""
    covmean = scipy.linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def gankit_stats(a: torch.Tensor, b: torch.Tensor) -> FID:
    fid = FID()
    fid.update(a, real=True)
    fid.update(b, real=False)
    return fid


def features(n: int, dim: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(dim, dim, generator=g, dtype=torch.float64) / dim**0.5
    return torch.randn(n, dim, generator=g, dtype=torch.float64) @ mix + 0.1 * seed


def timed(fn, *args) -> tuple[float, float]:
    t = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - t


def mre_throughput(run: str | None, images: int) -> tuple[float, float, str]:
    from gankit.api import load_run
    from gankit.plugins import load_config
    from gankit.data import build_dataset
    from gankit.models import build_model

    if run:
        cfg, model, _ = load_run(run)
        source = f"trained G of {run}"
    else:
        cfg = load_config()
        model = build_model(cfg, build_dataset(cfg.data).info, "cpu")
        source = "freshly initialised default G"
    x = build_dataset(cfg.data).split("test").float_x(slice(0, images))
    cfg_mre = MREConfig()
    errs, seconds = timed(reconstruction_errors, model.G, model.prior, x, cfg_mre)
    return images / seconds, float(errs.mean()), f"{source}; {cfg_mre.describe()}"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--dim", type=int, default=2048)
    p.add_argument("--run", default=None)
    p.add_argument("--mre-images", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    a, b = features(args.n, args.dim, 1), features(args.n, args.dim, 2)
    runs = []
    for _ in range(args.repeats):  # interleaved rounds; the fastest of each part is kept (noisy shared machine)
        fid, t_stats = timed(gankit_stats, a, b)
        ours, t_dist = timed(fid.compute)
        (ref_a, ref_b), t_ref_stats = timed(lambda: (reference_stats(a.numpy()), reference_stats(b.numpy())))
        ref, t_ref_dist = timed(reference_distance, *ref_a, *ref_b)
        runs.append((t_stats, t_dist, t_ref_stats, t_ref_dist))
    t_stats, t_dist, t_ref_stats, t_ref_dist = (min(r[i] for r in runs) for i in range(4))
    t_ours, t_ref = t_stats + t_dist, t_ref_stats + t_ref_dist
    rel = abs(ours - ref) / abs(ref)
    print(f"FID gankit {ours:.6f} in {t_ours:.2f} s (statistics {t_stats:.2f} s + distance {t_dist:.2f} s); "
          f"reference {ref:.6f} in {t_ref:.2f} s ({t_ref_stats:.2f} s + {t_ref_dist:.2f} s); "
          f"speed-up end to end {t_ref / t_ours:.1f}x, distance alone {t_ref_dist / t_dist:.1f}x; "
          f"relative difference {rel:.2e}", flush=True)
    ips, mean_err, how = mre_throughput(args.run, args.mre_images)
    print(f"MRE {ips:.2f} images/s (mean MRE {mean_err:.3f} over {args.mre_images} test images); {how}", flush=True)

    body = (
        f"`OMP_NUM_THREADS={torch.get_num_threads()} python benchmarks/metrics.py"
        f"{' --run ' + args.run if args.run else ''}`\n\n"
        "| measurement | gankit | reference | ratio |\n|---|---|---|---|\n"
        f"| FID end to end, {args.n:,} x {args.dim:,} features per side (s) | {t_ours:.2f} | {t_ref:.2f} "
        f"| {t_ref / t_ours:.1f}x faster |\n"
        f"| of which: statistics, mean + covariance of both sides (s) | {t_stats:.2f} (float64 sums) "
        f"| {t_ref_stats:.2f} (numpy cov) | {t_ref_stats / t_stats:.1f}x |\n"
        f"| of which: Fréchet distance from the statistics (s) | {t_dist:.2f} (Cholesky + eigvalsh) "
        f"| {t_ref_dist:.2f} (scipy sqrtm) | {t_ref_dist / t_dist:.1f}x faster |\n"
        f"| FID value | {ours:.6f} | {ref:.6f} | rel. diff {rel:.1e} |\n"
        f"| MRE throughput (images/s), mnist5k DCGAN | {ips:.2f} | - | - |\n\n"
        f"Target (issue 5): FID at least 5x faster than the scipy-sqrtm reference at equal value: "
        f"{'met' if t_ref / t_ours >= 5 else 'NOT met'} end to end ({t_ref / t_ours:.1f}x). Both sides pay the same "
        "O(N D^2) covariance, and both already use the fastest BLAS route for it (numpy's cov turns X^T X into a "
        "syrk, as gankit does), so no float64 implementation can beat the reference end to end by more than "
        f"t_ref / t_ref_statistics = {t_ref / t_ref_stats:.1f}x here, even with a free distance; the distance "
        "itself is the part the two implementations differ in. Single-threaded on a machine shared with other "
        f"jobs, so absolute times are noisy: both sides run in the same process, interleaved, {args.repeats} "
        "rounds, fastest of each part kept.\n\n"
        f"MRE protocol: {how}.\n"
    )
    print(write_section("metrics", body))


if __name__ == "__main__":
    main()
