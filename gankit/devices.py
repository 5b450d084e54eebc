"""One rule for a device name a user gives (``--device``, ``train.device``): checked where it enters.

``cpu``, ``cuda``, ``cuda:N`` (or ``auto``: CUDA when available, else the CPU). A misspelt name, CUDA
without a CUDA device, or a GPU index the machine does not have is one :class:`ConfigError` line that
names the option and what is allowed, never torch's assertion traceback.
"""

from __future__ import annotations

import re

import torch

from gankit.errors import ConfigError
from gankit.limits import excerpt

_DEVICE_RE = re.compile(r"^(cpu|cuda|auto)(?::(\d{1,4}))?$")


def resolve_device(name: str | torch.device, key: str = "--device") -> torch.device:
    """``name`` as a :class:`torch.device` that exists on this machine, or a ConfigError naming ``key``.

    Example::

        resolve_device("cpu")          # device(type='cpu')
        resolve_device("cuda:7")       # ConfigError: --device: cuda:7 requested but ... (on a 1-GPU machine)
    """
    if isinstance(name, torch.device):
        name = str(name)
    m = _DEVICE_RE.match(name.strip().lower()) if isinstance(name, str) else None
    if m is None or (m.group(1) != "cuda" and m.group(2) is not None):
        raise ConfigError(f"{key}: unknown device {excerpt(name)}; choose cpu, cuda, cuda:N or auto")
    kind, index = m.group(1), m.group(2)
    if kind == "auto":
        kind = "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(f"{key}: {name} requested but no CUDA device is available; use {key.lstrip('-')}=cpu"
                          if not key.startswith("--") else
                          f"{key}: {name} requested but no CUDA device is available; use {key} cpu")
    if index is not None and int(index) >= torch.cuda.device_count():
        raise ConfigError(f"{key}: {name} requested but this machine has {torch.cuda.device_count()} CUDA "
                          f"device(s): cuda:0..cuda:{torch.cuda.device_count() - 1}")
    return torch.device("cuda", int(index)) if index is not None else torch.device("cuda")


__all__ = ["resolve_device"]
