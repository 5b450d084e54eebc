"""Tests of gankit/data/domains.py: MNIST-M's blend, digits28 and the two-domain datasets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.data.base import DataInfo, Dataset, Split
from gankit.data.digits import load_digits_dataset, load_mnist5k
from gankit.data.domains import (
    MNISTM_SEED,
    Patches,
    blend,
    cycled_permutations,
    draw_patches,
    load_digits28,
    load_two_domain,
    make_mnistm,
    make_two_domain,
    sample_photos,
)
from gankit.data.resize import resize_images


def test_blend_is_the_absolute_difference_of_patch_and_digit():
    digits = np.array([[[0, 255], [128, 7]], [[255, 255], [0, 0]]], dtype=np.uint8)  # (2, 2, 2)
    photo_a = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3) * 4  # values 0..236
    photo_b = np.full((3, 3, 3), 200, dtype=np.uint8)
    patches = Patches(photo=np.array([0, 1]), top=np.array([1, 1]), left=np.array([3, 0]))
    out = blend(digits, [photo_a, photo_b], patches)
    assert out.shape == (2, 3, 2, 2) and out.dtype == np.uint8
    for c in range(3):  # written out pixel by pixel, in Python integers
        for i, j in [(0, 0), (0, 1), (1, 0), (1, 1)]:
            assert out[0, c, i, j] == abs(int(photo_a[1 + i, 3 + j, c]) - int(digits[0, i, j]))
            assert out[1, c, i, j] == abs(200 - int(digits[1, i, j]))
    assert out[1, :, 0, 0].tolist() == [55, 55, 55] and out[1, :, 1, 1].tolist() == [200, 200, 200]


def test_patches_are_seeded_and_always_fit():
    photos = [np.zeros((30, 40, 3), np.uint8), np.zeros((29, 28, 3), np.uint8)]
    a = draw_patches(2000, photos, 28, np.random.default_rng(1))
    b = draw_patches(2000, photos, 28, np.random.default_rng(1))
    assert all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("photo", "top", "left"))
    assert set(a.photo.tolist()) == {0, 1}
    for p, top, left in zip(a.photo, a.top, a.left):
        assert 0 <= top <= photos[p].shape[0] - 28 and 0 <= left <= photos[p].shape[1] - 28
    assert set(a.top[a.photo == 0].tolist()) == {0, 1, 2} and set(a.left[a.photo == 1].tolist()) == {0}


def _tiny_mnist() -> Dataset:
    g = torch.Generator().manual_seed(0)
    splits = {k: Split(torch.randint(0, 256, (n, 1, 6, 6), generator=g, dtype=torch.uint8),
                       torch.arange(n) % 10, x_max=255) for k, n in (("train", 5), ("val", 3), ("test", 2))}
    return Dataset(DataInfo("tiny", "image", (1, 6, 6), 10), splits)


def test_make_mnistm_is_deterministic_and_keeps_splits_and_labels():
    mnist, photos = _tiny_mnist(), [np.random.default_rng(3).integers(0, 256, (9, 11, 3), dtype=np.uint8)]
    a, b, c = make_mnistm(mnist, photos), make_mnistm(mnist, photos), make_mnistm(mnist, photos, seed=1)
    assert a.info.shape == (3, 6, 6) and a.info.num_classes == 10
    for k in ("train", "val", "test"):
        assert torch.equal(a.split(k).x, b.split(k).x) and torch.equal(a.split(k).y, mnist.split(k).y)
        assert a.split(k).x_max == 255 and a.split(k).x.dtype == torch.uint8
    assert not torch.equal(a.train.x, c.train.x)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist5k()


@pytest.fixture(scope="module")
def photos():
    return sample_photos()


@pytest.fixture(scope="module")
def mnistm(mnist, photos):
    return make_mnistm(mnist, photos)


def test_mnistm_pixels_are_patches_of_the_two_photos_minus_mnist5k_digits(mnist, photos, mnistm):
    assert len(photos) == 2 and all(p.shape == (427, 640, 3) for p in photos)
    assert mnistm.info.name == "mnistm" and mnistm.info.shape == (3, 28, 28)
    assert {k: len(s) for k, s in mnistm.splits.items()} == {"train": 4000, "val": 500, "test": 500}
    assert mnistm.split("test").content_sha256() == make_mnistm(mnist, photos).split("test").content_sha256()
    patches = draw_patches(4000, photos, 28, np.random.default_rng([MNISTM_SEED, 0]))  # the train split's draw
    for i in (0, 1, 2345, 3999):
        p, t, l = patches.photo[i], patches.top[i], patches.left[i]
        patch = photos[p][t:t + 28, l:l + 28].astype(np.int64).transpose(2, 0, 1)  # (3, 28, 28)
        digit = mnist.train.x[i, 0].numpy().astype(np.int64)
        assert np.array_equal(mnistm.train.x[i].numpy(), np.abs(patch - digit))
    assert torch.equal(mnistm.train.y, mnist.train.y)


def test_digits28_is_the_digits_resized_with_the_same_splits():
    d28, d8 = load_digits28(), load_digits_dataset()
    assert d28.info.shape == (1, 28, 28) and d28.info.num_classes == 10
    for k in ("train", "val", "test"):
        assert torch.equal(d28.split(k).float_x(), resize_images(d8.split(k).float_x(), 28))
        assert torch.equal(d28.split(k).y, d8.split(k).y)
    x = d28.train.float_x()
    assert float(x.min()) == -1.0 and float(x.max()) <= 1.0


def test_cycled_permutations_cycle_the_smaller_set_evenly():
    idx = cycled_permutations(4, 10, torch.Generator().manual_seed(0))
    assert len(idx) == 10 and sorted(idx[:4].tolist()) == sorted(idx[4:8].tolist()) == [0, 1, 2, 3]
    assert sorted(torch.bincount(idx).tolist()) == [2, 2, 3, 3]


def test_two_domain_batches_carry_source_labels_and_unlabelled_target_images(mnist):
    ds = make_two_domain(load_digits28(), mnist)
    source, target = ds.source, ds.target
    assert ds.info.name == "digits28-to-mnist5k"
    assert ds.info.fields == {"x": (1, 28, 28), "y": (), "x_target": (1, 28, 28)}
    src, tgt = ds.pairing
    assert len(ds.train) == 4000 and sorted(tgt.tolist()) == list(range(4000))  # the larger domain: each once
    assert sorted(torch.bincount(src, minlength=1437).unique().tolist()) == [2, 3]  # the smaller one cycles
    batch = ds.train.batch(torch.arange(0, 4000, 7))
    assert set(batch.keys()) == {"x", "y", "x_target"}
    rows = torch.arange(0, 4000, 7)
    assert torch.equal(batch.x, source.train.float_x(src[rows])) and torch.equal(batch.y, source.train.y[src[rows]])
    assert torch.equal(batch["x_target"], target.train.float_x(tgt[rows]))
    # the training rows hold the source's labels; the target's (kept in ds.target) are in no field
    assert set(ds.train.extra) == {"x_target"} and not torch.equal(batch.y, target.train.y[tgt[rows]])
    for k in ("val", "test"):  # what an adapted classifier is judged on: the target's held-out images
        held = ds.split(k)
        assert torch.equal(held.float_x(), target.split(k).float_x()) and torch.equal(held.y, target.split(k).y)
        assert torch.equal(held.extra["x_target"], held.float_x())
    assert torch.equal(make_two_domain(load_digits28(), mnist).pairing[0], src)  # a fixed, seeded pairing


def test_a_grey_source_is_repeated_to_the_colour_target_channels(mnist, mnistm):
    ds = make_two_domain(mnist, mnistm)
    assert ds.info.name == "mnist5k-to-mnistm"
    assert ds.info.fields == {"x": (3, 28, 28), "y": (), "x_target": (3, 28, 28)}
    src, tgt = ds.pairing
    assert sorted(src.tolist()) == sorted(tgt.tolist()) == list(range(4000))  # equal sizes: each image once
    x = ds.train.x[:50]
    assert x.dtype == torch.uint8 and ds.train.x_max == 255
    assert all(torch.equal(x[:, c], mnist.train.x[src[:50], 0]) for c in range(3))
    assert torch.equal(ds.split("test").x, ds.target.split("test").x)


def test_domains_are_registered(mnist):
    from gankit.data import build_dataset
    from gankit.plugins import load_config
    from gankit.registry import DATASETS

    assert {"mnistm", "digits28", "mnist5k-to-mnistm", "digits28-to-mnist5k", "mnist5k-to-digits28"} <= set(DATASETS)
    ds = build_dataset(load_config(overrides=["data.name=digits28"]).data)
    assert ds.info.shape == (1, 28, 28) and len(ds.split("test")) == 180
    assert load_two_domain.__module__ == "gankit.data.domains"
    with pytest.raises(ValueError, match="domains differ"):
        make_two_domain(load_digits_dataset(), mnist)


def test_mnistm_gray_pairs_are_the_luma_of_the_colour_targets():
    from gankit.data.domains import LUMA, grayscale, load_mnistm_gray

    codes = torch.tensor([[[[255]], [[0]], [[0]]], [[[10]], [[20]], [[30]]]], dtype=torch.uint8)  # (2, 3, 1, 1)
    want = [0.299 * 2 - 1, (0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255 * 2 - 1]
    assert grayscale(codes).flatten().tolist() == pytest.approx(want, abs=1e-7)
    assert sum(LUMA) == pytest.approx(1.0)
    ds = load_mnistm_gray()
    assert ds.info.fields == {"x": (3, 28, 28), "y": (), "x_a": (1, 28, 28)}
    test = ds.split("test")
    assert torch.equal(test.extra["x_a"], grayscale(test.x))  # every input is its target's luma
    assert test.x.dtype == torch.uint8 and len(test) == 500


def test_pix2pix_colourises_one_channel_into_three(tmp_path):
    from gankit.data.batch import Batch
    from gankit.models import build_model
    from gankit.plugins import load_config

    cfg = load_config(preset="mnistm-gray-pix2pix", overrides=["net.width=8", "train.batch_size=4"])
    from gankit.data import build_dataset

    ds = build_dataset(cfg.data)
    model = build_model(cfg, ds.info, "cpu")
    batch = ds.train.batch(torch.arange(4))
    assert batch["x_a"].shape == (4, 1, 28, 28) and batch.x.shape == (4, 3, 28, 28)
    g = model.g_step(Batch(batch))
    assert g.loss.ndim == 0 and torch.isfinite(g.loss)
    assert model.sample(2, seed=0).shape == (2, 3, 28, 28)
