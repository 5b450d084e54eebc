"""A folder of images (``folder``): :func:`load_image_folder`.

``root/CLASS_NAME/*.png`` (also jpg, jpeg, bmp, gif, webp); labels follow the sorted class-folder
names. A folder of images with no class folders is one unlabelled set. Split 80/10/10, stratified by
class and fixed by a constant seed (never the run's seed). 8-bit pixels are stored as uint8 codes and
reach a model as float32 in [-1, 1]; ``image_size`` center-crops and resizes with
:func:`gankit.data.resize.resize_images`. A folder larger than ``data.memory_budget_mb`` stays on
disk (:class:`FolderImages`) and is read on demand.

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
from typing import Any, Callable

import numpy as np
import torch

from gankit.data.base import DataInfo, Dataset, Split, images_to_unit_range, splits_from_indices, stratified_split
from gankit.data.digits import SPLIT_SEED
from gankit.data.resize import center_crop_square, resize_images, resize_keeps_codes
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


def collect_class_folders(root: Path, list_files: Callable[[Path], list[Path]], what: str, usage: str
                          ) -> tuple[list[Path], list[int], list[str]]:
    """Files of a folder and their labels: either the files directly in ``root`` (unlabelled: no labels,
    no class names) or one sub-folder per class (labels by sorted folder name). ``list_files`` lists one
    folder's files, sorted; ``what`` names them in errors ("images (.png, ...)"); ``usage`` says what the
    dataset needs when ``root`` is not a folder."""
    if not root.is_dir():
        raise DataError(f"{root}: {usage}, not a file")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = list_files(root)
    if not class_dirs:
        if not loose:
            raise DataError(f"{root}: empty: no class folders and no {what}")
        return loose, [], []
    if loose:
        raise DataError(
            f"{loose[0]}: file next to class folders ({', '.join(p.name for p in class_dirs[:3])}); "
            f"move loose files into a class folder, or point data.root at a folder of {what} only"
        )
    paths: list[Path] = []
    labels: list[int] = []
    for label, d in enumerate(class_dirs):
        found = list_files(d)
        if not found:
            raise DataError(f"{d}: class folder holds no {what}; remove it or add some")
        paths += found
        labels += [label] * len(found)
    return paths, labels, [d.name for d in class_dirs]


def _collect_folder(root: Path) -> tuple[list[Path], list[int], list[str]]:
    """Image paths, their labels, and the class names (empty for an unlabelled folder)."""
    return collect_class_folders(root, _list_images, f"images ({', '.join(IMAGE_EXTENSIONS)})",
                                 "data.name=folder needs a folder of class folders of images")


def read_image_headers(paths: list[Path]) -> tuple[list[str], list[tuple[int, int]]]:
    """The Pillow mode and (width, height) of every image, from its header only (nothing is decoded);
    a file Pillow cannot open is a one-line DataError naming it."""
    from PIL import Image

    modes, sizes = [], []
    for p in paths:
        try:
            with Image.open(p) as img:
                modes.append(img.mode)
                sizes.append(img.size)
        except MemoryError:
            raise
        except Exception as e:  # noqa: BLE001 - Pillow raises many types for a bad file
            raise DataError(f"{p}: Pillow cannot open this image ({e or type(e).__name__})") from None
    return modes, sizes


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


def _is_8bit(mode: str) -> bool:
    """Whether an image of this Pillow mode becomes 8-bit codes 0..255: everything but 16-bit gray.
    Mode "1" (0 / 1) maps to codes 0 / 255, which convert to the same -1.0 / 1.0 as its own scale does."""
    return _GRAY_MAX.get(mode, 255.0) in (1.0, 255.0)


def _decode(path: Path, rgb: bool, image_size: int | None) -> torch.Tensor:
    """One image as the model sees it: (C, S, S) float32 in [-1, 1], center-cropped and resized."""
    with _open_image(path) as img:
        pixels, top = _image_array(img, rgb)
    return resize_images(images_to_unit_range(pixels[None], top), image_size)[0]


def _decode_codes(path: Path, rgb: bool, image_size: int | None) -> torch.Tensor:
    """One 8-bit image as uint8 codes (C, S, S), only center-cropped: ``image_size`` must keep codes
    (:func:`gankit.data.resize.resize_keeps_codes`). Converts to exactly what :func:`_decode` gives."""
    with _open_image(path) as img:
        pixels, top = _image_array(img, rgb)
    codes = torch.from_numpy(np.ascontiguousarray(pixels * (255.0 / top), dtype=np.uint8))  # "1": 0/1 -> 0/255
    return center_crop_square(codes) if image_size is not None else codes


class FolderImages:
    """The images of a folder split, left on disk and read on demand: rows of an (N, C, S, S) float32 array.

    What a :class:`~gankit.data.base.Split` holds as ``x`` for an image folder larger than
    ``data.memory_budget_mb``. ``images[i]`` decodes one image, ``images[index]`` (a tensor, list or slice)
    stacks several; each is exactly the row the in-memory split would hold (after conversion). It pickles
    as a list of paths, so DataLoader worker processes read the files themselves.

    Example::

        images = FolderImages(paths, rgb=True, image_size=None, shape=(3, 32, 32))
        images[torch.tensor([0, 5])].shape   # (2, 3, 32, 32)
    """

    dtype = torch.float32
    device = torch.device("cpu")

    def __init__(self, paths: list[Path], rgb: bool, image_size: int | None, shape: tuple[int, ...]) -> None:
        self.paths, self.rgb, self.image_size, self.sample_shape = list(paths), rgb, image_size, tuple(shape)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.paths), *self.sample_shape)

    def read(self, i: int) -> torch.Tensor:
        """Image ``i`` as (C, S, S) float32 in [-1, 1]."""
        return _decode(self.paths[i], self.rgb, self.image_size)

    def __getitem__(self, index: int | slice | list[int] | torch.Tensor | np.ndarray) -> torch.Tensor:
        if isinstance(index, (int, np.integer)) or (isinstance(index, torch.Tensor) and index.dim() == 0):
            return self.read(int(index))
        rows = range(len(self))[index] if isinstance(index, slice) else [int(i) for i in index]
        out = torch.empty((len(rows), *self.sample_shape), dtype=torch.float32)
        for k, i in enumerate(rows):
            out[k] = self.read(i)
        return out

    def subset(self, index: np.ndarray) -> "FolderImages":
        """The images at ``index``, still on disk."""
        return FolderImages([self.paths[int(i)] for i in index], self.rgb, self.image_size, self.sample_shape)

    def __repr__(self) -> str:
        return f"FolderImages({len(self)} images of {self.sample_shape} on disk)"


def load_image_folder(root: str | os.PathLike, image_size: int | None = None,
                      memory_budget_mb: float | None = None) -> Dataset:
    """Load ``root/CLASS_NAME/*.png`` (jpg, jpeg, bmp, gif, webp; any case) as a labelled image dataset.

    Labels are the positions of the class folders in sorted order. A folder of images without class
    folders is one unlabelled set (``num_classes`` 0, ``y`` None). Images stay one channel only if every
    image is grayscale (Pillow modes ``1``, ``L``, ``I``, ``I;16``); otherwise all become RGB. An
    animated GIF or WebP gives its first frame. Without ``image_size`` every image must have one
    square size; with it, each is center-cropped to a square and resized by :func:`resize_images`.
    Splits: 80 / 10 / 10 (val and test are ``round(n / 10)`` each), stratified by class.

    Storage: 8-bit images that no resize changes are held as uint8 codes; 16-bit ones and resized ones
    as float32 (see :class:`~gankit.data.base.Split`). When that would take more than
    ``memory_budget_mb`` MiB (None: no limit), nothing is decoded now: every split's ``x`` is a
    :class:`FolderImages` that reads the files on demand, and training streams them through a
    DataLoader (:func:`gankit.data.sampler.make_batch_stream`).

    Example::

        ds = load_image_folder("data/flowers", image_size=64)
        ds.info.num_classes, ds.info.shape  # (5, (3, 64, 64))
    """
    folder = Path(root).expanduser()
    paths, labels, class_names = _collect_folder(folder)

    # First pass reads headers only (cheap), so a size problem is reported before anything is decoded.
    modes, sizes = read_image_headers(paths)
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

    n = len(paths)
    side = image_size if image_size is not None else sizes[0][0]
    shape = (3 if rgb else 1, side, side)
    as_codes = all(_is_8bit(m) for m in modes) and all(resize_keeps_codes((h, w), image_size) for w, h in sizes)
    nbytes = n * int(np.prod(shape)) * (1 if as_codes else 4)
    streamed = memory_budget_mb is not None and nbytes > memory_budget_mb * 2**20

    if not streamed:
        from gankit.limits import check_memory

        check_memory(nbytes, "data.image_size" if image_size is not None else "data.memory_budget_mb",
                     f"{n:,} decoded images of shape {shape} held in memory (data.memory_budget_mb=null never "
                     "streams them)", DataError,
                     advice="set data.memory_budget_mb to a number (the folder then streams from disk)"
                     + (" or lower data.image_size" if image_size is not None else ""))
    if streamed:
        x_all: Any = FolderImages(paths, rgb, image_size, shape)
        x_max = None
    else:
        # Filled in place, one image at a time: the peak is the stored array, not a list of copies plus it.
        x_all = torch.empty((n, *shape), dtype=torch.uint8 if as_codes else torch.float32)
        decode = _decode_codes if as_codes else _decode
        for i, p in enumerate(paths):
            x_all[i] = decode(p, rgb, image_size)
        x_max = 255.0 if as_codes else None

    n_val = n_test = round(n / 10)
    strata = np.asarray(labels, dtype=np.int64) if class_names else np.zeros(n, dtype=np.int64)
    parts = stratified_split(strata, {"train": n - n_val - n_test, "val": n_val, "test": n_test}, SPLIT_SEED)
    y_all = torch.from_numpy(strata) if class_names else None
    info = DataInfo(name="folder", kind="image", shape=shape, num_classes=len(class_names))
    if streamed:
        splits = {name: Split(x_all.subset(idx), None if y_all is None else y_all[torch.from_numpy(idx)])
                  for name, idx in parts.items()}
        return Dataset(info, splits)
    return Dataset(info, splits_from_indices(x_all, y_all, parts, x_max))


__all__ = ["IMAGE_EXTENSIONS", "FolderImages", "load_image_folder"]
