"""Shared fixtures: tiny configs that train in about a second on a CPU."""

from __future__ import annotations

import pytest

from gankit.config import Config
from gankit.plugins import load_config

TINY_IMAGE = ["data.name=digits", "net.width=8", "net.z_dim=16", "train.steps=12", "train.batch_size=16",
              "train.checkpoint_every=0", "train.sample_every=0", "train.log_every=4", "train.tensorboard=false",
              "eval.at_end=false", "train.report=false"]
TINY_VECTOR = ["data.name=ring8", "data.n_train=512", "net.name=mlp", "net.width=16", "net.depth=2",
               "net.z_dim=2", "train.steps=20", "train.batch_size=32", "train.checkpoint_every=0",
               "train.sample_every=0", "train.log_every=5", "train.tensorboard=false", "eval.at_end=false",
               "train.report=false"]


@pytest.fixture
def tiny_image_config() -> Config:
    return load_config(overrides=TINY_IMAGE)


@pytest.fixture
def tiny_vector_config() -> Config:
    return load_config(overrides=TINY_VECTOR)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A trained tiny run folder (digits, 6 steps, checkpoints at 3 and 6), shared by the error tests.
    Tests that may change it copy it first (:func:`tests.conftest.copy_run`)."""
    from gankit.engine.trainer import train

    run = tmp_path_factory.mktemp("tiny") / "run"
    train(load_config(overrides=TINY_IMAGE + ["train.steps=6", "train.checkpoint_every=3"]), run_dir=run, progress=False)
    return run


def copy_run(run, dest):
    import shutil

    shutil.copytree(run, dest)
    return dest


def snapshot(folder) -> dict:
    """Every file under ``folder`` by relative path -> its bytes (to assert that a failing command changed nothing)."""
    from pathlib import Path

    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}
