import math

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.data.voxels import (
    CLASSES,
    load_shapes3d,
    load_voxel_folder,
    part_volume,
    read_voxel_file,
    resample,
    rotation,
    voxelize,
)
from gankit.errors import DataError

S = 32
UNIT = (S / 2) ** 3  # voxels per unit of normalised volume: the grid spans [-1, 1]^3


def count(parts, R=None) -> int:
    return int(voxelize(parts, S, R).sum())


def test_an_axis_aligned_box_has_exactly_its_volume_in_voxels():
    # half extents 0.5, 0.25, 0.75 cover 16, 8 and 24 voxel centres of a 32^3 grid
    box = [("box", {"c": (0.0, 0.0, 0.0), "h": (0.5, 0.25, 0.75)})]
    assert count(box) == 16 * 8 * 24 == part_volume(box[0]) * UNIT
    turned = count(box, rotation(0.7, 0.3, -0.2))  # a rotated box keeps its volume up to the lattice's error
    assert abs(turned / (16 * 8 * 24) - 1) < 0.01


@pytest.mark.parametrize("c, r", [((0.0, 0.0, 0.0), 0.75), ((0.1, -0.05, 0.2), 0.6)])
def test_a_sphere_has_four_thirds_pi_r_cubed_voxels(c, r):
    expected = 4 / 3 * math.pi * (r * S / 2) ** 3  # r in voxels: r * S / 2
    for R in (None, rotation(1.1, -0.2, 0.25)):
        assert abs(count([("sphere", {"c": c, "r": r})], R) / expected - 1) < 0.01


def test_a_cylinder_has_pi_r_squared_h_voxels_and_a_torus_two_pi_squared_R_r_squared():
    cyl = ("cylinder", {"c": (0.0, 0.0, 0.0), "r": 0.6, "hh": 0.5})
    expected = math.pi * (0.6 * 16) ** 2 * (2 * 0.5 * 16)
    assert part_volume(cyl) * UNIT == pytest.approx(expected, rel=1e-12)
    assert abs(count([cyl]) / expected - 1) < 0.025  # axis-aligned: the disc's lattice count is 1.9 % low
    assert abs(count([cyl], rotation(0.4, 0.3, 0.2)) / expected - 1) < 0.01
    torus = ("torus", {"c": (0.0, 0.0, 0.0), "R": 0.6, "r": 0.25})
    assert abs(count([torus], rotation(0.4, 0.3, 0.2)) / (2 * math.pi**2 * 0.6 * 0.25**2 * UNIT) - 1) < 0.01


@pytest.fixture(scope="module")
def shapes8():
    return load_shapes3d(8)


def test_shapes3d_is_deterministic_balanced_binary_and_never_clipped(shapes8):
    ds = shapes8
    assert ds.info.kind == "voxel" and ds.info.shape == (1, 8, 8, 8) and ds.info.num_classes == len(CLASSES) == 7
    assert {k: len(s) for k, s in ds.splits.items()} == {"train": 2800, "val": 350, "test": 350}
    for name, per_class in (("train", 400), ("val", 50), ("test", 50)):
        assert torch.bincount(ds.split(name).y, minlength=7).tolist() == [per_class] * 7
    again = load_shapes3d(8)
    for name in ds.splits:  # the same shapes and labels in every build (a constant seed, never the run's)
        assert ds.split(name).content_sha256() == again.split(name).content_sha256()
        assert torch.equal(ds.split(name).y, again.split(name).y)
    other = load_shapes3d(8, seed=1)
    assert ds.train.content_sha256() != other.train.content_sha256()
    x = ds.train.float_x()
    assert set(x.unique().tolist()) == {-1.0, 1.0} and ds.train.x.dtype == torch.uint8
    # at 16^3 (the default) no shape is empty, and every shape fits in a ball of radius 0.92 < 1 - 1/16,
    # so the grid's outer layer is empty (at 8^3 the thin legs of a few tables and chairs fall between voxel centres)
    big = load_shapes3d(16).train.float_x()[:, 0] > 0
    assert big.flatten(1).any(1).all()
    assert not (big[:, [0, -1]].any() or big[:, :, [0, -1]].any() or big[:, :, :, [0, -1]].any())


def test_resample_takes_the_nearest_voxel():
    g = np.arange(4**3).reshape(4, 4, 4)
    assert np.array_equal(resample(g, 2), g[np.ix_([1, 3], [1, 3], [1, 3])])
    assert np.array_equal(resample(g, 8)[::2, ::2, ::2], g) and np.array_equal(resample(g, 4), g)


def write_grids(root, n=10, side=4, classes=("a", "b")):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(n):
            np.save(root / c / f"{i}.npy", rng.random((side, side, side)) > 0.5)


def test_a_folder_of_class_folders_of_npy_grids_loads(tmp_path):
    write_grids(tmp_path, n=10, side=8)
    np.save(tmp_path / "a" / "f.npy", np.full((1, 8, 8, 8), 0.75, dtype=np.float32))  # (1, S, S, S) floats
    np.save(tmp_path / "a" / "i.npy", np.zeros((8, 8, 8), dtype=np.int64))
    ds = load_voxel_folder(tmp_path)
    assert ds.info.shape == (1, 8, 8, 8) and ds.info.num_classes == 2 and ds.info.kind == "voxel"
    assert sum(len(s) for s in ds.splits.values()) == 22 and len(ds.split("test")) == 2
    ref = read_voxel_file(tmp_path / "a" / "f.npy")
    assert ref.dtype == bool and ref.all()  # 0.75 >= 0.5: occupied
    assert load_voxel_folder(tmp_path, side=4).info.shape == (1, 4, 4, 4)


BAD = {
    "ndim.npy": (np.zeros((4, 4), dtype=bool), r"shape \(S, S, S\) or \(1, S, S, S\), got \(4, 4\)"),
    "cube.npy": (np.zeros((4, 4, 5), dtype=bool), r"not cubic, shape \(4, 4, 5\)"),
    "ints.npy": (np.full((4, 4, 4), 2, dtype=np.int32), r"only 0 and 1"),
    "floats.npy": (np.full((4, 4, 4), 1.5), r"occupancies in \[0, 1\]"),
    "text.npy": (np.full((4, 4, 4), "x"), r"dtype <U1"),
}


@pytest.mark.parametrize("name", [*BAD, "garbage.npy"])
def test_a_malformed_voxel_file_is_one_line_naming_it_and_exit_2(tmp_path, name, capsys):
    write_grids(tmp_path, n=5)
    bad = tmp_path / "a" / name
    if name == "garbage.npy":
        bad.write_bytes(b"not a numpy file")
        pattern = "unreadable .npy file"
    else:
        np.save(bad, BAD[name][0])
        pattern = BAD[name][1]
    with pytest.raises(DataError, match=pattern):
        load_voxel_folder(tmp_path)
    code = main(["train", "--set", "data.name=voxel-folder", "--set", f"data.root={tmp_path}", "--set", "net.name=voxel",
                 "--set", "model.name=gan3d", "--runs-root", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith(f"gankit: error: {bad}: ")
    assert not (tmp_path / "runs").exists()
