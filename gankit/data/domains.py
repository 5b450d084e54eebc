"""Digit domains for domain adaptation, built offline: MNIST-M, 28 x 28 sklearn digits, and two-domain data.

- ``mnistm``: MNIST-M as Ganin et al. (2016) built it: each mnist5k digit is blended with a
  random 28 x 28 patch of a colour photograph, ``pixel = |patch - digit|`` per channel (uint8, the grey
  digit used on all three channels; the patch's photo and position are a seeded draw). Ganin et al. took
  the patches from BSDS500; here they come from the two colour photographs scikit-learn bundles
  (``sklearn.datasets.load_sample_images``: china.jpg and flower.jpg, 427 x 640 each), so nothing is
  downloaded. 3 x 28 x 28, the mnist5k splits (4,000 / 500 / 500) and labels; stored as uint8 codes.
  The digit is used as it is (0..255), not binarised first as some re-creations do.
- ``digits28``: scikit-learn's 8 x 8 digits resized to 28 x 28 (bilinear, :func:`gankit.data.resize.resize_images`),
  1 channel, the ``digits`` splits (1,437 / 180 / 180) and labels; float32 (the resize leaves the code grid).
  With mnist5k it is a pair of independently collected handwriting sets, as USPS and MNIST are in the
  domain-adaptation literature.
- Two-domain datasets ``SOURCE-to-TARGET`` (:data:`TASKS`: ``mnist5k-to-mnistm``, ``digits28-to-mnist5k``,
  ``mnist5k-to-digits28``), see :func:`make_two_domain`: labelled source images (``x``, ``y``) and unlabelled
  target images (``x_target``), with the target's labels kept for evaluation only.

Every draw is fixed by a constant seed of the data (never the run's seed), so every run sees the same images.

Example::

    ds = load_two_domain("mnist5k", "mnistm")
    batch = ds.train.batch(torch.arange(4))    # Batch(x=(4, 3, 28, 28), y=(4,), x_target=(4, 3, 28, 28))
    ds.split("test")                           # MNIST-M's test split: what an adapted classifier is judged on
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from gankit.data.base import DataInfo, Dataset, Split
from gankit.data.digits import load_digits_dataset, load_mnist5k
from gankit.data.resize import resize_images
from gankit.registry import DATASETS

MNISTM_SEED = 20150526  # a constant of MNIST-M: the patches are the same in every run
PAIRING_SEED = 20160530  # a constant of the two-domain datasets: which target row each training row carries
DIGITS28_SIZE = 28
TARGET_FIELD = "x_target"


# ---------------------------------------------------------------------------------------------------
# MNIST-M


def sample_photos() -> list[np.ndarray]:
    """scikit-learn's two bundled colour photographs (china.jpg, flower.jpg), each (427, 640, 3) uint8."""
    from sklearn.datasets import load_sample_images

    return [np.ascontiguousarray(img, dtype=np.uint8) for img in load_sample_images().images]


@dataclass(frozen=True)
class Patches:
    """Where each digit's patch came from: ``photo`` (N,), ``top`` (N,), ``left`` (N,) int64."""

    photo: np.ndarray
    top: np.ndarray
    left: np.ndarray


def draw_patches(n: int, photos: list[np.ndarray], size: int, rng: np.random.Generator) -> Patches:
    """For each of ``n`` digits a photo (uniform) and the top-left corner of a ``size`` x ``size`` patch
    inside it (uniform over every position that fits)."""
    photo = rng.integers(len(photos), size=n)
    heights = np.array([p.shape[0] for p in photos])[photo]
    widths = np.array([p.shape[1] for p in photos])[photo]
    top = rng.integers(0, heights - size + 1)
    left = rng.integers(0, widths - size + 1)
    return Patches(photo, top, left)


def blend(digits: np.ndarray, photos: list[np.ndarray], patches: Patches) -> np.ndarray:
    """MNIST-M's difference blend: ``|patch - digit|`` per channel.

    ``digits`` (N, H, W) uint8 grey digits, ``photos`` (h, w, 3) uint8 colour images; returns
    (N, 3, H, W) uint8 with ``out[i, c] = |photos[p_i][t_i:t_i+H, l_i:l_i+W, c] - digits[i]|``."""
    n, h, w = digits.shape
    out = np.empty((n, 3, h, w), dtype=np.uint8)
    for i in range(n):
        patch = photos[patches.photo[i]][patches.top[i]:patches.top[i] + h, patches.left[i]:patches.left[i] + w]
        diff = np.abs(patch.astype(np.int16) - digits[i].astype(np.int16)[:, :, None])  # (H, W, 3)
        out[i] = diff.transpose(2, 0, 1).astype(np.uint8)
    return out


