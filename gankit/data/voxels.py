"""Voxel grids: procedurally generated 3D shapes (``shapes3d``) and a user's own ``.npy`` grids (``voxel-folder``).

A voxel sample is a tensor (1, S, S, S) (channels, depth, height, width; ``DataInfo.kind == "voxel"``),
float32 with +1 for an occupied voxel and -1 for an empty one (the [-1, 1] range of every gankit image),
stored as uint8 codes 0 / 1 (``x_max = 1``).

``shapes3d``: seven classes of shapes (:data:`CLASSES`), each a union of analytic parts (:data:`PRIMITIVES`):
box, sphere, cylinder, cone, torus, and two assemblies of parts, a table (a top on four legs) and a chair
(a seat on four legs and a back). Every shape has random size and proportions (its class's parameter
ranges in :func:`draw_parts`) and a random orientation: a uniform turn about the vertical axis and a tilt
of up to :data:`MAX_TILT_DEG` about each horizontal axis. Coordinates are normalised so the grid spans
[-1, 1]^3 whatever its side; every shape fits in a ball of radius :data:`MAX_RADIUS` about the grid's centre,
so rotation never clips it. A voxel is occupied when its centre lies inside the shape (:func:`voxelize`), so
a part's voxel count approximates its volume in voxel units, (S / 2)^3 times its normalised volume
(tests/data/test_voxels.py checks spheres, boxes and cylinders against 4/3 pi r^3, abc, pi r^2 h).

Sizes and split: 500 shapes of each class, split 400 / 50 / 50 per class (2,800 / 350 / 350), stratified
and fixed by a constant seed like mnist5k's; shape i is drawn from ``numpy.random.default_rng([VOXEL_SEED,
i])``, so the dataset is a function of the side alone (16 by default, ``data.image_size=32`` for 32^3; 8
works for quick tests, but there the thin legs of a few of the 2,800 training tables and chairs fall between
voxel centres and leave them empty).

``voxel-folder``: ``data.root/CLASS/*.npy`` (labels follow the sorted class folders) or one folder of
``.npy`` files (unlabelled). Each file holds one grid (S, S, S) or (1, S, S, S): bool, integers 0 / 1, or
floats in [0, 1] (occupied where >= 0.5). Split 80 / 10 / 10, stratified and seeded like ``folder``.
``data.image_size`` resamples the grids (nearest voxel). A malformed file is a one-line
:class:`~gankit.errors.DataError` naming it (exit status 2 from the CLI).

Example::

    ds = load_shapes3d()                    # 16^3, 7 classes
    ds.info.shape, ds.info.num_classes      # (1, 16, 16, 16), 7
    ds.train.batch(torch.arange(4)).x       # (4, 1, 16, 16, 16), values -1 / +1
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.data.base import DataInfo, Dataset, Split, splits_from_indices, stratified_split
from gankit.data.digits import SPLIT_SEED
from gankit.data.folder import collect_class_folders
from gankit.errors import ConfigError, DataError
from gankit.registry import DATASETS

CLASSES = ("box", "sphere", "cylinder", "cone", "torus", "table", "chair")
PER_CLASS = {"train": 400, "val": 50, "test": 50}
VOXEL_SEED = 20161205  # a constant of the data (3D-GAN, NIPS 2016): the shapes are the same in every run
DEFAULT_SIDE = 16
MAX_RADIUS = 0.92  # every shape fits in this ball (grid half-side = 1), so no rotation clips it
MAX_TILT_DEG = 15.0

Part = tuple[str, dict[str, Any]]  # (primitive name, its parameters in the shape's own frame)


# ---------------------------------------------------------------------------------------------------
# Primitives: inside tests over points q (..., 3) in the shape's frame (z is up), and a bounding radius.


def _inside_box(q: np.ndarray, c, h) -> np.ndarray:
    return np.all(np.abs(q - np.asarray(c)) <= np.asarray(h), axis=-1)


def _inside_sphere(q: np.ndarray, c, r) -> np.ndarray:
    return np.sum((q - np.asarray(c)) ** 2, axis=-1) <= r * r


def _inside_cylinder(q: np.ndarray, c, r, hh) -> np.ndarray:
    """Axis along z through c, radius r, half-height hh."""
    d = q - np.asarray(c)
    return (d[..., 0] ** 2 + d[..., 1] ** 2 <= r * r) & (np.abs(d[..., 2]) <= hh)


def _inside_cone(q: np.ndarray, c, r, height) -> np.ndarray:
    """Base disc of radius r centred at c (in the plane z = c_z), apex at c + (0, 0, height)."""
    d = q - np.asarray(c)
    t = d[..., 2] / height
    rho = np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2)
    return (t >= 0) & (t <= 1) & (rho <= r * (1 - t))


def _inside_torus(q: np.ndarray, c, R, r) -> np.ndarray:
    """Ring in the plane z = c_z: major radius R (centre of the tube), minor radius r (the tube)."""
    d = q - np.asarray(c)
    rho = np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2)
    return (rho - R) ** 2 + d[..., 2] ** 2 <= r * r


PRIMITIVES = {"box": _inside_box, "sphere": _inside_sphere, "cylinder": _inside_cylinder, "cone": _inside_cone,
              "torus": _inside_torus}


def _bound(part: Part) -> float:
    """Radius of a ball about the origin that holds the part."""
    kind, p = part
    c = np.asarray(p["c"], dtype=np.float64)
    if kind == "box":
        return float(np.linalg.norm(np.abs(c) + np.asarray(p["h"])))
    if kind == "sphere":
        return float(np.linalg.norm(c) + p["r"])
    if kind == "cylinder":
        return float(np.linalg.norm(c) + math.hypot(p["r"], p["hh"]))
    if kind == "cone":
        # base rim and apex; exact for a cone on the z axis (the only kind draw_parts makes), else a bound
        return max(math.hypot(float(np.linalg.norm(c)), p["r"]) if c[0] == c[1] == 0 else float(np.linalg.norm(c)) + p["r"],
                   float(np.linalg.norm(c + (0.0, 0.0, p["height"]))))
    return float(np.linalg.norm(c) + p["R"] + p["r"])  # torus


def _scaled(part: Part, s: float) -> Part:
    """The part scaled by s about the origin (every length, every centre)."""
    kind, p = part
    return kind, {k: (tuple(s * v for v in val) if isinstance(val, tuple) else s * val) for k, val in p.items()}


def part_volume(part: Part) -> float:
    """The analytic volume of one part (normalised units): what its voxel count approximates."""
    kind, p = part
    if kind == "box":
        return float(np.prod(2 * np.asarray(p["h"])))
    if kind == "sphere":
        return 4 / 3 * math.pi * p["r"] ** 3
    if kind == "cylinder":
        return math.pi * p["r"] ** 2 * 2 * p["hh"]
    if kind == "cone":
        return math.pi * p["r"] ** 2 * p["height"] / 3
    return 2 * math.pi ** 2 * p["R"] * p["r"] ** 2  # torus


# ---------------------------------------------------------------------------------------------------
# Shapes: a class's parts with random proportions, then a random size and orientation.


def draw_parts(cls: str, rng: np.random.Generator) -> list[Part]:
    """The parts of one shape of class ``cls`` in its own frame (z up, centred), sized to fit
    :data:`MAX_RADIUS` times a random size factor in [0.7, 1]."""
    u = rng.uniform
    if cls == "box":
        parts: list[Part] = [("box", {"c": (0.0, 0.0, 0.0), "h": (u(0.25, 0.75), u(0.25, 0.75), u(0.25, 0.75))})]
    elif cls == "sphere":
        parts = [("sphere", {"c": (0.0, 0.0, 0.0), "r": 1.0})]
    elif cls == "cylinder":
        parts = [("cylinder", {"c": (0.0, 0.0, 0.0), "r": u(0.3, 0.7), "hh": u(0.3, 0.8)})]
    elif cls == "cone":
        height = u(0.8, 1.6)
        parts = [("cone", {"c": (0.0, 0.0, -height / 2), "r": u(0.5, 0.9), "height": height})]
    elif cls == "torus":
        parts = [("torus", {"c": (0.0, 0.0, 0.0), "R": u(0.5, 0.7), "r": u(0.17, 0.3)})]
    elif cls == "table":
        a, b, hz = u(0.5, 0.8), u(0.4, 0.8), u(0.35, 0.6)  # top's half extents, half the table's height
        t, w = u(0.09, 0.14), u(0.09, 0.13)  # top's half thickness, legs' half width
        parts = [("box", {"c": (0.0, 0.0, hz - t), "h": (a, b, t)})]
        leg_h = hz - t  # legs run from -hz to the top's underside
        parts += [("box", {"c": (sx * (a - w), sy * (b - w), -hz + leg_h), "h": (w, w, leg_h)})
                  for sx in (-1, 1) for sy in (-1, 1)]
    elif cls == "chair":
        a, b = u(0.35, 0.5), u(0.35, 0.5)  # seat's half extents
        legs, back = u(0.3, 0.5), u(0.4, 0.7)  # heights of the legs and of the back above the seat
        t, w = u(0.08, 0.12), u(0.08, 0.11)  # seat / back half thickness, legs' half width
        z0 = -(legs + 2 * t + back) / 2  # the floor, so that the chair is centred vertically
        seat_z = z0 + legs + t
        parts = [("box", {"c": (0.0, 0.0, seat_z), "h": (a, b, t)}),
                 ("box", {"c": (-a + t, 0.0, seat_z + t + back / 2), "h": (t, b, back / 2)})]
        parts += [("box", {"c": (sx * (a - w), sy * (b - w), z0 + legs / 2), "h": (w, w, legs / 2)})
                  for sx in (-1, 1) for sy in (-1, 1)]
    else:
        raise ValueError(f"unknown shape class {cls!r}; choose one of {', '.join(CLASSES)}")
    size = u(0.7, 1.0) * MAX_RADIUS / max(_bound(p) for p in parts)
    return [_scaled(p, size) for p in parts]


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """The 3x3 rotation R = Rz(yaw) Ry(pitch) Rx(roll) (radians), mapping the shape's frame to the grid's."""
    cz, sz, cy, sy, cx, sx = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch), math.cos(roll), math.sin(roll)
    Rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    Ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    Rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    return Rz @ Ry @ Rx


def draw_rotation(rng: np.random.Generator) -> np.ndarray:
    tilt = math.radians(MAX_TILT_DEG)
    return rotation(rng.uniform(0, 2 * math.pi), rng.uniform(-tilt, tilt), rng.uniform(-tilt, tilt))


def grid_points(side: int) -> np.ndarray:
    """Centres of a side^3 grid's voxels in normalised coordinates, (side, side, side, 3) indexed
    [d, h, w] = (z, y, x): voxel i's centre is at (i + 0.5) / side * 2 - 1, so the grid spans [-1, 1]^3."""
    c = (np.arange(side) + 0.5) / side * 2 - 1
    z, y, x = np.meshgrid(c, c, c, indexing="ij")
    return np.stack([x, y, z], axis=-1)


