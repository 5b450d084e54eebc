"""Tests of gankit/version.py: one version, the same through every door, and its fallbacks."""

from __future__ import annotations

import importlib.metadata

import pytest

import gankit
import gankit.version
from gankit.version import __version__, gankit_version


def test_version_is_the_packages_and_the_fingerprints() -> None:
    assert __version__ == "0.1.0"
    assert gankit.__version__ is __version__
    assert gankit_version() == "0.1.0"


def test_version_falls_back_to_the_distribution_then_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gankit.version, "__version__", "")
    monkeypatch.setattr(importlib.metadata, "version", lambda name: f"9.9.9-{name}")
    assert gankit_version() == "9.9.9-gankit"

    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert gankit_version() == "unknown"