def make_mnistm(mnist: Dataset, photos: list[np.ndarray], seed: int = MNISTM_SEED, name: str = "mnistm") -> Dataset:
    """MNIST-M from a 1-channel 8-bit digit dataset (uint8 codes, x_max 255): every split blended with
    patches of ``photos``, the same splits and labels. Split k ("train", "val", "test" in that order) draws
    its patches from ``numpy.random.default_rng([seed, k])``, so the result is a function of the inputs."""
    if mnist.info.channels != 1 or mnist.train.x_max != 255:
        raise ValueError(f"MNIST-M blends 1-channel 8-bit digits, got {mnist.info}")
    splits = {}
    for k, (split_name, split) in enumerate(mnist.splits.items()):
        digits = split.x[:, 0].numpy()
        patches = draw_patches(len(digits), photos, digits.shape[-1], np.random.default_rng([seed, k]))
        splits[split_name] = Split(torch.from_numpy(blend(digits, photos, patches)), split.y, x_max=255)
    info = DataInfo(name=name, kind="image", shape=(3, *mnist.info.shape[1:]), num_classes=mnist.info.num_classes)
    return Dataset(info, splits)


def load_mnistm() -> Dataset:
    """MNIST-M from mnist5k and scikit-learn's two photographs (:func:`make_mnistm`)."""
    return make_mnistm(load_mnist5k(), sample_photos())


LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights of R, G, B: the grey a colour picture is shown in


def grayscale(codes: torch.Tensor, x_max: float = 255.0) -> torch.Tensor:
    """Colour images (N, 3, H, W) of 8-bit codes -> their BT.601 luma (N, 1, H, W), float32 in [-1, 1]."""
    w = torch.tensor(LUMA, dtype=torch.float64).view(1, 3, 1, 1)
    luma = (codes.double() * w).sum(dim=1, keepdim=True) / x_max  # in [0, 1]
    return (luma * 2 - 1).float()


def load_mnistm_gray() -> Dataset:
    """``mnistm-gray``: gray -> colour pairs for image-to-image translation (colourisation): the target
    ``x`` is the MNIST-M image, the input ``x_a`` its luma (:func:`grayscale`), 1 x 28 x 28; MNIST-M's splits
    and labels. A colouriser must invent the photograph's colours from its brightness alone."""
    from gankit.data.paired import INPUT_FIELD

    mnistm = load_mnistm()
    splits = {k: Split(s.x, s.y, {INPUT_FIELD: grayscale(s.x, s.x_max)}, x_max=s.x_max) for k, s in mnistm.splits.items()}
    info = DataInfo(name="mnistm-gray", kind="image", shape=mnistm.info.shape, num_classes=mnistm.info.num_classes,
                    extra_fields=((INPUT_FIELD, (1, *mnistm.info.shape[1:])),))
    return Dataset(info, splits)


# ---------------------------------------------------------------------------------------------------
# digits28


def load_digits28(size: int = DIGITS28_SIZE) -> Dataset:
    """scikit-learn's digits resized from 8 x 8 to ``size`` x ``size`` (bilinear), the digits splits and labels."""
    digits = load_digits_dataset()
    splits = {k: Split(resize_images(s.float_x(), size), s.y) for k, s in digits.splits.items()}
    return Dataset(DataInfo(name="digits28", kind="image", shape=(1, size, size), num_classes=10), splits)


# ---------------------------------------------------------------------------------------------------
# Two domains


@dataclass
class TwoDomainDataset(Dataset):
    """A two-domain dataset: its splits, plus each whole domain (channel-matched) and the training pairing.

    ``splits["train"]`` rows are (labelled source image ``x``, ``y``; unlabelled target image ``x_target``);
    ``splits["val"]`` / ``["test"]`` are the TARGET domain's val / test images and labels (``x`` and
    ``x_target`` both hold the target image): what an adapted classifier is judged on. ``source`` and
    ``target`` are the two domains as datasets of their own (the target's training labels live only
    there, for evaluation); ``pairing`` (source rows, target rows), each (N_train,) int64, says which
    source and target training images make training row i.
    """

    source: Dataset | None = None
    target: Dataset | None = None
    pairing: tuple[torch.Tensor, torch.Tensor] = field(default_factory=lambda: (torch.zeros(0), torch.zeros(0)))


