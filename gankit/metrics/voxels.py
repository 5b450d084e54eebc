"""Figures for voxel grids (3D shapes): nearest-neighbour IoU, coverage, and a shape classifier's judgement.

FID and the other image metrics need 2D images and an image feature extractor; voxel runs are scored
here instead, on the grids themselves (occupied where > 0), each figure beside the same figure on real
shapes (:func:`run_voxel_iou`, registered as ``voxel_iou``: the default of ``gankit eval`` and the
end-of-run figure on voxel data):

- ``nn_iou``: memorisation. For each generated shape the IoU of its nearest training shape (the highest
  IoU over the whole train split), averaged; beside the same for the held-out ``split`` shapes, which no
  model saw. A G that copies its training set scores near 1 where held-out real shapes score lower.
  ``copies``: the fraction with nearest-neighbour IoU >= :data:`COPY_IOU` (near copies), beside real.
- ``coverage`` (COV of Achlioptas et al. 2018, with IoU as the similarity): the fraction of the N
  reference shapes that are the nearest reference shape of at least one of N generated ones; beside N
  training shapes in the generated shapes' place (the real-vs-real value at the same N).
- ``mmd_iou`` (their minimum matching distance, as a similarity): for each reference shape the IoU of
  its best-matching generated shape, averaged; beside the same N training shapes.

:func:`train_shape_classifier` trains a small 3D CNN on the real shapes, whose verdicts on generated
shapes give the class accuracy of a class-conditional G and the class coverage of an unconditional one
(:func:`class_judgement`); ``benchmarks/showcase.py`` reports them.

Example::

    iou = iou_matrix(fake, train_x)                 # (N_fake, N_train) float64
    nn = iou.max(dim=1).values.mean()
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gankit.metrics.result import MetricResult, voxel_text

COPY_IOU = 0.9  # nearest-neighbour IoU at or above which a sample counts as a near copy of a training shape
CHUNK = 512


def occupancy(x: torch.Tensor) -> torch.Tensor:
    """Voxel grids (N, 1, S, S, S) in [-1, 1] -> (N, S^3) float32 occupancy (1 where > 0)."""
    return (x.detach().reshape(len(x), -1) > 0).float()


def iou_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of every grid of ``a`` with every grid of ``b``: (N_a, N_b) float64. Grids (N, 1, S, S, S)
    in [-1, 1] (occupied where > 0) or occupancies (N, V). Two empty grids have IoU 1 (they are equal)."""
    A = occupancy(a) if a.dim() > 2 else a.float()
    B = occupancy(b) if b.dim() > 2 else b.float()
    sa, sb = A.sum(1, dtype=torch.float64), B.sum(1, dtype=torch.float64)
    out = torch.empty(len(A), len(B), dtype=torch.float64)
    for i in range(0, len(A), CHUNK):
        inter = (A[i:i + CHUNK] @ B.T).double()  # exact: counts below 2^24
        union = sa[i:i + CHUNK, None] + sb[None, :] - inter
        out[i:i + CHUNK] = torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(inter))
    return out


def nn_stats(fake: torch.Tensor, train: torch.Tensor) -> dict[str, float]:
    """Memorisation: mean nearest-training-shape IoU of ``fake`` and the fraction at or above COPY_IOU."""
    best = iou_matrix(fake, train).max(dim=1).values
    return {"nn_iou": float(best.mean()), "copies": float((best >= COPY_IOU).double().mean())}


