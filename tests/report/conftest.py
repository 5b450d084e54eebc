"""Two small real run folders shared by the report tests (made once per session): a few steps of DCGAN on
the 8x8 digits with gankit eval run on it, and a few steps of an MLP GAN on ring8 (2D: the game frames)."""

from __future__ import annotations

import pytest

from gankit.engine.trainer import train
from gankit.evaluation import evaluate
from gankit.plugins import load_config

IMAGE_RUN = ["data.name=digits", "net.width=8", "net.z_dim=16", "train.steps=6", "train.batch_size=16",
             "train.checkpoint_every=2", "train.sample_every=2", "train.log_every=2", "train.tensorboard=false"]
TOY_RUN = ["data.name=ring8", "data.n_train=512", "net.name=mlp", "net.width=16", "net.depth=2", "net.z_dim=2",
           "train.steps=6", "train.batch_size=32", "train.checkpoint_every=3", "train.sample_every=2",
           "train.log_every=2", "train.tensorboard=false", "train.ema=false", "eval.n=200"]


@pytest.fixture(scope="session")
def image_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("report-runs") / "image"
    train(load_config(overrides=IMAGE_RUN), run_dir=path, progress=False)
    evaluate(path, metrics="fid,kid,memorization,entropy", n=60, log=None)
    return path


@pytest.fixture(scope="session")
def toy_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("report-runs") / "toy"
    train(load_config(overrides=TOY_RUN), run_dir=path, progress=False)
    return path
