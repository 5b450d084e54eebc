"""Tests of gankit/data/paired.py: the mnist5k pairs (hand computations, an independent Sobel, determinism)
and a user's paired folders (written by the test itself)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.config import DataConfig
from gankit.data import build_dataset, paired
from gankit.data.digits import load_mnist5k
from gankit.data.paired import (
    EDGE_THRESHOLD,
    MASK_SEED,
    MASK_SIDE,
    load_mnist5k_paired,
    load_paired_folder,
    low_res,
    mask_blocks,
    mask_positions,
    sobel_edges,
    sobel_magnitude,
)
from gankit.errors import ConfigError, DataError
from gankit.registry import DATASETS


def test_sobel_edges_of_a_step_by_hand_and_against_scipy():
    codes = np.zeros((1, 1, 5, 5), dtype=np.uint8)
    codes[..., 2:] = 255  # black columns 0-1, white columns 2-4
    edges = sobel_edges(codes)
    # Middle row: |Gx| = 0, 4, 4, 0, 4 (the last from the zero padding), Gy = 0; threshold 2.0.
    assert edges[0, 0, 2].tolist() == [-1.0, 1.0, 1.0, -1.0, 1.0]
    assert sobel_magnitude(codes)[0, 0, 2].tolist() == [0.0, 4.0, 4.0, 0.0, 4.0]
    from scipy import ndimage

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(1, 1, 9, 9)).astype(np.uint8)
    ref = np.hypot(ndimage.sobel(img[0, 0] / 255.0, axis=1, mode="constant"),
                   ndimage.sobel(img[0, 0] / 255.0, axis=0, mode="constant"))
    np.testing.assert_allclose(sobel_magnitude(img)[0, 0], ref, rtol=0, atol=1e-12)
    assert torch.equal(sobel_edges(img)[0, 0], torch.from_numpy(np.where(ref > EDGE_THRESHOLD, 1.0, -1.0)).float())


def test_low_res_is_block_means_repeated_by_hand():
    codes = np.array([[0, 255, 0, 0], [255, 255, 0, 0], [51, 51, 0, 0], [51, 51, 0, 255]], dtype=np.uint8)
    out = low_res(codes[None, None], 2)[0, 0]
    # block means on [0, 1]: 0.75, 0, 0.2, 0.25 -> 2 m - 1 = 0.5, -1, -0.6, -0.5, each over its 2x2 block
    expected = torch.tensor([[0.5, 0.5, -1, -1], [0.5, 0.5, -1, -1], [-0.6, -0.6, -0.5, -0.5], [-0.6, -0.6, -0.5, -0.5]])
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-7)
    with pytest.raises(ValueError, match="multiple"):
        low_res(np.zeros((1, 1, 6, 6), np.uint8), 4)


def test_mask_blocks_grey_out_exactly_the_seeded_block():
    codes = np.full((3, 1, 28, 28), 255, dtype=np.uint8)
    corners = mask_positions(3, 28, (MASK_SEED, 2))
    assert np.array_equal(corners, mask_positions(3, 28, (MASK_SEED, 2)))  # seeded
    assert not np.array_equal(corners, mask_positions(3, 28, (MASK_SEED, 1)))
    assert corners.min() >= 0 and corners.max() <= 28 - MASK_SIDE
    out = mask_blocks(codes, corners)
    for i, (r, c) in enumerate(corners):
        hole = torch.zeros(28, 28, dtype=torch.bool)
        hole[r:r + MASK_SIDE, c:c + MASK_SIDE] = True
        assert (out[i, 0][hole] == 0.0).all() and (out[i, 0][~hole] == 1.0).all()
        assert int(hole.sum()) == MASK_SIDE**2


@pytest.fixture(scope="module")
def mnist5k():
    return load_mnist5k()  # read here on its own, not through the paired module's cache


@pytest.mark.parametrize("kind", ["edges", "masked", "lowres", "lowres14"])
def test_mnist5k_pairs_are_mnist5k_targets_with_their_transform_and_deterministic(kind, mnist5k):
    ds = load_mnist5k_paired(kind)
    base = mnist5k
    assert ds.info.fields == {"x": (1, 28, 28), "y": (), "x_a": (1, 28, 28)} and ds.info.name == f"mnist5k-{kind}"
    for number, name in enumerate(("train", "val", "test")):
        split, ref = ds.split(name), base.split(name)
        assert torch.equal(split.x, ref.x) and torch.equal(split.y, ref.y) and split.x_max == 255
        codes = ref.x.numpy()
        want = {"edges": lambda: sobel_edges(codes),
                "masked": lambda: mask_blocks(codes, mask_positions(len(codes), 28, (MASK_SEED, number))),
                "lowres": lambda: low_res(codes, 4), "lowres14": lambda: low_res(codes, 2)}[kind]()
        assert torch.equal(split.extra["x_a"], want)
        assert split.extra["x_a"].dtype == torch.float32 and split.extra["x_a"].abs().max() <= 1
    batch = ds.split("test").batch(torch.tensor([3, 1]))
    assert set(batch) == {"x", "y", "x_a"} and batch["x_a"].shape == (2, 1, 28, 28)
    paired._mnist5k_inputs.cache_clear()  # built again from scratch: the same pixels
    again = load_mnist5k_paired(kind)
    assert all(torch.equal(again.split(n).extra["x_a"], ds.split(n).extra["x_a"]) for n in ("train", "val", "test"))


def test_the_paired_datasets_are_registered():
    for kind in ("edges", "masked", "lowres", "lowres14"):
        assert f"mnist5k-{kind}" in DATASETS
    assert build_dataset(DataConfig(name="mnist5k-lowres")).info.extra_fields == (("x_a", (1, 28, 28)),)


def _write_pairs(root: Path, n: int = 20, size: int = 8) -> Path:
    (root / "A").mkdir(parents=True)
    (root / "B").mkdir()
    for i in range(n):
        Image.fromarray(np.full((size, size), 10 * i, np.uint8), "L").save(root / "A" / f"img{i:02d}.png")
        rgb = np.zeros((size, size, 3), np.uint8)
        rgb[..., 0] = 10 * i  # red channel carries the pair's number
        ext = "bmp" if i == 3 else "png"  # names pair without their extension
        Image.fromarray(rgb, "RGB").save(root / "B" / f"img{i:02d}.{ext}")
    return root


def test_paired_folder_loads_pairs_in_step(tmp_path: Path):
    root = _write_pairs(tmp_path / "pairs")
    ds = load_paired_folder(root)
    assert ds.info.fields == {"x": (3, 8, 8), "x_a": (1, 8, 8)} and ds.info.num_classes == 0
    assert [len(ds.split(s)) for s in ("train", "val", "test")] == [16, 2, 2]
    seen = []
    for s in ("train", "val", "test"):
        split = ds.split(s)
        a_code = ((split.extra["x_a"][:, 0, 0, 0] + 1) * 127.5).round()
        b_code = ((split.float_x()[:, 0, 0, 0] + 1) * 127.5).round()
        assert torch.equal(a_code, b_code)  # every input sits beside its own target
        seen += a_code.tolist()
    assert sorted(seen) == [10.0 * i for i in range(20)]
    cfg = DataConfig(name="paired-folder", root=root, image_size=4)
    assert build_dataset(cfg).info.fields == {"x": (3, 4, 4), "x_a": (1, 4, 4)}
    with pytest.raises(ConfigError, match="data.root: dataset 'paired-folder' reads files"):
        build_dataset(DataConfig(name="paired-folder"))


def test_paired_folder_rejects_unmatched_names_in_one_line(tmp_path: Path):
    root = _write_pairs(tmp_path / "pairs", n=4)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "A" / "lonely.png")
    (root / "B" / "img01.png").unlink()
    with pytest.raises(DataError) as err:
        load_paired_folder(root)
    msg = str(err.value)
    assert "\n" not in msg and "2 images have no partner" in msg and "A/img01.png" in msg and "A/lonely.png" in msg
    with pytest.raises(DataError, match="needs .*/A \\(inputs\\) and .*/B \\(targets\\)"):
        load_paired_folder(tmp_path)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "A" / "img00.jpg")
    with pytest.raises(DataError, match="two images named 'img00'"):
        load_paired_folder(root)


def test_paired_folder_sizes_must_agree(tmp_path: Path):
    root = _write_pairs(tmp_path / "pairs", n=3)
    Image.fromarray(np.zeros((6, 6), np.uint8)).save(root / "A" / "img01.png")
    with pytest.raises(DataError, match="img01.png: image is 6x6 but img00.png is 8x8; .*data.image_size"):
        load_paired_folder(root)
    assert load_paired_folder(root, image_size=6).info.fields["x_a"] == (1, 6, 6)
