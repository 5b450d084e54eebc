"""Information measures of the augmentation study (the seed article's second and third framings).

**Entropy.** H(D) and H(D_G), estimated by the Kozachenko-Leonenko k-NN estimator
(:func:`gankit.metrics.entropy.kl_entropy`) in the bundled digit extractor's 128-d feature space, at the
same sample size N for both sets. The estimator is biased at finite N, badly so in 128 dimensions with
tens to hundreds of samples (it is an underestimate that can be many nats off), and duplicates make it
-inf; only the difference H(D_G) - H(D) at equal N and d is read, never the absolute values.

**Bayesian information gain.** For the Gaussian linear model t = w^T phi(x) + e, w ~ N(0, I / alpha),
e ~ N(0, 1 / beta), the posterior after inputs Phi (N, d) is Gaussian with covariance

    S(Phi) = (alpha I + beta Phi^T Phi)^-1,    H(w | Phi) = 1/2 log det(2 pi e S(Phi))

(Bishop 2006, eq. 3.50-3.54). It does not depend on the targets, so the information gain of adding D_G,

    IG(D_G) = H(w | D) - H(w | D u D_G) = 1/2 [log det(A + beta Phi_G^T Phi_G) - log det(A)],  A = alpha I + beta Phi_D^T Phi_D

is exact and in closed form, per output; with K one-vs-rest outputs sharing the prior it is K times that.
Read it with its assumption: it is the gain a model that takes D_G for real data from the model would
book. It is positive for any new inputs, whatever their labels; when D_G is made from D alone
(situation A), the data-processing inequality gives I(w; D, D_G) = I(w; D): the true gain is zero.

Example::

    information_gain(phi_d, phi_g, alpha=1.0, beta=1.0, outputs=10)   # nats
"""

from __future__ import annotations

import math

import torch

from gankit.metrics.entropy import kl_entropy


def posterior_precision(phi: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """alpha I + beta Phi^T Phi (d, d), float64."""
    phi = torch.as_tensor(phi, dtype=torch.float64)
    return alpha * torch.eye(phi.shape[1], dtype=torch.float64) + beta * phi.T @ phi


def posterior_entropy(phi: torch.Tensor, alpha: float = 1.0, beta: float = 1.0) -> float:
    """H(w | Phi) = 1/2 log det(2 pi e S), S = (alpha I + beta Phi^T Phi)^-1, nats (one output)."""
    precision = posterior_precision(phi, alpha, beta)
    d = precision.shape[0]
    return 0.5 * (d * math.log(2 * math.pi * math.e) - float(torch.linalg.slogdet(precision)[1]))


def information_gain(phi_d: torch.Tensor, phi_g: torch.Tensor, alpha: float = 1.0, beta: float = 1.0,
                     outputs: int = 1) -> float:
    """IG(D_G) = H(w | D) - H(w | D u D_G) of the Gaussian linear model, times ``outputs``; nats."""
    a = posterior_precision(phi_d, alpha, beta)
    phi_g = torch.as_tensor(phi_g, dtype=torch.float64)
    if len(phi_g) == 0:
        return 0.0
    # log det(A + beta G^T G) - log det A = log det(I + beta G A^-1 G^T): the (M, M) form when M < d
    if len(phi_g) < a.shape[0]:
        chol = torch.linalg.cholesky(a)
        half = torch.cholesky_solve(phi_g.T, chol)  # A^-1 G^T (d, M)
        gain = float(torch.linalg.slogdet(torch.eye(len(phi_g), dtype=torch.float64) + beta * phi_g @ half)[1])
    else:
        gain = float(torch.linalg.slogdet(a + beta * phi_g.T @ phi_g)[1] - torch.linalg.slogdet(a)[1])
    return outputs * 0.5 * gain


def entropy_pair(f_d: torch.Tensor, f_g: torch.Tensor, k: int = 3) -> dict[str, float]:
    """k-NN entropy of D and of D_G (the first len(D) rows), nats, and their difference."""
    n = min(len(f_d), len(f_g))
    if n <= k:
        return {"H_D": math.nan, "H_G": math.nan, "H_G_minus_H_D": math.nan, "n": n, "k": k}
    h_d, h_g = kl_entropy(f_d[:n], k=k), kl_entropy(f_g[:n], k=k)
    return {"H_D": h_d, "H_G": h_g, "H_G_minus_H_D": h_g - h_d, "n": n, "k": k}


__all__ = ["entropy_pair", "information_gain", "posterior_entropy", "posterior_precision"]
