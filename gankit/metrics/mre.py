"""Minimum reconstruction error (MRE): how well can G reproduce an image it never saw?

For an image x, MRE(x) = min_z ||G(z) - x||_2 (Euclidean norm over all pixels, images in [-1, 1]).
The LS-GAN paper (Qi 2017, Sec. 6; BENCHMARKS section 5) compares it on training and on held-out
test images: a generator that generalises reconstructs test images about as well as training ones,
and the test - train gap measures overfitting. The paper gives no optimiser protocol, so gankit fixes
and records one (:class:`MREConfig`):

- ``restarts`` independent starts per image, z_0 drawn from G's prior (seeded), all optimised at once
  as one batch of restarts x images rows;
- ``steps`` Adam steps (lr ``lr``, betas (0.9, 0.999)) on the sum over rows of ||G(z) - x||^2, so
  each row follows its own gradient (rows do not interact; BatchNorm G is in eval mode);
- MRE(x) = the smallest ||G(z) - x|| over the restarts AND over the steps (the best iterate is kept,
  so an Adam overshoot at the end cannot raise the figure).

Only G's input rows are optimised (for conditional priors that includes the label part, unconstrained).
G's weights are frozen for the duration and its train/eval mode restored.

Example::

    errs = reconstruction_errors(G, prior, test_images, MREConfig(steps=100, restarts=3))
    report = mre_report(G, prior, train_images, test_images)
    report.train_mre, report.test_mre, report.gap
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from gankit.progress import track
from gankit.sampling import LatentPrior


@dataclass
class MREConfig:
    """The documented optimiser protocol of the MRE (recorded in every fingerprint)."""

    steps: int = 100
    lr: float = 0.1
    restarts: int = 3
    batch_size: int = 256  # images per optimisation batch (each holds restarts x batch_size rows)
    seed: int = 0

    def describe(self) -> dict[str, object]:
        return {**asdict(self), "optimizer": "Adam(betas=(0.9, 0.999)) on z", "distance": "L2 over all pixels",
                "keeps": "best iterate over steps and restarts"}


def _reconstruct_batch(G: nn.Module, prior: LatentPrior, x: torch.Tensor, cfg: MREConfig,
                       seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(best error (n,), the z that reached it (n, d)) for the images ``x`` of one batch."""
    n, device = len(x), x.device
    z = prior.sample(cfg.restarts * n, seed=seed, device=device).requires_grad_(True)
    target = x.repeat(cfg.restarts, *([1] * (x.ndim - 1)))  # row r * n + i reconstructs image i
    opt = torch.optim.Adam([z], lr=cfg.lr)
    best = torch.full((cfg.restarts * n,), float("inf"), device=device)
    best_z = z.detach().clone()
    for _ in range(cfg.steps + 1):
        err = (G(z) - target).flatten(1).pow(2).sum(1)  # (restarts * n,)
        better = err.detach() < best
        best = torch.where(better, err.detach(), best)
        best_z[better] = z.detach()[better]
        if _ == cfg.steps:
            break
        opt.zero_grad(set_to_none=True)
        err.sum().backward()
        opt.step()
    err, restart = best.view(cfg.restarts, n).min(0)
    return err.sqrt().cpu(), best_z.view(cfg.restarts, n, -1)[restart, torch.arange(n, device=device)].cpu()


def invert(G: nn.Module, prior: LatentPrior | int, x: torch.Tensor, cfg: MREConfig | None = None,
           device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """The MRE protocol's inversion: for each row of ``x`` (N, ...), the z (N, d) with the smallest
    ||G(z) - x_i|| found, and that distance (N,) float32 (= :func:`reconstruction_errors`). The z let a
    measurement made at latent points (the Jacobian's singular values) be made at real images."""
    cfg = cfg or MREConfig()
    prior = LatentPrior(prior) if isinstance(prior, int) else prior
    was_training = G.training
    flags = [p.requires_grad for p in G.parameters()]
    G.eval().requires_grad_(False)
    try:
        chunks = x.split(cfg.batch_size)
        out = [
            _reconstruct_batch(G, prior, chunk.to(device, torch.float32), cfg, seed=cfg.seed + i)
            for i, chunk in enumerate(track(chunks, "MRE: reconstructing images", unit="batch"))
        ]
    finally:
        G.train(was_training)
        for p, flag in zip(G.parameters(), flags):
            p.requires_grad_(flag)
    if not out:
        return torch.empty(0, prior.dim), torch.empty(0)
    return torch.cat([z for _, z in out]), torch.cat([e for e, _ in out])


def reconstruction_errors(G: nn.Module, prior: LatentPrior | int, x: torch.Tensor, cfg: MREConfig | None = None,
                          device: torch.device | str = "cpu") -> torch.Tensor:
    """MRE(x_i) = min_z ||G(z) - x_i|| for each row of ``x`` (N, ...) -> (N,) float32."""
    return invert(G, prior, x, cfg, device)[1]


@dataclass
class MREReport:
    """Mean MRE on training and on test images, the gap (test - train), and the per-image errors."""

    train_mre: float
    test_mre: float
    gap: float
    train_errors: torch.Tensor
    test_errors: torch.Tensor


def mre_report(G: nn.Module, prior: LatentPrior | int, train: torch.Tensor, test: torch.Tensor,
               cfg: MREConfig | None = None, device: torch.device | str = "cpu") -> MREReport:
    """MRE of ``train`` and ``test`` images under the same protocol; gap = test MRE - train MRE."""
    tr = reconstruction_errors(G, prior, train, cfg, device)
    te = reconstruction_errors(G, prior, test, cfg, device)
    train_mre, test_mre = float(tr.double().mean()), float(te.double().mean())
    return MREReport(train_mre, test_mre, test_mre - train_mre, tr, te)


__all__ = ["MREConfig", "MREReport", "invert", "mre_report", "reconstruction_errors"]
