"""Independent reference implementations the tests compare gankit against (never gankit's own code)."""

from __future__ import annotations

import warnings

import numpy as np
import torch


def sqrtm_fid(a: torch.Tensor, b: torch.Tensor) -> float:
    """FID of two feature sets by pytorch-fid's formula: numpy mean/cov, scipy.linalg.sqrtm, real part."""
    import scipy.linalg

    a, b = a.double().numpy(), b.double().numpy()
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dead ReLU features make the covariances singular
        covmean = np.real(scipy.linalg.sqrtm(s1 @ s2))
    diff = a.mean(0) - b.mean(0)
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
