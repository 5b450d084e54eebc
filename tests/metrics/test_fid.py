"""FID and KID: closed forms, an independent reference (scipy sqrtm, torchmetrics), sum-reducible state."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.linalg
import torch

from gankit.metrics.fid import FID, KID, _gram, _trace_sqrt_product, frechet_distance, mmd2_unbiased


def correlated(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    """n samples of a d-dim Gaussian with a random full covariance (float64)."""
    g = torch.Generator().manual_seed(seed)
    mixing = torch.randn(d, d, generator=g, dtype=torch.float64) / math.sqrt(d)
    return torch.randn(n, d, generator=g, dtype=torch.float64) @ mixing + shift


def random_cov(d: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.standard_normal((d, d + 3))
    return a @ a.T / d


def pytorch_fid_reference(mu1, sigma1, mu2, sigma2) -> float:
    """The formula of pytorch-fid's calculate_frechet_distance (scipy.linalg.sqrtm, real part)."""
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    covmean = np.real(covmean)
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


# ---------------------------------------------------------------------------------------- FID


def test_fid_of_a_sample_with_itself_is_zero():
    x = correlated(400, 16, seed=0, shift=3.0)
    fid = FID()
    fid.update(x, real=True)
    fid.update(x, real=False)
    scale = torch.trace(torch.cov(x.T)).item()
    assert abs(fid.compute()) <= 1e-14 * scale  # measured 4.4e-16 x scale


def test_gram_by_syrk_equals_the_matmul():
    f = correlated(300, 40, seed=2, shift=1.0)
    g = _gram(f)
    assert torch.equal(g, g.T)
    assert torch.allclose(g, f.T @ f, rtol=1e-12, atol=1e-9)
    assert torch.allclose(_gram(f[:, ::2]), f[:, ::2].T @ f[:, ::2], rtol=1e-12, atol=1e-9)  # a strided view


def test_trace_sqrt_product_agrees_on_the_cholesky_and_the_singular_path():
    rng = np.random.default_rng(0)
    s2 = torch.from_numpy(random_cov(12, rng))
    a = torch.from_numpy(rng.standard_normal((12, 5)))
    singular = a @ a.T  # rank 5: no Cholesky factor, so the eigh fallback runs
    # Measured relative differences from scipy's sqrtm: 1.5e-16 on the Cholesky path, 2.3e-9 on the singular
    # one (sqrtm of a singular product is the less accurate side); the tolerances are about 10x those.
    for s1, rel in ((torch.from_numpy(random_cov(12, rng)), 1e-14), (singular, 2e-8)):
        expected = np.trace(np.real(scipy.linalg.sqrtm(s1.numpy() @ s2.numpy())))
        assert float(_trace_sqrt_product(s1, s2)) == pytest.approx(expected, rel=rel)
    assert int(torch.linalg.cholesky_ex(singular).info) != 0


def test_fid_of_a_rank_deficient_sample_with_itself_is_zero():
    # 50 samples in 128 dims: singular covariance; clamped eigenvalues keep the result real and ~0.
    x = correlated(50, 128, seed=1)
    fid = FID()
    fid.update(x, real=True)
    fid.update(x, real=False)
    scale = torch.trace(torch.cov(x.T)).item()
    # measured 3.3e-8 x scale: square roots of rounding-level eigenvalues (~sqrt(1e-16)) of the singular product
    assert abs(fid.compute()) <= 3e-7 * scale


@pytest.mark.parametrize("d,seed", [(2, 0), (10, 1), (64, 2)])
def test_frechet_distance_matches_pytorch_fid_sqrtm_formula(d, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = random_cov(d, rng), random_cov(d, rng)
    ours = frechet_distance(mu1, s1, mu2, s2)
    reference = pytorch_fid_reference(mu1, s1, mu2, s2)
    assert ours == pytest.approx(reference, rel=3e-14)  # measured 0, 5.7e-16, 2.3e-15 (d = 2, 10, 64)


def test_frechet_distance_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(3)
    d = 32
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    a, b = rng.uniform(0.1, 4.0, d), rng.uniform(0.1, 4.0, d)
    expected = float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum())
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-14)  # measured 2e-16


