"""``train.compile``: the networks of the training steps through ``torch.compile``, or a clean fallback.

Compilation can fail where the platform lacks what inductor needs (a C++ compiler on the CPU, a
supported Python, Triton on the GPU). Such a failure surfaces at the first call; the run then says so
in one line per network and goes on with the plain network, instead of ending in a long traceback.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class CompiledOrEager:
    """Calls ``torch.compile(net)``; on the first failure, prints why once and calls ``net`` from then on."""

    def __init__(self, name: str, net: nn.Module) -> None:
        self.name, self.net = name, net
        try:
            self.compiled: Any = torch.compile(net)
        except Exception as e:  # noqa: BLE001  (an unsupported platform raises many kinds)
            self._give_up(e)

    def _give_up(self, error: BaseException) -> None:
        print(f"note: train.compile: {self.name} runs uncompiled ({type(error).__name__}: "
              f"{str(error).strip().splitlines()[0][:160] if str(error).strip() else 'no message'})", flush=True)
        self.compiled = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled is not None:
            try:
                return self.compiled(*args, **kwargs)
            except (torch._dynamo.exc.BackendCompilerFailed, torch._dynamo.exc.Unsupported,  # type: ignore[attr-defined]
                    torch._dynamo.exc.InternalTorchDynamoError, OSError) as e:  # type: ignore[attr-defined]
                self._give_up(e)
        return self.net(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # .training, .modules(), ... of the plain network
        if name in ("net", "compiled", "name") or name.startswith("__"):  # not set yet (copy, pickle)
            raise AttributeError(name)
        return getattr(self.net, name)
