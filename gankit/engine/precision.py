"""Mixed precision for the trainer: ``train.precision = fp32 | bf16 | fp16``.

- ``fp32``: no autocast; what every figure in docs/benchmarks.md was measured with.
- ``bf16``: the steps run under ``torch.autocast(dtype=bfloat16)`` (CPU and GPU); bf16 has fp32's
  exponent range, so no loss scaling is needed.
- ``fp16``: autocast to float16 with one gradient scaler per optimiser (D's and G's losses differ
  by orders of magnitude, and one player's overflow should not skip the other's step). The
  scalers' state (scale, growth tracker) is in every checkpoint, so a resumed fp16 run continues with
  the scale it had.

Gradient penalties (GP, R1, R2) take gradients of D with respect to its input inside the loss; they
run with autocast switched off (:func:`gankit.regularizers.grad_norm.grad_norms`), so the inner
gradient is an unscaled fp32 value, and the outer backward of the scaled total loss scales and
unscales it like every other term.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
SIDES = ("d", "g")


class Precision:
    """Autocast and loss scaling for the two optimisers, by ``train.precision``.

    Example::

        amp = Precision("bf16", torch.device("cpu"))
        with amp.autocast():
            d = model.d_step(batch)
        amp.backward(d.loss, "d")
        amp.step(opt_d, "d")
    """

    def __init__(self, kind: str, device: torch.device) -> None:
        self.kind, self.device_type = kind, device.type
        self.dtype = DTYPES[kind]
        self.scalers: dict[str, Any] = {}
        if kind == "fp16":
            self.scalers = {side: torch.amp.GradScaler(self.device_type) for side in SIDES}

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor, side: str) -> None:
        scaler = self.scalers.get(side)
        (scaler.scale(loss) if scaler is not None else loss).backward()

    def step(self, opt: torch.optim.Optimizer, side: str) -> None:
        scaler = self.scalers.get(side)
        if scaler is None:
            opt.step()
            return
        scaler.step(opt)  # unscales; skips the step when a gradient is inf/nan (and lowers the scale)
        scaler.update()

    def state_dict(self) -> dict[str, Any]:
        """JSON-able scaler states (empty unless fp16)."""
        return {side: dict(scaler.state_dict()) for side, scaler in self.scalers.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for side, scaler in self.scalers.items():
            if side in state:
                scaler.load_state_dict(state[side])
