"""Tests of gankit/data/registry.py: every file here is written by the test itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from gankit.config import DataConfig
from gankit.errors import ConfigError
from tests.data.file_writers import N_CIFAR_TEST, write_cifar, write_class_folder, write_mnist


def _all_files(tmp_path: Path) -> dict[str, Path]:
    return {
        "mnist-idx": write_mnist(tmp_path / "mnist"),
        "cifar10": write_cifar(tmp_path / "cifar"),
        "folder": write_class_folder(tmp_path / "pets"),
    }


def test_registry_builds_each_file_dataset(tmp_path: Path) -> None:
    import gankit.data.registry  # noqa: F401  (registers the datasets)
    from gankit.registry import DATASETS

    shapes = {"mnist-idx": (1, 32, 32), "cifar10": (3, 32, 32), "folder": (3, 32, 32)}
    for name, root in _all_files(tmp_path).items():
        ds = DATASETS.get(name)(DataConfig(name=name, root=root, image_size=32))
        assert ds.info.shape == shapes[name]
        with pytest.raises(ConfigError, match=rf"data.root: dataset '{name}' reads files; set data.root=PATH"):
            DATASETS.get(name)(DataConfig(name=name))


def test_build_dataset_from_config(tmp_path: Path) -> None:
    from gankit.plugins import load_config
    from gankit.data import build_dataset

    root = write_cifar(tmp_path / "cifar-10-batches-py")
    ds = build_dataset(load_config(overrides=["data.name=cifar10", f"data.root={tmp_path}"]).data)
    assert ds.info.shape == (3, 32, 32) and len(ds.split("test")) == N_CIFAR_TEST
    ds = build_dataset(load_config(overrides=["data.name=cifar10", f"data.root={root}", "data.image_size=16"]).data)
    assert ds.info.shape == (3, 16, 16)