def test_frechet_distance_small_exact_case_and_symmetry():
    # N(0, I) vs N(1, 4I) in 2D: ||mu||^2 = 2, sum (1 - 2)^2 = 2.
    fd = frechet_distance(torch.zeros(2), torch.eye(2), torch.ones(2), 4 * torch.eye(2))
    assert fd == pytest.approx(4.0, abs=1e-12)
    rng = np.random.default_rng(4)
    mu1, mu2, s1, s2 = rng.standard_normal(8), rng.standard_normal(8), random_cov(8, rng), random_cov(8, rng)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-14)  # 4.4e-16


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes"):
        frechet_distance(torch.zeros(3), torch.eye(3), torch.zeros(2), torch.eye(2))


def test_fid_statistics_match_numpy_mean_and_unbiased_cov():
    x = correlated(300, 8, seed=5, shift=2.0)
    fid = FID()
    fid.update(x, real=True)
    mu, cov = fid.statistics(real=True)
    assert mu.dtype == torch.float64
    np.testing.assert_allclose(mu.numpy(), x.numpy().mean(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cov.numpy(), np.cov(x.numpy(), rowvar=False), rtol=1e-10, atol=1e-12)


def test_fid_matches_reference_on_features():
    x, y = correlated(500, 12, seed=6), correlated(400, 12, seed=7, shift=0.5)
    fid = FID()
    fid.update(x, real=True)
    fid.update(y, real=False)
    xn, yn = x.numpy(), y.numpy()
    reference = pytorch_fid_reference(
        xn.mean(0), np.cov(xn, rowvar=False), yn.mean(0), np.cov(yn, rowvar=False)
    )
    assert fid.compute() == pytest.approx(reference, rel=1e-12)  # measured 7.0e-14


def test_fid_update_in_two_halves_equals_one_update():
    x, y = correlated(300, 10, seed=8), correlated(300, 10, seed=9, shift=1.0)
    whole, halves = FID(), FID()
    whole.update(x, real=True)
    whole.update(y, real=False)
    halves.update(x[:100], real=True)
    halves.update(y[:170], real=False)
    halves.update(x[100:], real=True)
    halves.update(y[170:], real=False)
    for key, value in whole.state().items():
        assert value.dtype == torch.float64
        torch.testing.assert_close(halves.state()[key], value, rtol=1e-12, atol=1e-9)
    assert halves.compute() == pytest.approx(whole.compute(), rel=2e-14)  # measured 2.0e-15


def test_fid_states_add_like_a_distributed_sum_reduction():
    x, y = correlated(400, 6, seed=10), correlated(400, 6, seed=11, shift=0.3)
    whole = FID()
    whole.update(x, real=True)
    whole.update(y, real=False)
    # Two "processes", each with part of the data (one holds no fake samples at all).
    rank0, rank1 = FID(), FID()
    rank0.update(x[:150], real=True)
    rank1.update(x[150:], real=True)
    rank1.update(y, real=False)
    summed = {k: rank0.state().get(k, 0) + rank1.state()[k] for k in rank1.state()}
    for key, value in whole.state().items():
        torch.testing.assert_close(summed[key], value, rtol=1e-12, atol=1e-9)
    assert rank0.merge(rank1).compute() == pytest.approx(whole.compute(), rel=1e-10)


def test_fid_reset_keep_real_keeps_real_statistics():
    x, y = correlated(200, 4, seed=12), correlated(200, 4, seed=13, shift=1.0)
    fid = FID()
    fid.update(x, real=True)
    fid.update(x, real=False)
    fid.reset(keep_real=True)
    fid.update(y, real=False)
    fresh = FID()
    fresh.update(x, real=True)
    fresh.update(y, real=False)
    assert fid.compute() == pytest.approx(fresh.compute(), rel=1e-12)
    fid.reset()
    assert float(fid.n_real) == 0 and float(fid.n_fake) == 0


def test_fid_rejects_too_few_samples_and_wrong_dims():
    fid = FID()
    fid.update(torch.zeros(1, 3), real=True)
    with pytest.raises(ValueError, match="at least 2"):
        fid.compute()
    with pytest.raises(ValueError, match="dims"):
        fid.update(torch.zeros(5, 4), real=False)


# ---------------------------------------------------------------------------------------- KID


def naive_mmd2(x: torch.Tensor, y: torch.Tensor) -> float:
    """An O(n^2) loop over pairs, written from the definition (Binkowski et al. 2018, eq. 3)."""
    d = x.shape[1]

    def k(a, b):
        return (float(a @ b) / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_mmd2_matches_naive_loop_with_unequal_sizes():
    x, y = correlated(25, 5, seed=20), correlated(18, 5, seed=21, shift=0.4)
    assert mmd2_unbiased(x, y) == pytest.approx(naive_mmd2(x, y), rel=1e-10)


def test_kid_matches_torchmetrics_with_one_subset_of_all_data():
    from torchmetrics.image.kid import KernelInceptionDistance

    x = correlated(120, 16, seed=22).float()
    y = correlated(120, 16, seed=23, shift=0.2).float()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # its "stores all features" notice
        reference = KernelInceptionDistance(feature=torch.nn.Identity(), subsets=1, subset_size=120)
    # The same float32 values, given as float64 so that both compute in float64.
    reference.update(x.double(), real=True)
    reference.update(y.double(), real=False)
    ref_mean, ref_std = reference.compute()
    kid = KID()
    kid.update(x, real=True)
    kid.update(y, real=False)
    mean, std = kid.compute()
    assert kid.resolved_subsets() == (1, 120)
    assert mean == pytest.approx(float(ref_mean), rel=1e-9)
    assert std == 0.0 == float(ref_std)


def _kid_draws(shift: float, draws: int = 300, n: int = 40, d: int = 4) -> np.ndarray:
    g = torch.Generator().manual_seed(30)
    scores = []
    for _ in range(draws):
        x = torch.randn(n, d, generator=g, dtype=torch.float64)
        y = torch.randn(n, d, generator=g, dtype=torch.float64) + shift
        kid = KID()
        kid.update(x, real=True)
        kid.update(y, real=False)
        scores.append(kid.compute()[0])
    return np.array(scores)


def test_kid_is_unbiased_for_equal_distributions_and_positive_for_shifted():
    same = _kid_draws(shift=0.0)
    se = same.std(ddof=1) / math.sqrt(len(same))
    assert abs(same.mean()) < 3 * se
    assert (same < 0).any()  # an unbiased estimate of 0 must go negative sometimes
    shifted = _kid_draws(shift=0.5)
    assert shifted.mean() > 3 * shifted.std(ddof=1) / math.sqrt(len(shifted))
    assert shifted.mean() > same.mean() + 10 * se


def test_biased_mmd_would_fail_the_unbiasedness_check():
    # Power check of the test above: the V-statistic (diagonal kept) is off by O(1/n) and caught.
    g = torch.Generator().manual_seed(31)
    scores = []
    for _ in range(300):
        x = torch.randn(40, 4, generator=g, dtype=torch.float64)
        y = torch.randn(40, 4, generator=g, dtype=torch.float64)
        k = lambda a, b: (a @ b.T / 4 + 1) ** 3  # noqa: E731
        scores.append(float(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()))
    scores_np = np.array(scores)
    assert scores_np.mean() > 3 * scores_np.std(ddof=1) / math.sqrt(len(scores_np))


def test_kid_subsets_are_seeded_and_sized():
    x, y = correlated(300, 8, seed=32), correlated(200, 8, seed=33, shift=0.3)

    def run(seed: int, **kwargs) -> tuple[float, float]:
        kid = KID(seed=seed, **kwargs)
        kid.update(x, real=True)
        kid.update(y, real=False)
        return kid.compute()

    assert run(0, subsets=5) == run(0, subsets=5)  # default size min(1000, 300, 200) = 200
    assert run(0, subsets=5) != run(1, subsets=5)
    mean, std = run(0, subsets=5, subset_size=50)
    assert std > 0
    with pytest.raises(ValueError, match="subset_size"):
        run(0, subset_size=250)


def test_kid_merge_concatenates_features():
    x, y = correlated(100, 4, seed=34), correlated(100, 4, seed=35, shift=0.3)
    whole, a, b = KID(), KID(), KID()
    whole.update(x, real=True)
    whole.update(y, real=False)
    a.update(x[:40], real=True)
    a.update(y[:70], real=False)
    b.update(x[40:], real=True)
    b.update(y[70:], real=False)
    assert a.merge(b).compute() == pytest.approx(whole.compute(), rel=1e-12)