def with_channels(dataset: Dataset, channels: int) -> Dataset:
    """``dataset`` with grey images repeated to ``channels`` channels (the same values in each), as the
    domain-adaptation literature feeds MNIST digits to a network built for MNIST-M; unchanged if it has them."""
    c = dataset.info.channels
    if c == channels:
        return dataset
    if c != 1:
        raise ValueError(f"cannot turn {c}-channel {dataset.info.name} images into {channels} channels")
    splits = {k: Split(s.x.repeat(1, channels, 1, 1), s.y, x_max=s.x_max) for k, s in dataset.splits.items()}
    info = DataInfo(name=dataset.info.name, kind="image", shape=(channels, *dataset.info.shape[1:]),
                    num_classes=dataset.info.num_classes)
    return Dataset(info, splits)


def cycled_permutations(n: int, length: int, generator: torch.Generator) -> torch.Tensor:
    """``length`` indices into ``n`` items: fresh seeded permutations of 0..n-1, one after another, cut
    at ``length``; every item appears floor(length/n) or ceil(length/n) times."""
    rounds = -(-length // n)
    return torch.cat([torch.randperm(n, generator=generator) for _ in range(rounds)])[:length]


def make_two_domain(source: Dataset, target: Dataset, seed: int = PAIRING_SEED) -> TwoDomainDataset:
    """The two-domain dataset ``SOURCE-to-TARGET`` (see :class:`TwoDomainDataset`).

    Channels: a grey domain paired with a colour one is repeated to 3 channels (:func:`with_channels`).
    Pairing of the unpaired domains, so that the trainer's one index sampler drives both: the training
    split has N = max(N_source, N_target) rows; row i holds source image ``src[i]`` (with its label) and
    target image ``tgt[i]``, where ``src`` and ``tgt`` are :func:`cycled_permutations` of each domain's
    training images drawn from one generator seeded with ``seed``. The larger domain's images each
    appear once, the smaller one's cycle (each about N / N_small times, with different partners). The
    pairing is fixed; the sampler reshuffles the rows each epoch. ``x_target`` is stored as float32 in
    [-1, 1] (a split's extra fields are handed out as stored: they have no ``x_max``).
    """
    if source.info.shape[1:] != target.info.shape[1:] or source.info.num_classes != target.info.num_classes:
        raise ValueError(f"domains differ in image size or classes: {source.info} vs {target.info}")
    channels = max(source.info.channels, target.info.channels)
    source, target = with_channels(source, channels), with_channels(target, channels)
    s, t = source.train, target.train
    n = max(len(s), len(t))
    g = torch.Generator().manual_seed(seed)
    src, tgt = cycled_permutations(len(s), n, g), cycled_permutations(len(t), n, g)
    splits = {"train": Split(s.x[src], s.y[src], {TARGET_FIELD: t.float_x(tgt)}, x_max=s.x_max)}
    for name in ("val", "test"):
        held = target.split(name)
        splits[name] = Split(held.x, held.y, {TARGET_FIELD: held.float_x().clone()}, x_max=held.x_max)
    shape = (channels, *source.info.shape[1:])
    info = DataInfo(name=f"{source.info.name}-to-{target.info.name}", kind="image", shape=shape,
                    num_classes=source.info.num_classes, extra_fields=((TARGET_FIELD, shape),))
    return TwoDomainDataset(info, splits, source=source, target=target, pairing=(src, tgt))


DOMAINS = {"mnist5k": load_mnist5k, "mnistm": load_mnistm, "digits28": load_digits28}
TASKS = (("mnist5k", "mnistm"), ("digits28", "mnist5k"), ("mnist5k", "digits28"))


def load_two_domain(source: str, target: str) -> TwoDomainDataset:
    """The two-domain dataset of two of :data:`DOMAINS` (e.g. ``load_two_domain("mnist5k", "mnistm")``)."""
    return make_two_domain(DOMAINS[source](), DOMAINS[target]())


DATASETS.register("mnistm", "MNIST-M: mnist5k digits blended with patches of sklearn's 2 photos, |patch - digit|, "
                  "3x28x28, split 4,000 / 500 / 500")(lambda cfg: load_mnistm())
DATASETS.register("mnistm-gray", "gray -> colour pairs: x_a the BT.601 luma of an MNIST-M image, x the image "
                  "(colourisation; MNIST-M's splits and labels)")(lambda cfg: load_mnistm_gray())
DATASETS.register("digits28", "scikit-learn's 8x8 digits resized to 28x28, split 1,437 / 180 / 180")(
    lambda cfg: load_digits28())


def _task_factory(source: str, target: str):
    return lambda cfg: load_two_domain(source, target)


for _source, _target in TASKS:
    DATASETS.register(f"{_source}-to-{_target}",
                      f"two domains: labelled {_source} (x, y) and unlabelled {_target} (x_target); "
                      f"val / test are {_target}'s")(_task_factory(_source, _target))
