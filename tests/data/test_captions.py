"""Tests of gankit/data/captions.py: attributes measured on drawn strokes of known width, angle and box,
deterministic captions, the vocabulary and typed captions, and the caption folder."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data.captions import (ATTRIBUTE_WORDS, CAPTION_FIELD, DIGIT_VOCABULARY, VOCABULARY, CaptionError,
                                  attribute_levels, attribute_thresholds, digit_caption, load_caption_folder,
                                  load_mnist5k_captions, measure_attributes, parse_digit_caption)
from gankit.errors import DataError


def stroke(width: float, length: float, angle_deg: float, side: int = 28, ss: int = 8) -> torch.Tensor:
    """A straight stroke (a width x length rectangle centred in the image, leaning ``angle_deg`` from the
    vertical, top to the right for angle > 0), its pixels the covered fraction (8 x 8 supersampling), (1, 1, S, S)."""
    t = math.radians(angle_deg)
    g = (np.arange(side * ss) + 0.5) / ss - side / 2
    X, Y = np.meshgrid(g, g)
    along = X * math.sin(t) - Y * math.cos(t)
    across = X * math.cos(t) + Y * math.sin(t)
    inside = (np.abs(along) <= length / 2) & (np.abs(across) <= width / 2)
    p = inside.reshape(side, ss, side, ss).mean(axis=(1, 3))
    return torch.from_numpy(2 * p - 1)[None, None].float()


@pytest.mark.parametrize("angle", [-30, 0, 20, 40])
def test_thickness_is_the_stroke_width(angle):
    length = 18.0
    measured = [measure_attributes(stroke(w, length, angle))[0, 0] for w in (2.5, 3.0, 4.0, 5.0)]
    for w, m in zip((2.5, 3.0, 4.0, 5.0), measured):
        # mass w L over half the outline (L + w): w L / (L + w); pixel edges blur it by up to 10 per cent
        assert m == pytest.approx(w * length / (length + w), rel=0.10)
    assert all(a < b for a, b in zip(measured, measured[1:]))


@pytest.mark.parametrize("width,angle", [(2.0, -30), (2.0, 25), (3.0, 10), (4.0, -15), (3.0, 40)])
def test_slant_is_the_lean_angle(width, angle):
    length = 18.0
    t = math.radians(angle)
    va, vb = length ** 2 / 12, width ** 2 / 12  # variances along and across a uniform rectangle
    # -mu11 / mu02 of the rectangle, in closed form (tan t when the stroke has no width)
    shear = math.sin(t) * math.cos(t) * (va - vb) / (va * math.cos(t) ** 2 + vb * math.sin(t) ** 2)
    assert measure_attributes(stroke(width, length, angle))[0, 1] == pytest.approx(math.degrees(math.atan(shear)), abs=0.3)
    assert measure_attributes(stroke(width, length, 0))[0, 1] == pytest.approx(0.0, abs=1e-9)


def test_size_is_the_bounding_box_area():
    x = -torch.ones(3, 1, 28, 28)
    x[0, 0, 4:24, 10:18] = 1.0     # 20 x 8
    x[1, 0, 10:16, 3:25] = 0.6     # 6 x 22 (0.6 -> 0.8 ink, above the 0.5 threshold)
    x[2, 0, 10:16, 3:25] = -0.2    # 0.4 ink: below the threshold, no box
    assert measure_attributes(x)[:, 2].tolist() == [160.0, 132.0, 0.0]
    # a leaning stroke: its box is the rectangle's extent, to within a pixel on each side
    w, length, t = 3.0, 18.0, math.radians(30)
    bw, bh = length * math.sin(t) + w * math.cos(t), length * math.cos(t) + w * math.sin(t)
    size = measure_attributes(stroke(w, length, 30))[0, 2]
    assert (bw - 2) * (bh - 2) <= size <= (bw + 2) * (bh + 2)


def test_levels_are_class_terciles():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 30)
    values = rng.normal(size=(300, 3)) + labels[:, None]  # the class shifts every attribute
    thresholds = attribute_thresholds(values, labels)
    levels = attribute_levels(values, labels, thresholds)
    for k in range(10):  # each word is a third of each class, whatever the class's offset
        for j in range(3):
            assert np.bincount(levels[labels == k, j], minlength=3).tolist() == [10, 10, 10]
    assert digit_caption(7, (0, 2, 0)) == "a thin, right-slanted, small seven"
    assert digit_caption(3, np.array([2, 1, 2])) == "a thick, upright, large three"


@pytest.fixture(scope="module")
def captioned():
    return load_mnist5k_captions()


def test_mnist5k_captions_are_deterministic_and_measured(captioned):
    again = load_mnist5k_captions()
    for split in ("train", "val", "test"):
        a, b = captioned.split(split), again.split(split)
        assert torch.equal(a.extra[CAPTION_FIELD], b.extra[CAPTION_FIELD]) and torch.equal(a.x, b.x)
    test = captioned.split("test")
    assert captioned.info.fields == {"x": (1, 28, 28), "y": (), "caption": (8,), "attributes": (3,), "levels": (4,)}
    measured = measure_attributes(test.float_x())
    np.testing.assert_array_equal(test.extra["attributes"].numpy(), measured.astype(np.float32))
    levels = test.extra["levels"].numpy()
    assert np.array_equal(levels[:, 0], test.y.numpy())
    for i in (0, 137, 499):
        assert captioned.captions("test")[i] == digit_caption(levels[i, 0], levels[i, 1:]).replace(",", "")
    train = captioned.split("train")
    for j in range(3):  # the thresholds are the train split's class terciles: thirds, up to ties
        counts = np.bincount(train.extra["levels"][:, j + 1].numpy(), minlength=3)
        if j < 2:  # thickness and slant are continuous: 133 or 134 of each class's 400 per word
            assert 1330 - 10 <= counts.min() and counts.max() <= 1340 + 10, counts
        else:  # sizes are whole pixel areas, with ties at the terciles
            assert counts.min() >= 1000, counts


def test_vocabulary_and_typed_captions():
    ids = DIGIT_VOCABULARY.encode("a thin, right-slanted, small seven")
    assert ids.tolist() == [1, 2, 7, 8, 18, 0, 0, 0] and DIGIT_VOCABULARY.decode(ids) == "a thin right-slanted small seven"
    assert VOCABULARY[0] == "<pad>" and len(VOCABULARY) == 21
    g = torch.Generator().manual_seed(0)
    assert parse_digit_caption("A thick, slanted 3.", g) == (3, 2, 2, parse_digit_caption("three", torch.Generator().manual_seed(0))[3])
    digit, thick, slant, size = parse_digit_caption("a thick slanted three", torch.Generator().manual_seed(5))
    assert (digit, thick, slant) == (3, 2, 2) and size in (0, 1, 2)
    # an attribute left out is drawn at random: over many draws, every word appears
    g = torch.Generator().manual_seed(1)
    assert {parse_digit_caption("a seven", g)[2] for _ in range(40)} == {0, 1, 2}
    with pytest.raises(CaptionError) as err:
        parse_digit_caption("a purple seven")
    msg = str(err.value)
    assert msg.startswith("--text: unknown word 'purple'") and "\n" not in msg
    assert all(w in msg for w in ATTRIBUTE_WORDS["slant"]) and "nine" in msg
    with pytest.raises(CaptionError, match="two values of the thickness"):
        parse_digit_caption("a thin thick seven")
    with pytest.raises(CaptionError, match="has no words"):
        parse_digit_caption(" ,. ")
    with pytest.raises(CaptionError, match="unknown word 'blue'"):
        DIGIT_VOCABULARY.encode("a blue seven")


def _write_folder(root, n: int = 10, skip_caption: int | None = None):
    root.mkdir()
    words = ["red circle", "blue square", "a red square", "green dot"]
    for i in range(n):
        pix = np.full((12, 12), 20 * i, dtype=np.uint8)
        Image.fromarray(pix).save(root / f"img{i:02d}.png")
        if i != skip_caption:
            (root / f"img{i:02d}.txt").write_text(words[i % 4] + "\n")
    return root


def test_caption_folder_loads(tmp_path):
    ds = load_caption_folder(_write_folder(tmp_path / "caps"))
    assert ds.vocab.words == ("<pad>", "a", "blue", "circle", "dot", "green", "red", "square")
    assert ds.vocab.length == 3 and ds.info.shape == (1, 12, 12) and ds.info.num_classes == 0
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [8, 1, 1]
    every = torch.cat([ds.split(s).float_x() for s in ("train", "val", "test")])
    captions = sum((ds.captions(s) for s in ("train", "val", "test")), [])
    for image, caption in zip(every, captions):  # each image keeps its own caption
        i = round(float((image[0, 0, 0] + 1) * 127.5) / 20)
        assert caption == ["red circle", "blue square", "a red square", "green dot"][i % 4]
    assert ds.split("train").batch(torch.arange(2))[CAPTION_FIELD].shape == (2, 3)


def test_caption_folder_rejects_an_image_without_caption(tmp_path):
    root = _write_folder(tmp_path / "caps", skip_caption=4)
    with pytest.raises(DataError) as err:
        load_caption_folder(root)
    assert str(err.value).startswith(f"{root / 'img04.png'}: no caption file img04.txt") and "\n" not in str(err.value)
    (root / "img04.txt").write_text("  \n")
    with pytest.raises(DataError, match="img04.txt: the caption is empty"):
        load_caption_folder(root)
