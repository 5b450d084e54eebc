"""Kozachenko-Leonenko k-nearest-neighbour entropy estimate (Kozachenko & Leonenko 1987; Kraskov et al. 2004).

    H_hat = psi(N) - psi(k) + log V_d + (d / N) sum_i log eps_i      (nats)

with eps_i the distance from x_i to its k-th nearest other sample, V_d = pi^(d/2) / Gamma(d/2 + 1)
the volume of the unit d-ball and psi the digamma function (Kraskov et al. 2004, Eq. 20, with
eps_i the radius rather than the diameter).

Bias caveat: the estimator is consistent (H_hat -> H as N -> infinity for fixed k) but biased at
finite N, and the bias grows quickly with the dimension d: in tens of dimensions and a few thousand
samples it underestimates badly and can be off by many nats. Compare entropies only between samples
of the same size and dimension (real vs generated features at equal N), never as absolute values;
duplicated samples (eps_i = 0) make it -inf, which is itself a sign of copying.

Example::

    kl_entropy(torch.randn(20000, 2), k=3)   # ~ log(2 pi e) = 2.838 nats
"""

from __future__ import annotations

import math

import torch

from gankit.metrics.knn import DEFAULT_CHUNK, kth_neighbour_distance


def kl_entropy(x: torch.Tensor, k: int = 3, chunk: int = DEFAULT_CHUNK) -> float:
    """Entropy estimate in nats of the distribution that drew the rows of ``x`` (N, d)."""
    x = torch.as_tensor(x).detach().to("cpu", torch.float64).flatten(1)
    n, d = x.shape
    eps = kth_neighbour_distance(x, k, chunk)
    log_unit_ball = d / 2 * math.log(math.pi) - math.lgamma(d / 2 + 1)
    digamma = torch.special.digamma(torch.tensor([float(n), float(k)], dtype=torch.float64))
    return float(digamma[0] - digamma[1] + log_unit_ball + d * eps.log().mean())


def gaussian_entropy(cov: torch.Tensor) -> float:
    """Closed form H(N(mu, cov)) = (1/2) log det(2 pi e cov), nats."""
    cov = torch.as_tensor(cov, dtype=torch.float64)
    return 0.5 * float(torch.logdet(2 * math.pi * math.e * cov))


__all__ = ["gaussian_entropy", "kl_entropy"]
