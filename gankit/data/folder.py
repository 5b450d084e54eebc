"""A folder of images (``folder``): :func:`load_image_folder`.

``root/CLASS_NAME/*.png`` (also jpg, jpeg, bmp, gif, webp); labels follow the sorted class-folder
names. A folder of images with no class folders is one unlabelled set. Split 80/10/10, stratified by
class and fixed by a constant seed (never the run's seed). Pixels are float32 in [-1, 1];
``image_size`` center-crops and resizes with :func:`gankit.data.resize.resize_images`.

Nothing here downloads. Every problem with a file is a :class:`~gankit.errors.DataError` whose
one-line message names the file.

Example::

    from gankit.data.folder import load_image_folder
    ds = load_image_folder("data/flowers", image_size=64)
    ds.info.num_classes, ds.info.shape  # (5, (3, 64, 64))
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.data.base import DataInfo, Dataset, images_to_unit_range, splits_from_indices, stratified_split
from gankit.data.digits import SPLIT_SEED
from gankit.data.resize import resize_images
from gankit.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
# Modes that stay one channel, with the value that maps to white. "I;16*" is how Pillow opens 16-bit
# grayscale PNGs; plain "I" (32-bit int) is taken to hold 16-bit values too, as that is where it comes from.
_GRAY_MAX: dict[str, float] = {"1": 1.0, "L": 255.0, "I": 65535.0, "I;16": 65535.0, "I;16L": 65535.0,
                               "I;16B": 65535.0, "I;16N": 65535.0}


def _is_image_file(p: Path) -> bool:
    # Hidden files are skipped: macOS "._name.png" resource forks look like images but are not.
    return p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS


def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if _is_image_file(p))


def _collect_folder(root: Path) -> tuple[list[Path], list[int], list[str]]:
    """Image paths, their labels, and the class names (empty for an unlabelled folder)."""
    if not root.is_dir():
        raise DataError(f"{root}: data.name=folder needs a folder of class folders of images, not a file")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = _list_images(root)
    exts = ", ".join(IMAGE_EXTENSIONS)
    if not class_dirs:
        if not loose:
            raise DataError(f"{root}: empty: no class folders and no images ({exts})")
        return loose, [], []
    if loose:
        raise DataError(
            f"{loose[0]}: image next to class folders ({', '.join(p.name for p in class_dirs[:3])}); "
            "move loose images into a class folder, or point data.root at a folder of images only"
        )
    paths: list[Path] = []
    labels: list[int] = []
    for label, d in enumerate(class_dirs):
        found = _list_images(d)
        if not found:
            raise DataError(f"{d}: class folder holds no images ({exts}); remove it or add images")
        paths += found
        labels += [label] * len(found)
    return paths, labels, [d.name for d in class_dirs]


def _open_image(path: Path) -> Any:
    from PIL import Image

    try:
        img = Image.open(path)
        img.load()  # decode now: a truncated file fails here, not later in a half-built tensor
        return img
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - Pillow's plugins raise many types for a bad file
        raise DataError(f"{path}: Pillow cannot read this image ({e or type(e).__name__})") from None


def _image_array(img: Any, rgb: bool) -> tuple[np.ndarray, float]:
    """(C, H, W) pixel values and the value that means white."""
    if img.mode in _GRAY_MAX:
        top = _GRAY_MAX[img.mode]
        gray = np.clip(np.asarray(img, dtype=np.float32), 0.0, top)[None]  # mode "1" gives bools -> 0/1
        return (np.repeat(gray, 3, axis=0) if rgb else gray), top
    # Palette, RGBA, LA, CMYK, ...: Pillow's RGB conversion (alpha is dropped, not composited).
    return np.asarray(img.convert("RGB")).transpose(2, 0, 1), 255.0


def load_image_folder(root: str | os.PathLike, image_size: int | None = None) -> Dataset:
    """Load ``root/CLASS_NAME/*.png`` (jpg, jpeg, bmp, gif, webp; any case) as a labelled image dataset.

    Labels are the positions of the class folders in sorted order. A folder of images without class
    folders is one unlabelled set (``num_classes`` 0, ``y`` None). Images stay one channel only if every
    image is grayscale (Pillow modes ``1``, ``L``, ``I``, ``I;16``); otherwise all become RGB. An
    animated GIF or WebP gives its first frame. Without ``image_size`` every image must have one
    square size; with it, each is center-cropped to a square and resized by :func:`resize_images`.
    Splits: 80 / 10 / 10 (val and test are ``round(n / 10)`` each), stratified by class.

    Example::

        ds = load_image_folder("data/flowers", image_size=64)
        ds.info.num_classes, ds.info.shape  # (5, (3, 64, 64))
    """
    from PIL import Image

    folder = Path(root).expanduser()
    paths, labels, class_names = _collect_folder(folder)

    # First pass reads headers only (cheap), so a size problem is reported before anything is decoded.
    modes, sizes = [], []
    for p in paths:
        try:
            with Image.open(p) as img:
                modes.append(img.mode)
                sizes.append(img.size)
        except MemoryError:
            raise
        except Exception as e:  # noqa: BLE001
            raise DataError(f"{p}: Pillow cannot open this image ({e or type(e).__name__})") from None
    rgb = any(m not in _GRAY_MAX for m in modes)
    if image_size is None:
        for p, s in zip(paths, sizes):
            if s != sizes[0]:
                raise DataError(
                    f"{p}: image is {s[0]}x{s[1]} but {paths[0].name} is {sizes[0][0]}x{sizes[0][1]}; "
                    "set data.image_size=N to crop and resize every image to N x N"
                )
        if sizes[0][0] != sizes[0][1]:
            raise DataError(
                f"{paths[0]}: images are {sizes[0][0]}x{sizes[0][1]} (width x height), not square; "
                "set data.image_size=N to center-crop and resize them to N x N"
            )

    images = []
    for p in paths:
        with _open_image(p) as img:
            pixels, top = _image_array(img, rgb)
        x = images_to_unit_range(pixels[None], top)  # (1, C, H, W) in [-1, 1]
        images.append(resize_images(x, image_size))  # resized one by one: sizes may differ
    x_all = torch.cat(images)

    n = len(paths)
    n_val = n_test = round(n / 10)
    strata = np.asarray(labels, dtype=np.int64) if class_names else np.zeros(n, dtype=np.int64)
    parts = stratified_split(strata, {"train": n - n_val - n_test, "val": n_val, "test": n_test}, SPLIT_SEED)
    y_all = torch.from_numpy(strata) if class_names else None
    info = DataInfo(name="folder", kind="image", shape=tuple(x_all.shape[1:]), num_classes=len(class_names))
    return Dataset(info, splits_from_indices(x_all, y_all, parts))


__all__ = ["IMAGE_EXTENSIONS", "load_image_folder"]
