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
