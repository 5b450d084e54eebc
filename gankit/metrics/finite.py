"""The one check every metric function runs on its input: no nan, no inf.

A nan row makes a sum nan, a distance nan, an argmax arbitrary: the metric would return nan, or score
the row as if it were a sample, without saying so. Each metric refuses such input instead, with one
line that names the metric and how many rows are non-finite.

Example::

    require_finite(fake_feats, "KID", "generated features")   # NonFiniteError: KID: 3 of 500 rows ...
"""

from __future__ import annotations

import torch

from gankit.errors import NonFiniteError


def non_finite_rows(x: torch.Tensor) -> int:
    """How many rows (first dimension) of ``x`` hold at least one nan or inf."""
    x = torch.as_tensor(x)
    if x.numel() == 0 or not x.is_floating_point():
        return 0
    return int((~torch.isfinite(x.reshape(len(x), -1))).any(dim=1).sum()) if x.ndim else int(not torch.isfinite(x))


def require_finite(x: torch.Tensor, metric: str, what: str = "samples") -> torch.Tensor:
    """``x`` itself, or a :class:`NonFiniteError` naming ``metric`` and the count of non-finite rows."""
    bad = non_finite_rows(x)
    if bad:
        total = len(x) if torch.as_tensor(x).ndim else 1
        raise NonFiniteError(f"{metric}: {bad} of {total} rows of the {what} hold nan or inf "
                             "(a diverged generator?); the metric is undefined on them")
    return x


__all__ = ["non_finite_rows", "require_finite"]