def voxelize(parts: list[Part], side: int, R: np.ndarray | None = None) -> np.ndarray:
    """(side, side, side) bool occupancy [z, y, x] of the union of ``parts`` turned by ``R`` (identity if None):
    a voxel is occupied when its centre lies inside some part."""
    p = grid_points(side)
    q = p if R is None else p @ R  # the shape's frame: q = R^T p, row vectors
    occ = np.zeros(p.shape[:-1], dtype=bool)
    for kind, params in parts:
        occ |= PRIMITIVES[kind](q, **params)
    return occ


def make_shape(cls: str, side: int, rng: np.random.Generator) -> np.ndarray:
    """One random shape of class ``cls``: (side, side, side) bool."""
    parts = draw_parts(cls, rng)
    return voxelize(parts, side, draw_rotation(rng))


@functools.lru_cache(maxsize=2)
def _shapes(side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(grids (N, 1, S, S, S) uint8 0/1, labels (N,)) of every shapes3d shape, read-only (cached: a
    process that builds the dataset again, as tests and benchmarks do, draws the shapes once)."""
    k = len(CLASSES)
    labels = np.arange(sum(PER_CLASS.values()) * k) % k  # shape i is of class i mod K
    grids = np.empty((len(labels), 1, side, side, side), dtype=np.uint8)
    for i, c in enumerate(labels):
        grids[i, 0] = make_shape(CLASSES[c], side, np.random.default_rng([seed, i]))
    grids.flags.writeable = labels.flags.writeable = False
    return grids, labels


def load_shapes3d(side: int = DEFAULT_SIDE, seed: int = VOXEL_SEED) -> Dataset:
    """``shapes3d``: 500 shapes per class of :data:`CLASSES` at side^3, split 400 / 50 / 50 per class."""
    if side < 8:
        raise ConfigError(f"data.image_size: shapes3d needs a grid side of at least 8, got {side}")
    k = len(CLASSES)
    grids, labels = _shapes(side, seed)
    grids = np.array(grids)  # a private, writable copy: splits index into it
    parts = stratified_split(labels, {name: n * k for name, n in PER_CLASS.items()}, SPLIT_SEED)
    splits = splits_from_indices(torch.from_numpy(grids), torch.from_numpy(labels.astype(np.int64)), parts, x_max=1)
    return Dataset(DataInfo(name="shapes3d", kind="voxel", shape=(1, side, side, side), num_classes=k), splits)


# ---------------------------------------------------------------------------------------------------
# A user's own .npy grids


def read_voxel_file(path: Path) -> np.ndarray:
    """One .npy voxel grid -> (S, S, S) bool; a :class:`DataError` naming the file when it is malformed."""
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001  (any failure to read is the file's problem)
        raise DataError(f"{path}: unreadable .npy file ({type(e).__name__}: {str(e).splitlines()[0][:100]})") from None
    if not isinstance(arr, np.ndarray):
        raise DataError(f"{path}: holds {type(arr).__name__}, not one array; save one grid per file with numpy.save")
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 3:
        raise DataError(f"{path}: a voxel grid has shape (S, S, S) or (1, S, S, S), got {arr.shape}")
    if not arr.shape[0] == arr.shape[1] == arr.shape[2]:
        raise DataError(f"{path}: voxel grid is not cubic, shape {arr.shape}; pad or resample it to S x S x S")
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind in "iu":
        if not np.isin(arr, (0, 1)).all():
            raise DataError(f"{path}: integer grid must hold only 0 and 1 (occupancy), found values "
                            f"{arr.min()}..{arr.max()}")
        return arr.astype(bool)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise DataError(f"{path}: float grid must hold occupancies in [0, 1] (no nan/inf); found "
                            f"{np.nanmin(arr)}..{np.nanmax(arr)}")
        return arr >= 0.5
    raise DataError(f"{path}: voxel grid of dtype {arr.dtype}; use bool, integers 0/1 or floats in [0, 1]")


def resample(grid: np.ndarray, side: int) -> np.ndarray:
    """Nearest-voxel resampling of a cubic grid to side^3 (the voxel whose centre is nearest)."""
    src = grid.shape[0]
    if src == side:
        return grid
    idx = np.minimum(((np.arange(side) + 0.5) * src / side).astype(np.int64), src - 1)
    return grid[np.ix_(idx, idx, idx)]


def _npy_files(d: Path) -> list[Path]:
    return sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() == ".npy" and not p.name.startswith("."))


def _collect_npy(root: Path) -> tuple[list[Path], list[int], list[str]]:
    return collect_class_folders(root, _npy_files, ".npy files",
                                 "data.name=voxel-folder needs a folder of .npy grids (or of class folders of them)")


def load_voxel_folder(root: Path | str, side: int | None = None) -> Dataset:
    """``voxel-folder``: every .npy grid under ``root`` (see the module docstring), split 80 / 10 / 10."""
    root = Path(root)
    paths, labels, class_names = _collect_npy(root)
    grids = []
    for path in paths:
        grid = read_voxel_file(path)
        if grids and grid.shape != grids[0].shape and side is None:
            raise DataError(f"{path}: grid is {grid.shape[0]}^3 but {paths[0].name} is {grids[0].shape[0]}^3; "
                            "make them one size or set data.image_size to resample all")
        grids.append(grid if side is None else resample(grid, side))
    if len(grids) < 10:
        raise DataError(f"{root}: {len(grids)} .npy grids; an 80/10/10 split needs at least 10")
    x = torch.from_numpy(np.stack(grids)[:, None].astype(np.uint8))
    n = len(x)
    y_np = np.asarray(labels if labels else [0] * n)
    n_val = n_test = n // 10
    parts = stratified_split(y_np, {"train": n - n_val - n_test, "val": n_val, "test": n_test}, SPLIT_SEED)
    y = torch.from_numpy(y_np.astype(np.int64)) if labels else None
    s = x.shape[-1]
    info = DataInfo(name="voxel-folder", kind="voxel", shape=(1, s, s, s), num_classes=len(class_names))
    return Dataset(info, splits_from_indices(x, y, parts, x_max=1))


DATASETS.register("shapes3d", "3D shapes as voxel grids (16^3; data.image_size=32 for 32^3), 7 classes "
                  "(box sphere cylinder cone torus table chair), split 2,800 / 350 / 350")(
    lambda cfg: load_shapes3d(cfg.image_size or DEFAULT_SIDE)
)


def _voxel_root(cfg) -> Path:
    if cfg.root is None:
        raise ConfigError("data.root: dataset 'voxel-folder' reads files; set data.root=PATH to a folder of "
                          ".npy voxel grids (or of class folders of them)")
    return cfg.root


DATASETS.register("voxel-folder", ".npy voxel grids in data.root/CLASS_NAME/ (or one folder), split 80/10/10")(
    lambda cfg: load_voxel_folder(_voxel_root(cfg), cfg.image_size)
)
