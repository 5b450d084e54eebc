import pytest
import torch
import yaml

from gankit.cli import main
from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.data.base import LABELS_SEED, keep_labels
from gankit.errors import ConfigError


@pytest.fixture(scope="module")
def digits():
    return build_dataset(DataConfig(name="digits"))


def kept(ds) -> torch.Tensor:
    return ds.train.y[ds.train.y >= 0]


def test_keeps_exactly_n_labels_stratified(digits):
    ds = keep_labels(digits, 100)
    assert len(kept(ds)) == 100 and set(ds.train.y.tolist()) <= set(range(10)) | {-1}
    assert torch.equal(torch.bincount(kept(ds)), torch.full((10,), 10))  # N/10 per class
    keep = ds.train.y >= 0
    assert torch.equal(ds.train.y[keep], digits.train.y[keep])  # kept labels are the true ones
    assert ds.train.x is digits.train.x and ds.split("test") is digits.split("test")
    assert torch.equal(digits.train.y, build_dataset(DataConfig(name="digits")).train.y)  # input not modified
    odd = torch.bincount(kept(keep_labels(digits, 15)))
    assert int(odd.sum()) == 15 and sorted(odd.tolist()) == [1] * 5 + [2] * 5


def test_seeded(digits):
    a, b = keep_labels(digits, 30), keep_labels(digits, 30)
    assert torch.equal(a.train.y, b.train.y)
    assert not torch.equal(a.train.y, keep_labels(digits, 30, seed=LABELS_SEED + 1).train.y)


def test_build_dataset_applies_data_labels():
    ds = build_dataset(DataConfig(name="digits", labels=50))
    assert len(kept(ds)) == 50 and int((ds.train.y == -1).sum()) == len(ds.train) - 50
    assert bool((ds.split("val").y >= 0).all())


def test_bad_label_counts_name_the_key(digits):
    with pytest.raises(ConfigError, match="data.labels: 5000 is more than the 1437 training samples"):
        keep_labels(digits, 5000)
    with pytest.raises(ConfigError, match="data.labels: dataset 'ring8' has no labels"):
        build_dataset(DataConfig(name="ring8", n_train=100, labels=10))


def test_cli_labels_shortcut_sets_data_labels(capsys):
    assert main(["train", "--dry-run", "--labels", "100", "--set", "data.name=digits"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["data"]["labels"] == 100
