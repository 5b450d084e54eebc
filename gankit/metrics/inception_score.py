"""Inception Score (Salimans et al. 2016) with any classifier head, here the bundled digit classifier.

IS = exp( E_x KL(p(y|x) || p(y)) ), p(y) the marginal of p(y|x) over the samples. Its maximum is
the number of classes (every sample classified with certainty, classes used equally) and its
minimum 1. Since KL(p(y|x) || p(y)) = sum_y p log p - sum_y p log p(y), the mean over x is

    E_x sum_y p(y|x) log p(y|x)  -  sum_y p(y) log p(y),   p(y) = E_x p(y|x),

so the state is three float64 sums per split (count, sum of p(y|x), sum of sum_y p log p): memory
does not grow with N and a distributed reduction is a sum. Samples are dealt to ``splits`` splits in
turn (sample i to split i mod splits); the score is the mean and std over splits, as in the
original code (which used 10 splits of consecutive samples).

With the digit classifier the score is "digit IS", comparable only with the same extractor hash;
it is not the ImageNet-Inception IS of papers.

Example::

    is_metric = InceptionScore(num_classes=10, splits=10)
    is_metric.update(extractor.logits(fake))
    mean, std = is_metric.compute()
"""

from __future__ import annotations

import torch

from gankit.metrics.base import Metric
from gankit.metrics.finite import require_finite


class InceptionScore(Metric):
    """Inception Score from classifier logits; torchmetrics-style update / compute / reset / merge."""

    def __init__(self, num_classes: int, splits: int = 10) -> None:
        if splits < 1:
            raise ValueError(f"splits must be >= 1, got {splits}")
        super().__init__()
        self.num_classes, self.splits = num_classes, splits
        self.add_state("count", torch.zeros(splits, dtype=torch.float64))
        self.add_state("sum_p", torch.zeros(splits, num_classes, dtype=torch.float64))
        self.add_state("sum_plogp", torch.zeros(splits, dtype=torch.float64))
        self._next = 0  # which split the next sample goes to

    def reset(self) -> None:
        super().reset()
        self._next = 0

    def update(self, logits: torch.Tensor) -> None:
        """Add class logits (N, num_classes) of N samples."""
        logits = torch.as_tensor(logits).detach().to("cpu", torch.float64)
        if logits.ndim != 2 or logits.shape[1] != self.num_classes:
            raise ValueError(f"logits must be (N, {self.num_classes}), got {tuple(logits.shape)}")
        require_finite(logits, "IS", "logits")  # log_softmax of a nan row is nan: the score would be nan
        logp = torch.log_softmax(logits, dim=1)
        p = logp.exp()
        plogp = (p * logp).sum(1)  # log_softmax is finite, so an underflowed p gives 0 * finite = 0
        which = (torch.arange(len(p)) + self._next) % self.splits
        self.count.index_add_(0, which, torch.ones(len(p), dtype=torch.float64))
        self.sum_p.index_add_(0, which, p)
        self.sum_plogp.index_add_(0, which, plogp)
        self._next = int((self._next + len(p)) % self.splits)

    def compute(self) -> tuple[float, float]:
        """(mean, population std) of exp(E KL) over the splits."""
        if (self.count < 1).any():
            raise ValueError(f"Inception Score needs at least one sample per split ({self.splits} splits)")
        marginal = self.sum_p / self.count[:, None]
        marginal_plogp = torch.where(marginal > 0, marginal * marginal.log(), torch.zeros_like(marginal)).sum(1)
        scores = torch.exp(self.sum_plogp / self.count - marginal_plogp)
        return float(scores.mean()), float(scores.std(unbiased=False)) if self.splits > 1 else 0.0


__all__ = ["InceptionScore"]
