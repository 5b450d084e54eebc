import pytest
import torch

from gankit.plugins import load_config
from gankit.data import build_dataset
from gankit.data.digits import load_mnist5k
from gankit.data.stacked import N_MODES, STACKED_SEED, make_stacked, triple_labels


@pytest.fixture(scope="module")
def mnist5k():
    return load_mnist5k()


@pytest.fixture(scope="module")
def stacked(mnist5k):
    return make_stacked(mnist5k, n_train=300, n_eval=100)


def _lookup(split):
    """Map each digit image's bytes to its label, to find which digit fills a channel."""
    return {img.numpy().tobytes(): int(y) for img, y in zip(split.float_x(), split.y)}


def test_info_and_sizes(stacked):
    assert stacked.info.shape == (3, 28, 28) and stacked.info.num_classes == N_MODES == 1000
    assert stacked.info.kind == "image" and stacked.info.channels == 3
    assert [len(stacked.split(s)) for s in ("train", "val", "test")] == [300, 100, 100]


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_channels_are_real_digits_of_the_same_split_and_labels_match(stacked, mnist5k, split):
    digits = _lookup(mnist5k.split(split))
    others = {k for s in ("train", "val", "test") if s != split for k in _lookup(mnist5k.split(s))}
    data = stacked.split(split)
    for x, y in zip(data.float_x(), data.y):
        channel_labels = []
        for c in range(3):
            key = x[c : c + 1].numpy().tobytes()
            assert key in digits and key not in others  # a real digit of this split only
            channel_labels.append(digits[key])
        d1, d2, d3 = channel_labels
        assert int(y) == 100 * d1 + 10 * d2 + d3


def test_indices_rebuild_the_samples(stacked):
    idx = stacked.indices["train"]
    digits = stacked.digits["train"]
    assert torch.equal(stacked.train.float_x()[:, 1:2], digits.float_x()[idx[:, 1]])
    assert torch.equal(stacked.train.y, triple_labels(digits.y[idx]))


def test_triple_labels_closed_form():
    assert triple_labels(torch.tensor([[1, 2, 3], [9, 9, 9], [0, 0, 7]])).tolist() == [123, 999, 7]


def test_seeded_and_fixed(mnist5k, stacked):
    again = make_stacked(mnist5k, n_train=300, n_eval=100)
    other = make_stacked(mnist5k, n_train=300, n_eval=100, seed=STACKED_SEED + 1)
    for s in ("train", "val", "test"):
        assert torch.equal(again.split(s).float_x(), stacked.split(s).float_x()) and torch.equal(again.split(s).y, stacked.split(s).y)
    assert not torch.equal(other.train.y, stacked.train.y)


def test_uniform_over_modes_on_a_large_draw(mnist5k):
    # Each channel is uniform over 4,000 train digits (400 per class), so each digit appears with
    # probability 1/10 per channel: over 6,000 triples, each channel's class counts are near 600.
    ds = make_stacked(mnist5k, n_train=6000, n_eval=10)
    digits = torch.stack([ds.train.y // 100, ds.train.y // 10 % 10, ds.train.y % 10], dim=1)
    counts = torch.stack([torch.bincount(digits[:, c], minlength=10) for c in range(3)])
    assert counts.sum().item() == 18000 and counts.min().item() > 480 and counts.max().item() < 720


def test_registered_by_name(mnist5k, monkeypatch):
    # The registry builds from load_mnist5k(); hand it the module's copy instead of reading it again.
    monkeypatch.setattr("gankit.data.stacked.load_mnist5k", lambda: mnist5k)
    cfg = load_config(overrides=["data.name=stacked-mnist", "data.n_train=64"])
    ds = build_dataset(cfg.data)
    assert ds.info.name == "stacked-mnist" and len(ds.train) == 64 and len(ds.split("test")) == 5000
    assert float(ds.train.float_x().min()) >= -1.0 and float(ds.train.float_x().max()) <= 1.0