def coverage_stats(fake: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    """COV: fraction of reference shapes that are some fake's nearest reference; MMD-IoU: mean over
    reference shapes of their best fake's IoU."""
    iou = iou_matrix(fake, reference)  # (N_fake, N_ref)
    matched = torch.zeros(iou.shape[1], dtype=torch.bool)
    matched[iou.argmax(dim=1)] = True
    return {"coverage": float(matched.double().mean()), "mmd_iou": float(iou.max(dim=0).values.mean())}


def voxel_values(fake: torch.Tensor, train_all: torch.Tensor, reference: torch.Tensor,
                 train_subset: torch.Tensor) -> dict[str, float]:
    """Every voxel figure and its real counterpart (``real_*``), see the module docstring."""
    out = {**nn_stats(fake, train_all), **coverage_stats(fake, reference)}
    real = {**nn_stats(reference, train_all), **coverage_stats(train_subset, reference)}
    return out | {f"real_{k}": v for k, v in real.items()}


def run_voxel_iou(ctx) -> MetricResult:  # ctx: gankit.metrics.context.EvalContext
    """The ``voxel_iou`` metric: :func:`voxel_values` of N generated grids against the split, fingerprinted."""
    if ctx.info.kind != "voxel":
        from gankit.errors import GankitError

        raise GankitError(f"--metrics voxel_iou: needs voxel grids; {ctx.info.name} holds {ctx.info.kind} data")
    train_all = ctx.dataset.split("train").float_x()
    values = ctx.generated(lambda: voxel_values(ctx.fake, train_all, ctx.reference, ctx.train), None)
    if values is None:
        values = {k: float("nan") for k in ("nn_iou", "copies", "coverage", "mmd_iou")}
        real = voxel_values(ctx.reference, train_all, ctx.reference, ctx.train)
        values |= {k: v for k, v in real.items() if k.startswith("real_")}
    fp = ctx.fp("voxel_iou", occupancy="voxel > 0", copy_iou=COPY_IOU, nn_over=f"all {len(train_all)} train shapes",
                real_baseline=f"nn_iou: the {ctx.n} {ctx.split} shapes; coverage / mmd_iou: {ctx.n} train shapes",
                train_sha256=ctx.dataset.split("train").content_sha256())
    return MetricResult("voxel_iou", values, fp, voxel_text(values))


# ---------------------------------------------------------------------------------------------------
# A shape classifier: judges generated shapes


class ShapeClassifier(nn.Module):
    """A small 3D CNN: two conv(4, stride 2) + LeakyReLU stages, then a linear K-way head."""

    def __init__(self, side: int, num_classes: int, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv3d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),
                                  nn.Conv3d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten())
        self.head = nn.Linear(2 * width * (side // 4) ** 3, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def train_shape_classifier(x: torch.Tensor, y: torch.Tensor, num_classes: int, steps: int = 600,
                           batch_size: int = 64, seed: int = 0, lr: float = 1e-3) -> ShapeClassifier:
    """A :class:`ShapeClassifier` trained on real grids ``x`` (N, 1, S, S, S) with labels ``y`` (Adam,
    cross-entropy, seeded batches); returned in eval mode. Deterministic for a given seed on the CPU."""
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        clf = ShapeClassifier(x.shape[-1], num_classes)
    opt = torch.optim.Adam(clf.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(len(x), (batch_size,), generator=g)
        loss = F.cross_entropy(clf(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return clf.eval()


@torch.no_grad()
def predict(clf: nn.Module, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """The classifier's class for each grid (N,)."""
    return torch.cat([clf(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])


def class_judgement(pred: torch.Tensor, num_classes: int, y: torch.Tensor | None = None,
                    min_share: float = 0.02) -> dict[str, Any]:
    """What the classifier says of N generated shapes: with the classes G was asked for (``y``), the class
    accuracy; always the class histogram, the classes covered (predicted for at least ``min_share`` of the
    samples) and the KL divergence of the predicted class distribution from uniform (nats; 0 when
    balanced, log K when one class)."""
    counts = torch.bincount(pred, minlength=num_classes).double()
    p = counts / counts.sum()
    nz = p > 0
    out: dict[str, Any] = {
        "histogram": counts.long().tolist(),
        "classes_covered": int((p >= min_share).sum()),
        "kl_from_uniform": float((p[nz] * (p[nz] * num_classes).log()).sum()),
    }
    if y is not None:
        out["class_accuracy"] = float((pred == y).double().mean())
    return out


def linear_svm_accuracy(train_f: np.ndarray, train_y: np.ndarray, test_f: np.ndarray, test_y: np.ndarray,
                        C: float = 0.001, seed: int = 0) -> float:
    """Test accuracy of a linear SVM (scikit-learn's LinearSVC, features standardised on the train set):
    the 3D-GAN paper's representation test, on D's features or on raw voxels."""
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    scaler = StandardScaler().fit(train_f)
    svm = LinearSVC(C=C, random_state=seed, max_iter=2000).fit(scaler.transform(train_f), train_y)
    return float((svm.predict(scaler.transform(test_f)) == test_y).mean())


__all__ = ["COPY_IOU", "ShapeClassifier", "class_judgement", "coverage_stats", "iou_matrix", "linear_svm_accuracy",
           "nn_stats", "occupancy", "predict", "run_voxel_iou", "train_shape_classifier", "voxel_values"]
