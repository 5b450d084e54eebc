"""Inception-v3 in its FID form (the TF 2015-12-05 graph ported as ``pt_inception-2015-12-05``), in plain torch.

FID and IS in papers use the TensorFlow Inception graph of 2015-12-05, not torchvision's Inception:
its blocks differ (average pools that ignore padding, a max pool in the last block) and its head has
1008 classes. This module rebuilds that network (same module names as pytorch-fid / torchvision, so
the published state_dict loads unchanged) without depending on torchvision, and returns the 2048-d
final average-pool features that FID compares, plus the 1008-way logits for the Inception Score.

Weights are never downloaded at run time. They load from, in order: the ``path`` argument, the
``GANKIT_INCEPTION_WEIGHTS`` environment variable, or ``<cache>/pt_inception-2015-12-05-6726825d.pth``
(cache: ``$GANKIT_CACHE`` or ``~/.cache/gankit``). The file is read with ``torch.load(weights_only=True)``
(no pickled code), hashed, and checked: against ``sha256`` when given, else against the SHA-256 prefix
``6726825d`` that the published file name carries (the torch.hub convention).

Preprocessing (the pytorch-fid FID form): images in [-1, 1] -> grey repeated to 3 channels ->
bilinear resize to 299 x 299 (align_corners=False, on the [0, 1] scale) -> back to [-1, 1].

Example::

    extractor = load_inception()                    # GankitError naming where to put the file if absent
    feats = extractor(images)                      # (N, 2048) float32
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import GankitError
from gankit.metrics.extractor import WeightsError
from gankit.metrics.result import cache_dir

WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_NAME
SHA256_PREFIX = "6726825d"
FEATURE_DIM = 2048
NUM_CLASSES = 1008


class BasicConv2d(nn.Module):
    """conv (no bias) -> batch norm (eps 1e-3) -> ReLU, the unit of every Inception block."""

    def __init__(self, cin: int, cout: int, **kwargs: object) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)  # type: ignore[arg-type]
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    # TensorFlow's average pool leaves padded zeros out of the mean: count_include_pad=False.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_avg_pool(x))], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        row, col = {"kernel_size": (1, 7), "padding": (0, 3)}, {"kernel_size": (7, 1), "padding": (3, 0)}
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, **row)
        self.branch7x7_3 = BasicConv2d(c7, 192, **col)
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, **col)
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, **row)
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, **col)
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, **row)
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = x
        for i in range(1, 6):
            bd = getattr(self, f"branch7x7dbl_{i}")(bd)
        return torch.cat([self.branch1x1(x), b7, bd, self.branch_pool(_avg_pool(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = x
        for i in range(1, 5):
            b7 = getattr(self, f"branch7x7x3_{i}")(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    """``max_pool``: the FID graph's last block (Mixed_7c) pools with max instead of average."""

    def __init__(self, cin: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat([self.branch1x1(x), b3, bd, self.branch_pool(pooled)], 1)


class FIDInceptionV3(nn.Module):
    """The FID Inception-v3: ``features`` (N, 3, H, W) in [-1, 1] at 299 -> (N, 2048); ``head`` -> 1008 logits."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, c7=128)
        self.Mixed_6c = InceptionC(768, c7=160)
        self.Mixed_6d = InceptionC(768, c7=160)
        self.Mixed_6e = InceptionC(768, c7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, max_pool=False)
        self.Mixed_7c = InceptionE(2048, max_pool=True)
        self.fc = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    @property
    def head(self) -> nn.Module:
        return self.fc

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, kernel_size=3, stride=2)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


def preprocess(images: torch.Tensor, size: int = 299) -> torch.Tensor:
    """[-1, 1] images (N, 1 or 3, H, W) -> (N, 3, size, size) in [-1, 1], resized as pytorch-fid does."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"Inception takes (N, 1 or 3, H, W) images, got {tuple(images.shape)}")
    x = images.float()
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    x01 = F.interpolate((x + 1) / 2, size=(size, size), mode="bilinear", align_corners=False)
    return 2 * x01 - 1


def default_weights_path() -> Path:
    env = os.environ.get("GANKIT_INCEPTION_WEIGHTS")
    return Path(env).expanduser() if env else cache_dir() / WEIGHTS_NAME


class InceptionExtractor:
    """Frozen FID Inception-v3 with a fingerprint; same interface as the digit FeatureExtractor.

    ``extractor(images)`` -> (N, 2048) pool features; ``extractor.net.head(features)`` -> 1008 logits.
    """

    def __init__(self, net: FIDInceptionV3, sha256: str, path: Path | None, device: torch.device | str = "cpu") -> None:
        self.name = "inception-v3-fid"
        self.net = net.eval().requires_grad_(False).to(device)
        self.sha256, self.path, self.device = sha256, path, torch.device(device)
        self.dim = FEATURE_DIM
        self.preprocessing = "[-1,1] -> grey x3 -> bilinear 299x299 (align_corners=False) -> [-1,1]"

    def fingerprint(self) -> dict[str, str]:
        return {"extractor": self.name, "extractor_sha256": self.sha256}

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int = 50) -> torch.Tensor:
        out = [self.net.features(preprocess(chunk.to(self.device))).float().cpu() for chunk in images.split(batch_size)]
        return torch.cat(out) if out else torch.empty(0, FEATURE_DIM)

    @torch.no_grad()
    def classify(self, images: torch.Tensor, batch_size: int = 50) -> torch.Tensor:
        return self.net.head(self(images, batch_size)).argmax(1)


def load_inception(path: str | Path | None = None, sha256: str | None = None,
                   device: torch.device | str = "cpu") -> InceptionExtractor:
    """Load the FID Inception-v3 weights (see the module docstring for where they are looked for).

    Raises :class:`GankitError` when the file is absent (naming where to put it and where it is
    published) and :class:`WeightsError` when its checksum or its tensors do not fit.
    """
    file = Path(path).expanduser() if path is not None else default_weights_path()
    if not file.is_file():
        raise GankitError(
            f"Inception-v3 weights not found at {file}; gankit never downloads at run time: fetch {WEIGHTS_URL} "
            f"on a connected machine and put it there (or pass path= / set GANKIT_INCEPTION_WEIGHTS)"
        )
    data = file.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256.lower():
        raise WeightsError(f"Inception weights {file} have sha256 {digest[:12]}.., expected {sha256[:12]}..")
    if sha256 is None and not digest.startswith(SHA256_PREFIX):
        raise WeightsError(
            f"Inception weights {file} have sha256 {digest[:12]}.., the published {WEIGHTS_NAME} starts with "
            f"{SHA256_PREFIX} (pass sha256= to load other weights on purpose)"
        )
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - pickle / zip errors of many kinds for a corrupt file
        raise WeightsError(f"Inception weights {file} are not a readable torch state_dict ({type(e).__name__})") from None
    net = FIDInceptionV3()
    # BatchNorm's num_batches_tracked counters are training bookkeeping; older files lack them.
    expected = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        what = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise WeightsError(f"Inception weights {file} do not fit the FID Inception-v3: {what}")
    for key, want in expected.items():
        if tuple(state[key].shape) != tuple(want.shape):
            raise WeightsError(f"Inception weights {file}: {key!r} has shape {tuple(state[key].shape)}, expected {tuple(want.shape)}")
    net.load_state_dict(state, strict=False)
    return InceptionExtractor(net, digest, file, device)


__all__ = ["WEIGHTS_NAME", "WEIGHTS_URL", "FIDInceptionV3", "InceptionExtractor", "load_inception", "preprocess"]
