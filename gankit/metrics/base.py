"""The metric base class: update / compute / reset / merge over declared state, as torchmetrics does.

A metric declares its state once (:meth:`Metric.add_state`): a float64 tensor that batches add into
(``reduce="sum"``: two metrics merge by addition, exactly what a distributed all-reduce SUM does) or a
list of stored rows (``reduce="cat"``: metrics that need every sample, such as KID and PRDC, merge by
concatenation). ``reset``, ``merge`` and ``state`` then come for free; a metric writes ``update`` and
``compute``.

Example::

    class Mean(Metric):
        def __init__(self):
            super().__init__()
            self.add_state("total", torch.zeros((), dtype=torch.float64))
            self.add_state("count", torch.zeros((), dtype=torch.float64))

        def update(self, x):
            self.total += x.double().sum()
            self.count += len(x)

        def compute(self):
            return float(self.total / self.count)
"""

from __future__ import annotations

from typing import Any, Literal

import torch


class Metric:
    """Base of gankit's metric objects (see the module docstring)."""

    def __init__(self) -> None:
        self._defaults: dict[str, tuple[Any, str]] = {}

    def add_state(self, name: str, default: torch.Tensor | list | None, reduce: Literal["sum", "cat"] = "sum") -> None:
        """Declare state ``name``: a tensor (``None`` while its shape is unknown) summed on merge, or a list
        concatenated on merge. :meth:`reset` restores ``default``."""
        if reduce not in ("sum", "cat"):
            raise ValueError(f"reduce must be 'sum' or 'cat', got {reduce!r}")
        if reduce == "sum" and default is not None and default.dtype != torch.float64:
            raise ValueError(f"sum state {name!r} must be float64 (exact, order-independent enough to merge)")
        self._defaults[name] = (default, reduce)
        self.reset_state(name)

    def reset_state(self, name: str) -> None:
        """Restore state ``name`` to its declared default (a fresh copy)."""
        default, _ = self._defaults[name]
        setattr(self, name, list(default) if isinstance(default, list) else
                None if default is None else default.clone())

    def reset(self) -> None:
        """Forget everything accumulated since construction."""
        for name in self._defaults:
            self.reset_state(name)

    def merge(self, other: Metric) -> Metric:
        """Add ``other``'s state into this one (sum states add, row states concatenate); returns self."""
        for name, (_, reduce) in self._defaults.items():
            mine, theirs = getattr(self, name), getattr(other, name)
            if reduce == "cat":
                setattr(self, name, mine + theirs)
            elif theirs is not None:
                setattr(self, name, theirs.clone() if mine is None else mine + theirs)
        return self

    def reductions(self) -> dict[str, str]:
        """How each declared state merges: "sum" or "cat", by name."""
        return {name: reduce for name, (_, reduce) in self._defaults.items()}

    def state(self) -> dict[str, Any]:
        """The declared state by name (what a distributed reduction combines)."""
        return {name: getattr(self, name) for name in self._defaults}

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def compute(self) -> Any:
        raise NotImplementedError


class StoredFeatures(Metric):
    """A metric that needs every real and generated feature row (KID, PRDC): two "cat" states,
    ``real_features`` and ``fake_features`` (lists of (n, D) float32 CPU tensors), and ``reset(keep_real)``."""

    def __init__(self) -> None:
        super().__init__()
        self.add_state("real_features", [], reduce="cat")
        self.add_state("fake_features", [], reduce="cat")

    def reset(self, keep_real: bool = False) -> None:
        """Forget the stored rows (all, or only the generated ones with ``keep_real=True``)."""
        if not keep_real:
            self.reset_state("real_features")
        self.reset_state("fake_features")

    def store(self, features: torch.Tensor, real: bool) -> None:
        (self.real_features if real else self.fake_features).append(features)


__all__ = ["Metric", "StoredFeatures"]
