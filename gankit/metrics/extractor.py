"""The bundled digit-classifier feature extractor for FID and KID on digit images.

Inception-v3 features mean little on 28x28 grey digits (and its weights cannot be downloaded on every
machine), so, like TF-GAN's MNIST classifier, gankit ships a small CNN trained on the digits
themselves. Its 128-dim penultimate activations are the features FID/KID compare.

Two weight files ship in ``gankit/metrics/weights/``:

- ``digit-mnist5k.safetensors``: trained on the mnist5k TRAIN split (28x28 images).
- ``digit-digits.safetensors``: trained on the scikit-learn digits TRAIN split (8x8 images).

Each has a JSON sidecar (same stem, ``.json``) recording how it was trained (dataset, split, epochs,
seed, val/test accuracy, torch version, date, command) and the SHA-256 of the weights file. Every
score computed with an extractor carries ``extractor.name`` and ``extractor.sha256``, because a FID
is only comparable with another FID from the same weights. The weights are reproduced by
``python scripts/train_digit_classifier.py --dataset mnist5k`` (and ``--dataset digits``).

Example::

    from gankit.metrics import load_extractor
    extractor = load_extractor("digit-mnist5k")
    feats = extractor(images)          # images (N, 1, 28, 28) in [-1, 1] -> (N, 128) float32
    labels = extractor.classify(images)  # (N,) int64
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import GankitError

FEATURE_DIM = 128
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

# Extractor name -> the image side its network is built for. The name picks the architecture;
# the weights file (shipped or given by ``path``) fills it, and its hash tells the weights apart.
EXTRACTORS: dict[str, int] = {"digit-mnist5k": 28, "digit-digits": 8}


class WeightsError(GankitError, ValueError):
    """A feature extractor's weights file is missing, corrupt, or holds tensors of the wrong shape."""


