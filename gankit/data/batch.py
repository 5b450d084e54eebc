"""A minibatch as a named mapping: what a dataset hands a model, whatever the family.

Every family reads the fields it needs by name, so a new kind of data (paired images, two domains,
an image plus local coordinates) is a new field, never a new positional argument of every step:

- ``x``: the samples (N, *shape), float32 (images in [-1, 1]); every dataset has it;
- ``y``: class labels (N,) int64, -1 for an unlabelled sample; present only for labelled data;
- further fields a dataset declares in :attr:`gankit.data.base.DataInfo.fields` (e.g. ``x_a``, the
  input image of image-to-image data whose ``x`` is the target, or ``domain``).

Example::

    batch = Batch(x=torch.randn(8, 2))
    batch.x.shape, batch.y, len(batch)      # (8, 2), None, 8
    batch = batch.to("cuda")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch


class Batch(Mapping[str, torch.Tensor]):
    """Named tensors that share their first dimension (the batch size, ``len(batch)``).

    A mapping of field name to tensor; ``batch.x`` and ``batch.y`` read the two common fields
    (``y`` is None when the data has no labels). Fields given as None are left out.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, torch.Tensor | None] | None = None, **more: torch.Tensor | None) -> None:
        items = {**(fields or {}), **more}
        self._fields: dict[str, torch.Tensor] = {k: v for k, v in items.items() if v is not None}
        if "x" not in self._fields:
            raise ValueError(f"a batch needs an 'x' field; got {sorted(self._fields)}")
        n = len(self._fields["x"])
        for name, value in self._fields.items():
            if len(value) != n:
                raise ValueError(f"batch field {name!r} has {len(value)} rows, 'x' has {n}")

    # -- the mapping ---------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> torch.Tensor:
        try:
            return self._fields[name]
        except KeyError:
            raise KeyError(f"this batch has no field {name!r}; it has: {', '.join(self._fields)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        """The batch size (rows), not the number of fields: ``len(batch) == len(batch.x)``."""
        return len(self._fields["x"])

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def keys(self):  # Mapping.keys goes through __iter__; spelled out since __len__ counts rows
        return self._fields.keys()

    def items(self):
        return self._fields.items()

    def values(self):
        return self._fields.values()

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={tuple(v.shape)}" for k, v in self._fields.items())
        return f"Batch({shapes})"

    # -- the common fields ---------------------------------------------------------------------------
    @property
    def x(self) -> torch.Tensor:
        return self._fields["x"]

    @property
    def y(self) -> torch.Tensor | None:
        return self._fields.get("y")

    @property
    def device(self) -> torch.device:
        return self._fields["x"].device

    # -- new batches ---------------------------------------------------------------------------------
    def to(self, device: torch.device | str, non_blocking: bool = False) -> "Batch":
        return Batch({k: v.to(device, non_blocking=non_blocking) for k, v in self._fields.items()})

    def select(self, index: torch.Tensor | slice) -> "Batch":
        """The rows ``index`` of every field."""
        return Batch({k: v[index] for k, v in self._fields.items()})

    def replace(self, **fields: torch.Tensor | None) -> "Batch":
        """A copy with some fields replaced (None removes a field)."""
        return Batch({**self._fields, **fields})
