"""Tests of gankit/data/unpaired.py: the transforms on hand-computed examples, the disjoint halves, the splits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.data.base import images_to_unit_range
from gankit.data.digits import load_mnist5k
from gankit.data.paired import sobel_edges
from gankit.data.unpaired import (SECOND_FIELD, load_mnist5k_unpaired, to_codes, training_halves, transform_codes,
                                  transform_images)


@pytest.fixture(scope="module")
def mnist5k():
    return load_mnist5k()


@pytest.fixture(scope="module")
def negative():
    return load_mnist5k_unpaired("negative")


def _step(code: int) -> np.ndarray:
    """A 4 x 4 vertical step: columns 0-1 black, columns 2-3 of value ``code``."""
    img = np.zeros((1, 1, 4, 4), dtype=np.uint8)
    img[..., 2:] = code
    return img


def test_edges_of_a_step_by_hand():
    # Sobel with zero padding on pixels p in [0, 1]: columns 1 and 2 have |Gx| = 4p inside, 3p on the top and
    # bottom rows (one padded row); column 3 |Gx| = 4p (3p) too (the padded column right of it); the top and
    # bottom rows add |Gy| = 1p, 3p, 3p in columns 1, 2, 3. An edge is a magnitude above 2.0.
    white = transform_codes("edges", _step(255))  # p = 1: every magnitude >= sqrt(10) in columns 1-3
    assert torch.equal(white[0, 0], torch.tensor([[-1.0, 1, 1, 1]] * 4))
    # p = 127/255 < 0.5: inside, 4p = 1.992 is no edge; on the top / bottom rows columns 2, 3 have sqrt(18) p = 2.11
    assert torch.equal(transform_codes("edges", _step(127))[0, 0],
                       torch.tensor([[-1.0, -1, 1, 1], [-1, -1, -1, -1], [-1, -1, -1, -1], [-1, -1, 1, 1]]))
    # p = 128/255 > 0.5: inside, 4p = 2.008 is an edge; column 1 of the top row (sqrt(10) p = 1.587) is not
    assert torch.equal(transform_codes("edges", _step(128))[0, 0],
                       torch.tensor([[-1.0, -1, 1, 1], [-1, 1, 1, 1], [-1, 1, 1, 1], [-1, -1, 1, 1]]))
    assert torch.equal(transform_codes("edges", _step(200)), sobel_edges(_step(200)))  # the pix2pix operator itself


def test_negative_by_hand():
    codes = np.array([0, 255, 100, 37], dtype=np.uint8).reshape(1, 1, 2, 2)
    neg = transform_codes("negative", codes)
    assert torch.equal(neg, images_to_unit_range(np.array([255, 0, 155, 218]).reshape(1, 1, 2, 2), 255))
    assert neg[0, 0, 0].tolist() == [1.0, -1.0]
    torch.testing.assert_close(neg, -images_to_unit_range(codes, 255), rtol=0, atol=2e-7)  # -x in [-1, 1], to float32 rounding


def test_transform_of_images_goes_through_8_bit_codes():
    x = torch.tensor([-1.0, -0.999, 0.0, 0.5, 1.0, 1.7]).reshape(1, 1, 2, 3)
    assert to_codes(x).reshape(-1).tolist() == [0, 0, 128, 191, 255, 255]  # round((x + 1) * 127.5), clamped
    assert torch.equal(transform_images("negative", x), transform_codes("negative", to_codes(x)))
    with pytest.raises(ValueError, match="choose one of: edges, negative"):
        transform_codes("blur", to_codes(x))


def test_halves_are_disjoint_stratified_and_fixed(mnist5k, negative):
    a, b = negative.halves
    assert len(a) == len(b) == 2000
    assert set(a.tolist()).isdisjoint(b.tolist()) and set(a.tolist()) | set(b.tolist()) == set(range(4000))
    y = mnist5k.train.y
    assert torch.equal(torch.bincount(y[a]), torch.full((10,), 200)) and torch.equal(torch.bincount(y[b]), torch.full((10,), 200))
    again = training_halves(y.numpy())
    assert torch.equal(again[0], a) and torch.equal(again[1], b)
    assert not torch.equal(training_halves(y.numpy(), seed=1)[0], a)
    # every training row: domain 1 is a digit of half a as it is; domain 2 the transform of a digit of half b
    train = negative.train
    assert torch.equal(train.x, mnist5k.train.x[a]) and torch.equal(train.y, y[a])
    assert torch.equal(train.extra[SECOND_FIELD], transform_codes("negative", mnist5k.train.x[b].numpy()))
    assert torch.equal(load_mnist5k_unpaired("edges").halves[1], b)  # both tasks use the same halves


def test_splits_fields_and_evaluation_pairs(mnist5k, negative):
    assert negative.info.fields == {"x": (1, 28, 28), "y": (), SECOND_FIELD: (1, 28, 28)}
    assert negative.info.name == "mnist5k-unpaired-negative" and negative.transform == "negative"
    assert {k: len(s) for k, s in negative.splits.items()} == {"train": 2000, "val": 500, "test": 500}
    test = negative.split("test")
    assert torch.equal(test.x, mnist5k.split("test").x)  # x is mnist5k's test split: FID's reference
    # val / test hold true pairs; the transform of images in [-1, 1] gives the stored x2 exactly
    assert torch.equal(transform_images("negative", test.float_x()), test.extra[SECOND_FIELD])
    edges = load_mnist5k_unpaired("edges").split("val")
    assert torch.equal(transform_images("edges", edges.float_x()), edges.extra[SECOND_FIELD])
    assert set(edges.extra[SECOND_FIELD].unique().tolist()) == {-1.0, 1.0}
    batch = negative.train.batch(torch.arange(3))
    assert set(batch) == {"x", "y", SECOND_FIELD} and batch[SECOND_FIELD].dtype == torch.float32
