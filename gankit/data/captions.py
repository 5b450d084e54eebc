"""Images with captions, for text-to-image models (StackGAN, :mod:`gankit.models.stackgan`).

``mnist5k-captions``: the mnist5k digits (its splits and labels), each with one caption built
deterministically from what is *measured* on the image, so the text says more than the class and a
generator can be checked against it:

    "a thin, right-slanted, small seven"

Three attributes are measured on the pixels p in [0, 1] of each image (:func:`measure_attributes`):

- **thickness** (pixels): ``2 * mass / outline``, the ink mass ``sum p`` over half the outline length
  ``sum |grad p|`` (central differences, zero padding; a blurred or sharp edge from 0 to 1 adds 1 per unit
  of its length). A stroke of width w and length L has mass w L and outline 2 (L + w), so the figure is
  w L / (L + w), about w for a long stroke;
- **slant** (degrees, positive when the top leans right): ``atan(-mu11 / mu02)`` from the central image
  moments (x to the right, y downwards, ``mu11 = sum p (x - cx)(y - cy)``, ``mu02 = sum p (y - cy)^2``),
  the shear that MNIST deskewing removes; a line leaning by angle t from the vertical gives t;
- **size** (pixels^2): the area h * w of the bounding box of the pixels with p > 0.5.

Each attribute becomes one of three words by the terciles of its values *within the image's digit class*
on mnist5k's train split (:func:`attribute_thresholds`; within class, so "small" means small for that
digit and the words are not a proxy for the class): thickness ``thin / regular / thick``, slant
``left-slanted / upright / right-slanted``, size ``small / mid-sized / large``. The caption is
``"a {thickness}, {slant}, {size} {digit}"``.

The vocabulary (:data:`VOCABULARY`) is fixed: ``<pad>`` (id 0), ``a``, the nine attribute words and the
ten digit names ``zero .. nine``. A caption is stored as token ids (:data:`CAPTION_FIELD`, ``CAPTION_LENGTH``
= 8 ids, right-padded with 0). Typed captions (``gankit sample RUN --text ...``, :func:`parse_digit_caption`)
may also use the synonyms of :data:`SYNONYMS` (``slanted`` = ``right-slanted``, numerals ``0 .. 9``, ...),
any order and punctuation, and may leave attributes out (each one left out is drawn at random per sample);
an unknown word is a :class:`CaptionError` that lists the vocabulary.

Batch fields of ``mnist5k-captions``: ``x``, ``y``, ``caption`` (8,) int64, ``attributes`` (3,) float32
(thickness, slant, size as measured) and ``levels`` (4,) int64 (digit, thickness, slant and size word index).

``caption-folder``: a user's own captioned images, ``data.root/NAME.png`` (any image type) with its caption
in ``data.root/NAME.txt``; an image without its ``.txt`` is a :class:`DataError` naming it. The vocabulary is
the sorted set of lower-cased words of all captions (split on anything that is not a letter, digit, ``-`` or
``'``), the caption length the longest caption's; batches hold ``x`` and ``caption``. Split 80 / 10 / 10 by
a seeded permutation of the sorted names.

Example::

    ds = load_mnist5k_captions()
    ds.captions("test")[:2]          # ['a regular, upright, mid-sized zero', ...]
    ds.vocab.encode("a thin, upright, large one")   # tensor([1, 2, 6, 10, 12, 0, 0, 0])
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from gankit.data.base import SPLITS, DataInfo, Dataset, Split
from gankit.data.digits import SPLIT_SEED, load_mnist5k
from gankit.data.folder import IMAGE_EXTENSIONS, FolderImages, read_image_headers
from gankit.errors import DataError, GankitError
from gankit.registry import DATASETS

CAPTION_FIELD = "caption"
ATTRIBUTES_FIELD = "attributes"
LEVELS_FIELD = "levels"
CAPTION_LENGTH = 8
PAD = "<pad>"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ATTRIBUTE_NAMES = ("thickness", "slant", "size")
ATTRIBUTE_WORDS = {
    "thickness": ("thin", "regular", "thick"),
    "slant": ("left-slanted", "upright", "right-slanted"),
    "size": ("small", "mid-sized", "large"),
}
VOCABULARY = (PAD, "a", *(w for words in ATTRIBUTE_WORDS.values() for w in words), *DIGITS)
SYNONYMS = {"an": "a", "slanted": "right-slanted", "straight": "upright", "big": "large", "medium": "mid-sized",
            "bold": "thick", "fat": "thick", "skinny": "thin", **{str(k): name for k, name in enumerate(DIGITS)}}
INK_THRESHOLD = 0.5  # pixels above this count for the bounding box
_WORD = re.compile(r"[a-z0-9'\-<>]+")


class CaptionError(GankitError, ValueError):
    """A caption the vocabulary cannot express (an unknown word, two values of one attribute)."""


# ------------------------------------------------------------------------------------------------
# Measuring the attributes.


def measure_attributes(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """(N, 3) float64 (thickness px, slant degrees, size px^2) of grey images (N, 1, H, W) in [-1, 1].

    The definitions are in the module docstring. An empty image (no ink) gets (0, 0, 0).

    Example::

        measure_attributes(dataset.split("test").float_x())   # (500, 3)
    """
    x = torch.as_tensor(images).detach().to("cpu", torch.float64).numpy()
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"attributes are measured on grey images (N, 1, H, W); got shape {x.shape}")
    p = np.clip((x[:, 0] + 1.0) / 2.0, 0.0, 1.0)  # (N, H, W) ink in [0, 1]
    n, h, w = p.shape
    mass = p.sum(axis=(1, 2))
    padded = np.pad(p, ((0, 0), (1, 1), (1, 1)))
    gx = (padded[:, 1:-1, 2:] - padded[:, 1:-1, :-2]) / 2.0
    gy = (padded[:, 2:, 1:-1] - padded[:, :-2, 1:-1]) / 2.0
    outline = np.sqrt(gx * gx + gy * gy).sum(axis=(1, 2))
    thickness = np.where(outline > 0, 2.0 * mass / np.maximum(outline, 1e-12), 0.0)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    safe = np.maximum(mass, 1e-12)
    cx = (p * xs).sum(axis=(1, 2)) / safe
    cy = (p * ys).sum(axis=(1, 2)) / safe
    dx, dy = xs[None] - cx[:, None, None], ys[None] - cy[:, None, None]
    mu11 = (p * dx * dy).sum(axis=(1, 2))
    mu02 = (p * dy * dy).sum(axis=(1, 2))
    slant = np.degrees(np.arctan(np.where(mu02 > 0, -mu11 / np.maximum(mu02, 1e-12), 0.0)))
    ink = p > INK_THRESHOLD
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    size = np.zeros(n)
    for i in range(n):
        r, c = np.flatnonzero(rows[i]), np.flatnonzero(cols[i])
        if len(r):
            size[i] = (r[-1] - r[0] + 1) * (c[-1] - c[0] + 1)
    return np.stack([thickness, slant, size], axis=1)


def attribute_thresholds(attributes: np.ndarray, labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """(num_classes, 3, 2): the 1/3 and 2/3 quantiles (numpy's linear rule) of each attribute within each class."""
    out = np.zeros((num_classes, attributes.shape[1], 2))
    for k in range(num_classes):
        out[k] = np.quantile(attributes[labels == k], [1 / 3, 2 / 3], axis=0).T
    return out


def attribute_levels(attributes: np.ndarray, labels: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """(N, 3) int64 word index 0 / 1 / 2 of each attribute: below, between or above its class's terciles."""
    t = thresholds[labels]  # (N, 3, 2)
    return (attributes > t[..., 0]).astype(np.int64) + (attributes > t[..., 1]).astype(np.int64)


def digit_caption(digit: int, levels: tuple[int, int, int] | np.ndarray) -> str:
    """The caption of a digit with attribute word indices (thickness, slant, size).

    Example::

        digit_caption(7, (0, 2, 0))   # 'a thin, right-slanted, small seven'
    """
    words = [ATTRIBUTE_WORDS[name][int(level)] for name, level in zip(ATTRIBUTE_NAMES, levels)]
    return f"a {words[0]}, {words[1]}, {words[2]} {DIGITS[int(digit)]}"


# ------------------------------------------------------------------------------------------------
# Vocabularies and token ids.


def caption_words(text: str) -> list[str]:
    """The lower-cased words of a caption (letters, digits, '-' and "'"; everything else separates)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Vocabulary:
    """Words <-> token ids (id 0 is ``<pad>``) and the fixed caption length.

    ``synonyms`` map typed words onto vocabulary words. ``encode`` gives (length,) int64 ids, right-padded.
    """

    words: tuple[str, ...]
    length: int
    synonyms: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.words or self.words[0] != PAD:
            raise ValueError(f"a vocabulary starts with {PAD!r} (id 0)")

    @property
    def size(self) -> int:
        return len(self.words)

    def describe(self) -> str:
        extra = f" (also: {', '.join(sorted(self.synonyms))})" if self.synonyms else ""
        return ", ".join(self.words[1:]) + extra

    def ids(self, text: str, what: str = "caption") -> list[int]:
        index = {w: i for i, w in enumerate(self.words)}
        out = []
        for word in caption_words(text):
            word = self.synonyms.get(word, word)
            if word not in index or word == PAD:
                raise CaptionError(f"{what}: unknown word {word!r} in {text.strip()!r}; the vocabulary is: "
                                   f"{self.describe()}")
            out.append(index[word])
        if not out:
            raise CaptionError(f"{what}: {text.strip()!r} has no words; the vocabulary is: {self.describe()}")
        if len(out) > self.length:
            raise CaptionError(f"{what}: {text.strip()!r} has {len(out)} words; captions hold at most {self.length}")
        return out

    def encode(self, text: str, what: str = "caption") -> torch.Tensor:
        ids = self.ids(text, what)
        return torch.tensor(ids + [0] * (self.length - len(ids)), dtype=torch.long)

    def decode(self, ids: torch.Tensor) -> str:
        return " ".join(self.words[int(i)] for i in ids if int(i) != 0)


DIGIT_VOCABULARY = Vocabulary(VOCABULARY, CAPTION_LENGTH, SYNONYMS)


def parse_digit_caption(text: str, generator: torch.Generator | None = None, what: str = "--text"
                        ) -> tuple[int, ...]:
    """(digit, thickness, slant, size) word indices of a typed caption in the digit vocabulary.

    Words may come in any order, with synonyms (:data:`SYNONYMS`) and punctuation; ``a`` is optional. An
    attribute (or the digit) left out is drawn uniformly from ``generator`` (one draw per call, so call
    once per sample). Unknown words, or two values of one attribute, are a :class:`CaptionError`.

    Example::

        parse_digit_caption("a thick slanted 3")   # (3, 2, 2, r) with r drawn at random
    """
    slots: dict[str, int] = {}
    for word in caption_words(text):
        word = SYNONYMS.get(word, word)
        if word == "a":
            continue
        if word in DIGITS:
            slot, value = "digit", DIGITS.index(word)
        else:
            found = [(name, words.index(word)) for name, words in ATTRIBUTE_WORDS.items() if word in words]
            if not found:
                raise CaptionError(f"{what}: unknown word {word!r} in {text.strip()!r}; the vocabulary is: "
                                   f"{DIGIT_VOCABULARY.describe()}")
            slot, value = found[0]
        if slot in slots and slots[slot] != value:
            raise CaptionError(f"{what}: {text.strip()!r} names two values of the {slot}; keep one")
        slots[slot] = value
    if not slots:
        raise CaptionError(f"{what}: {text.strip()!r} has no words; e.g. 'a thick, right-slanted, small three'")
    out = []
    for slot, k in (("digit", 10), ("thickness", 3), ("slant", 3), ("size", 3)):
        out.append(slots[slot] if slot in slots else int(torch.randint(k, (1,), generator=generator)))
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# The datasets.


@dataclass
class CaptionDataset(Dataset):
    """A :class:`Dataset` whose batches carry ``caption`` token ids, and the vocabulary that reads them.

    ``digit_grammar`` is True for ``mnist5k-captions``: typed captions go through
    :func:`parse_digit_caption` (synonyms, attributes left out drawn at random), and the attribute
    thresholds (:func:`attribute_thresholds`) are kept in ``thresholds``."""

    vocab: Vocabulary = DIGIT_VOCABULARY
    digit_grammar: bool = False
    thresholds: np.ndarray | None = None

    def captions(self, split: str) -> list[str]:
        return [self.vocab.decode(ids) for ids in self.split(split).extra[CAPTION_FIELD]]


@lru_cache(maxsize=1)
def _mnist5k_captioned() -> tuple[Dataset, np.ndarray, dict[str, dict[str, torch.Tensor]]]:
    base = load_mnist5k()
    measured = {name: measure_attributes(s.float_x()) for name, s in base.splits.items()}
    thresholds = attribute_thresholds(measured["train"], base.train.y.numpy())
    extra = {}
    for name, s in base.splits.items():
        labels = s.y.numpy()
        levels = attribute_levels(measured[name], labels, thresholds)
        ids = torch.stack([DIGIT_VOCABULARY.encode(digit_caption(d, lv)) for d, lv in zip(labels, levels)])
        extra[name] = {CAPTION_FIELD: ids,
                       ATTRIBUTES_FIELD: torch.from_numpy(measured[name].astype(np.float32)),
                       LEVELS_FIELD: torch.from_numpy(np.concatenate([labels[:, None], levels], axis=1))}
    return base, thresholds, extra


def load_mnist5k_captions() -> CaptionDataset:
    """``mnist5k-captions``: mnist5k with a measured caption per image (see the module docstring)."""
    base, thresholds, extra = _mnist5k_captioned()
    splits = {name: Split(s.x.clone(), s.y.clone(), {k: v.clone() for k, v in extra[name].items()}, x_max=s.x_max)
              for name, s in base.splits.items()}
    info = DataInfo(name="mnist5k-captions", kind="image", shape=base.info.shape, num_classes=10,
                    extra_fields=((CAPTION_FIELD, (CAPTION_LENGTH,)), (ATTRIBUTES_FIELD, (3,)),
                                  (LEVELS_FIELD, (4,))))
    return CaptionDataset(info, splits, DIGIT_VOCABULARY, True, thresholds.copy())


def load_caption_folder(root: str | os.PathLike, image_size: int | None = None) -> CaptionDataset:
    """``caption-folder``: ``root/NAME.EXT`` images, each with its caption in ``root/NAME.txt``.

    Images become grey (one channel) if every one is grey, else RGB; without ``image_size`` they must
    share one square size. Errors (no images, an image without a caption, an empty caption, mixed sizes)
    are one-line :class:`DataError`s naming the file.

    Example::

        ds = load_caption_folder("my-captions", image_size=32)
        ds.vocab.words[:4], ds.captions("train")[0]
    """
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DataError(f"data.root: {folder} is not a folder; give a folder of images with a NAME.txt caption each")
    paths = sorted(p for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not paths:
        raise DataError(f"data.root: {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    texts = []
    for p in paths:
        txt = p.with_suffix(".txt")
        if not txt.is_file():
            raise DataError(f"{p}: no caption file {txt.name} beside it; every image needs NAME.txt with its caption")
        text = txt.read_text(encoding="utf-8", errors="replace").strip()
        if not caption_words(text):
            raise DataError(f"{txt}: the caption is empty; write the image's description in it")
        texts.append(text)
    modes, sizes = read_image_headers(paths)
    if image_size is None and any(s != sizes[0] or s[0] != s[1] for s in sizes):
        bad = next(p for p, s in zip(paths, sizes) if s != sizes[0] or s[0] != s[1])
        raise DataError(f"{bad}: images must share one square size; set data.image_size=N to crop and resize them")
    rgb = any(m not in ("1", "L", "I", "I;16", "I;16L") for m in modes)
    side = image_size if image_size is not None else sizes[0][0]
    shape = (3 if rgb else 1, side, side)
    reader = FolderImages(paths, rgb, image_size, shape)
    x = torch.stack([reader.read(i) for i in range(len(paths))])
    words = sorted({w for t in texts for w in caption_words(t)})
    vocab = Vocabulary((PAD, *words), max(len(caption_words(t)) for t in texts))
    ids = torch.stack([vocab.encode(t, str(p.with_suffix(".txt"))) for p, t in zip(paths, texts)])
    n = len(paths)
    n_val = n_test = round(n / 10)
    perm = np.random.default_rng(SPLIT_SEED).permutation(n)
    cuts = {"train": perm[: n - n_val - n_test], "val": perm[n - n_val - n_test: n - n_test], "test": perm[n - n_test:]}
    splits = {}
    for name in SPLITS:
        idx = torch.from_numpy(np.sort(cuts[name]))
        splits[name] = Split(x[idx], None, {CAPTION_FIELD: ids[idx]})
    info = DataInfo(name="caption-folder", kind="image", shape=shape, num_classes=0,
                    extra_fields=((CAPTION_FIELD, (vocab.length,)),))
    return CaptionDataset(info, splits, vocab, False, None)


DATASETS.register("mnist5k-captions", "mnist5k with a caption per image from measured attributes, e.g. "
                  "'a thin, right-slanted, small seven' (caption token ids, attributes, levels)")(
    lambda cfg: load_mnist5k_captions()
)


def _caption_folder(cfg) -> CaptionDataset:
    if cfg.root is None:
        from gankit.errors import ConfigError

        raise ConfigError("data.root: dataset 'caption-folder' reads files; set data.root=PATH to a folder of "
                          "images with a NAME.txt caption each")
    return load_caption_folder(cfg.root, cfg.image_size)


DATASETS.register("caption-folder", "a user's captioned images: data.root/NAME.png with data.root/NAME.txt, "
                  "split 80/10/10")(_caption_folder)


__all__ = ["CAPTION_FIELD", "ATTRIBUTES_FIELD", "LEVELS_FIELD", "CAPTION_LENGTH", "VOCABULARY", "SYNONYMS",
           "ATTRIBUTE_NAMES", "ATTRIBUTE_WORDS", "DIGITS", "DIGIT_VOCABULARY", "CaptionDataset", "CaptionError",
           "Vocabulary", "attribute_levels", "attribute_thresholds", "caption_words", "digit_caption",
           "load_caption_folder", "load_mnist5k_captions", "measure_attributes", "parse_digit_caption"]