class DigitClassifier(nn.Module):
    """A small CNN digit classifier: two conv-conv-pool blocks, a 128-dim feature layer, a 10-way head.

    ``image_size`` must be a multiple of 4 (28 for mnist5k, 8 for the 8x8 digits); inputs are
    (N, 1, image_size, image_size) images in [-1, 1]. There is no batch norm, so the network is a
    fixed function of its weights in eval mode (dropout is the only train/eval difference).

    Example::

        net = DigitClassifier(28)
        logits = net(torch.zeros(2, 1, 28, 28))   # (2, 10)
        feats = net.features(torch.zeros(2, 1, 28, 28))  # (2, 128)
    """

    def __init__(self, image_size: int, width: int = 16, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__()
        if image_size % 4 != 0:
            raise ValueError(f"image_size must be a multiple of 4 (two 2x2 poolings), got {image_size}")
        self.image_size = image_size
        c1, c2 = width, 2 * width
        # padding=1 keeps the side through each conv, so only the pools shrink it: s -> s/2 -> s/4.
        self.body = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c1, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c2, c2, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.embed = nn.Sequential(
            nn.Dropout(0.25), nn.Linear(c2 * (image_size // 4) ** 2, feature_dim), nn.ReLU()
        )
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(feature_dim, 10))
        # A fixed scale on the features, set once after training (see calibrate_feature_scale) so that
        # the mean squared feature is 1 on the training split: KID's kernel (x.y/d + 1)^3 then works
        # at the scale it was designed for, instead of giving values in the thousands. It is stored in
        # the weights file, so the file's hash covers it.
        self.register_buffer("feature_scale", torch.ones(()))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (N, 128) after ReLU, times the calibrated scale: what FID and KID compare."""
        return self.embed(self.body(x)) * self.feature_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (N, 10)."""
        return self.head(self.features(x))


class FeatureExtractor:
    """A frozen feature extractor with a fingerprint: ``name``, ``sha256`` of its weights file, ``dim``.

    Calling it maps images (N, *image_shape) in [-1, 1] to features (N, dim) float32 on the CPU,
    in batches, in eval mode, without gradients. ``classify`` returns the predicted labels.

    Example::

        extractor = load_extractor("digit-mnist5k")
        extractor.fingerprint()  # {'extractor': 'digit-mnist5k', 'extractor_sha256': '...'}
        feats = extractor(images, batch_size=256)
    """

    def __init__(
        self,
        name: str,
        net: DigitClassifier,
        sha256: str,
        path: Path | None = None,
        metadata: dict[str, Any] | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        self.name = name
        self.net = net.eval().requires_grad_(False).to(device)
        self.sha256 = sha256
        self.path = path
        self.metadata = dict(metadata or {})
        self.device = torch.device(device)
        self.dim = FEATURE_DIM
        self.image_shape: tuple[int, int, int] = (1, net.image_size, net.image_size)

    def to(self, device: torch.device | str) -> FeatureExtractor:
        """Move the network to ``device`` (features still come back on the CPU)."""
        self.device = torch.device(device)
        self.net.to(self.device)
        return self

    def fingerprint(self) -> dict[str, str]:
        return {"extractor": self.name, "extractor_sha256": self.sha256}

    def _check(self, images: torch.Tensor) -> None:
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"extractor {self.name!r} takes images of shape (N, {', '.join(map(str, self.image_shape))}), "
                f"got {tuple(images.shape)}"
            )

    @torch.no_grad()
    def _map(self, fn: Any, images: torch.Tensor, batch_size: int) -> torch.Tensor:
        self._check(images)
        # The net is always in eval mode (set in __init__); nothing here can switch it back.
        out = [fn(chunk.to(self.device, torch.float32)).cpu() for chunk in images.split(batch_size)]
        return torch.cat(out) if out else torch.empty(0)

    def __call__(self, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Features (N, 128) float32 on the CPU."""
        return self._map(self.net.features, images, batch_size).float()

    def classify(self, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Predicted digit labels (N,) int64."""
        return self._map(lambda x: self.net(x).argmax(dim=1), images, batch_size)

    def __repr__(self) -> str:
        return f"FeatureExtractor({self.name!r}, sha256={self.sha256[:12]}.., dim={self.dim})"


def weights_path(name: str) -> Path:
    """Where the shipped weights of extractor ``name`` live."""
    return WEIGHTS_DIR / f"{name}.safetensors"


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar that describes a weights file: same folder and stem, suffix ``.json``."""
    return Path(path).with_suffix(".json")


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _read_sidecar(path: Path) -> dict[str, Any]:
    side = sidecar_path(path)
    if not side.is_file():
        return {}
    try:
        data = json.loads(side.read_text())
    except (OSError, ValueError):
        raise WeightsError(f"extractor sidecar {side} is not valid JSON") from None
    return data if isinstance(data, dict) else {}


def _load_tensors(path: Path, net: nn.Module) -> tuple[dict[str, torch.Tensor], str]:
    """Read the file once, hash those bytes and parse them, so the hash describes the weights in use."""
    from safetensors.torch import load as load_safetensors  # never torch.load: no pickle, no code

    if not path.is_file():
        raise WeightsError(f"extractor weights not found: {path}")
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        tensors = load_safetensors(data)
    except Exception as e:  # safetensors raises its own error types for truncated or garbled files
        raise WeightsError(f"extractor weights {path} are not a valid safetensors file ({type(e).__name__})") from None
    expected = net.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        what = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise WeightsError(f"extractor weights {path} do not fit {type(net).__name__}: {what}")
    for key, want in expected.items():
        got = tensors[key]
        if tuple(got.shape) != tuple(want.shape):
            raise WeightsError(
                f"extractor weights {path}: tensor {key!r} has shape {tuple(got.shape)}, expected {tuple(want.shape)}"
            )
        if not got.is_floating_point() or not torch.isfinite(got).all():
            raise WeightsError(f"extractor weights {path}: tensor {key!r} is not finite floating point")
    return {k: v.to(torch.float32) for k, v in tensors.items()}, sha256


def load_extractor(
    name: str = "digit-mnist5k",
    path: str | Path | None = None,
    sha256: str | None = None,
    device: torch.device | str = "cpu",
) -> FeatureExtractor:
    """Load a digit-classifier feature extractor.

    ``name`` picks the architecture (``digit-mnist5k``: 28x28 images, ``digit-digits``: 8x8) and, when
    ``path`` is None, the shipped weights file. ``path`` loads other weights into the same network.
    The weights' SHA-256 is checked against ``sha256`` when given, else against the sidecar's when the
    sidecar records one. Any problem with the file raises :class:`WeightsError` naming it.

    Example::

        extractor = load_extractor()                       # shipped digit-mnist5k weights
        mine = load_extractor("digit-mnist5k", path="my-weights.safetensors")
    """
    if name not in EXTRACTORS:
        raise WeightsError(f"unknown feature extractor {name!r}; choose one of: {', '.join(EXTRACTORS)}")
    file = Path(path).expanduser() if path is not None else weights_path(name)
    net = DigitClassifier(EXTRACTORS[name])
    tensors, digest = _load_tensors(file, net)
    metadata = _read_sidecar(file)
    want = sha256 or metadata.get("sha256")
    if want and want.lower() != digest:
        raise WeightsError(f"extractor weights {file} have sha256 {digest[:12]}.., expected {str(want)[:12]}..")
    net.load_state_dict(tensors)
    return FeatureExtractor(name, net, digest, path=file, metadata=metadata, device=device)


@torch.no_grad()
def calibrate_feature_scale(net: DigitClassifier, images: torch.Tensor, batch_size: int = 500) -> float:
    """Set ``net.feature_scale`` so the mean squared feature over ``images`` (the training split) is 1."""
    was_training = net.training
    net.eval()
    net.feature_scale.fill_(1.0)
    sq = torch.cat([net.features(chunk).double().pow(2).mean(dim=1) for chunk in images.split(batch_size)])
    net.feature_scale.fill_(float(sq.mean().rsqrt()))
    net.train(was_training)
    return float(net.feature_scale)


def extractor_for(info: DataInfo, device: torch.device | str = "cpu") -> FeatureExtractor | None:
    """The shipped extractor for a dataset's image shape, or None when gankit has none for it.

    (1, 28, 28) -> ``digit-mnist5k``; (1, 8, 8) -> ``digit-digits``; anything else -> None.

    Example::

        extractor = extractor_for(load_mnist5k().info)   # digit-mnist5k
    """
    if info.kind != "image" or len(info.shape) != 3 or info.shape[0] != 1:
        return None
    for name, side in EXTRACTORS.items():
        if info.shape[1:] == (side, side):
            return load_extractor(name, device=device)
    return None
