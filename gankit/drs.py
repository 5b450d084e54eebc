"""Discriminator rejection sampling (DRS; Azadi, Olsson, Darrell, Goodfellow & Odena, ICLR 2019).

A trained G puts some mass where the data has none (on 2D mixtures: the bridges between modes that a
continuous G cannot avoid). D knows where: the optimal discriminator D* = p_d / (p_d + p_g) has the
logit ``l(x) = log p_d(x) / p_g(x)``. Drawing x ~ p_g and keeping it with probability
``exp(l(x) - M)``, M = max_x l(x), is rejection sampling, and what it keeps is distributed exactly as
p_d (Azadi et al. 2019, section 3.1). Three steps, as in the paper:

1. **Calibrate** (:func:`calibrate`). D was trained against the *live* G and under whatever objective
   the run used (a WGAN critic or an EBGAN energy is not a log-ratio), while we sample the final G
   (often its EMA). So a copy of D, followed by a learned affine map ``a * D(x) + b`` (Platt scaling),
   is trained with the logistic loss ``softplus(-l(real)) + softplus(l(fake))`` against the frozen G
   being sampled; its optimum is the log-ratio above. D's own weights are never touched.
2. **Burn-in**: M is the largest logit among ``burn_in`` samples of G, raised whenever sampling sees a
   larger one (the paper's running maximum).
3. **Accept** x with probability ``sigmoid(F(x) - gamma)``, where
   ``F(x) = l(x) - M - log(1 - exp(l(x) - M - eps))`` (the paper's Eq. 8). Since
   ``sigmoid(F) = exp(l - M - eps)`` (for eps -> 0), ``gamma = 0`` is exact rejection sampling. A
   positive gamma is stricter (keeps mostly the samples D rates highest, fewer accepted), a negative one
   looser. ``gamma_quantile = q`` sets gamma to the q-quantile of F over the burn-in samples, so a
   sample at that quantile is kept with probability 1/2 (the paper used the 95th percentile).

DRS needs one score per sample. A packed D (``reg.pack = k``, PacGAN) judges k samples at once; its
calibrated copy scores x as the pack of k copies of x. Calibration trains that copy on single samples, so
its optimum is still the per-sample log-ratio (at PacGAN's optimum D*, the pack of k copies has logit
k l(x), which the learned scale divides by k). Minibatch discrimination makes D's score of x depend on
the rest of the batch, so :func:`check_drs_config` refuses it with a config error.

Example::

    score, cal = calibrate(model.D, G_ema, model.prior, dataset.train, steps=1000, seed=0)
    sampler = RejectionSampler(G_ema, score, model.prior)
    x = sampler.draw(2500, seed=0)        # (2500, *shape), accepted samples only
    sampler.stats                         # acceptance rate, M, gamma, draws
"""

from __future__ import annotations

import copy
import math
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gankit.data.base import Split
from gankit.errors import ConfigError, GankitError
from gankit.progress import track
from gankit.regularizers.diffaugment import unwrap
from gankit.regularizers.packing import Packed
from gankit.sampling import LatentPrior, generate


def check_drs_config(cfg: Any) -> None:
    """Raise a :class:`ConfigError` unless ``cfg`` trains a model whose D scores single samples."""
    if cfg.model.name != "gan":
        raise ConfigError(f"eval.drs: discriminator rejection sampling needs model=gan (an unconditional D), "
                          f"not model={cfg.model.name}; set eval.drs.enabled=false")
    if cfg.reg.minibatch_discrimination > 0:
        raise ConfigError("eval.drs: with minibatch discrimination D scores a sample by the rest of its batch, "
                          "DRS needs one score per sample; set eval.drs.enabled=false")


class CalibratedScore(nn.Module):
    """``a * D(x) + b``: a copy of D with a learned affine output, trained to the log-ratio log p_d/p_g.

    A packed D (:class:`~gankit.regularizers.packing.Packed`, k samples per score) scores x as the pack
    of k copies of x, so the score has one value per sample.
    """

    def __init__(self, D: nn.Module) -> None:
        super().__init__()
        D = unwrap(D)  # DRS needs D's log-ratio on the images themselves, not on augmented ones
        self.D = copy.deepcopy(D)
        self.copies = D.k if isinstance(D, Packed) else 1
        self.scale = nn.Parameter(torch.ones(()))
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.copies > 1:
            x = x.repeat_interleave(self.copies, dim=0)  # Packed packs consecutive samples: k copies of each
        return self.scale * self.D(x).reshape(len(x) // self.copies) + self.bias


@dataclass
class Calibration:
    """What :func:`calibrate` did: steps, optimiser, and the logistic loss / accuracy of its last 100 steps."""

    steps: int
    batch_size: int
    lr: float
    seed: int
    final_loss: float
    final_accuracy: float
    scale: float
    bias: float


def calibrate(D: nn.Module, G: nn.Module, prior: LatentPrior, real: torch.Tensor | Split, steps: int = 1000,
              batch_size: int = 256, lr: float = 1e-4, seed: int = 0) -> tuple[CalibratedScore, Calibration]:
    """Train :class:`CalibratedScore` (a copy of D) with the logistic loss against the frozen ``G``.

    ``real`` holds the training samples: a float tensor, or a :class:`~gankit.data.base.Split` whose rows
    are converted per batch (:meth:`~gankit.data.base.Split.float_x`; it runs on the split's device, or
    D's for a streamed split). Batches are drawn with replacement by a generator seeded with ``seed``,
    and so are G's latents, so the result is deterministic. Adam(lr, betas=(0.5, 0.999)).
    """
    if steps < 0 or batch_size < 1:
        raise ConfigError(f"eval.drs: need calibration_steps >= 0 and batch_size >= 1, got {steps}, {batch_size}")
    if isinstance(real, Split):
        device = next(D.parameters()).device if real.streamed else real.x.device
        rows = real.float_x
    else:
        device, rows = real.device, real.__getitem__
    score = CalibratedScore(D).to(device).train()
    G_mode = G.training
    G.eval()
    opt = torch.optim.Adam(score.parameters(), lr=lr, betas=(0.5, 0.999))
    g = torch.Generator().manual_seed(seed)
    tail: deque[tuple[torch.Tensor, torch.Tensor]] = deque(maxlen=100)  # (loss, accuracy) of the last steps
    for _ in track(range(steps), "DRS: calibrating D", unit="step"):
        idx = torch.randint(len(real), (batch_size,), generator=g).to(device)
        with torch.no_grad():
            fake = G(prior.draw(batch_size, g, "cpu", None).to(device))
        l_real, l_fake = score(rows(idx).to(device)), score(fake)
        loss = F.softplus(-l_real).mean() + F.softplus(l_fake).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        # kept as tensors: no host sync per step on a GPU
        tail.append((loss.detach(), 0.5 * ((l_real > 0).float().mean() + (l_fake < 0).float().mean()).detach()))
    G.train(G_mode)
    score.eval()
    final_loss, final_acc = (torch.stack(t).mean().item() for t in zip(*tail)) if tail else (math.nan, math.nan)
    result = Calibration(steps, batch_size, lr, seed, final_loss=final_loss, final_accuracy=final_acc,
                         scale=float(score.scale.detach()), bias=float(score.bias.detach()))
    return score, result


@dataclass
class DRSStats:
    """One :meth:`RejectionSampler.draw`: it returned ``accepted`` samples after drawing ``drawn`` from G;
    ``acceptance`` is the share of all drawn samples that passed (the last batch's surplus included), or,
    when DRS gave up after the burn-in (``drawn`` 0), the acceptance rate estimated on the burn-in."""

    accepted: int
    drawn: int
    acceptance: float
    max_logit: float
    gamma: float


_REJECTS = ": D rejects nearly all of G's samples; G is far from the data, or set eval.drs.gamma_quantile"


class DRSRejectedError(GankitError):
    """D rejects nearly all of G's samples: the burn-in's acceptance rate is under 1 / max_draws_per_sample,
    or DRS drew that many G samples per wanted one and kept too few. The sampler's ``stats`` say which."""


class RejectionSampler:
    """Draws accepted samples of ``G`` (see the module docstring for the rule).

    ``gamma_quantile=None`` is exact rejection sampling (gamma = 0); a number q in (0, 1) sets gamma to
    the q-quantile of F over the burn-in samples (Azadi et al.'s knob; large q: stricter, fewer kept).
    ``max_draws_per_sample`` bounds the work: an acceptance rate under 1 / max_draws_per_sample on the
    burn-in samples, or drawing more than that many G samples per accepted one, raises a
    :class:`DRSRejectedError` (D rejects nearly everything: G is far from the data).
    It also stands in for G in :func:`gankit.metrics.evaluate_generator` (``draw`` + ``fingerprint``).
    """

    def __init__(self, G: nn.Module, score: nn.Module, prior: LatentPrior, gamma_quantile: float | None = None,
                 burn_in: int = 10_000, batch_size: int = 1000, eps: float = 1e-6,
                 max_draws_per_sample: int = 1000, calibration: Calibration | None = None) -> None:
        if gamma_quantile is not None and not 0.0 < gamma_quantile < 1.0:
            raise ConfigError(f"eval.drs.gamma_quantile: must be in (0, 1) or null (exact), got {gamma_quantile}")
        self.G, self.score, self.prior = G, score, prior
        self.gamma_quantile, self.burn_in, self.batch_size, self.eps = gamma_quantile, burn_in, batch_size, eps
        self.max_draws_per_sample = max_draws_per_sample
        self.calibration = calibration
        self.stats: DRSStats | None = None

    @torch.no_grad()
    def _logits(self, n: int, g: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor]:
        x = generate(self.G, self.prior.draw(n, g, "cpu", None).to(device))  # float32 on the CPU
        logits = [self.score(chunk.to(device)).double().cpu() for chunk in x.split(self.batch_size)]
        return x, torch.cat(logits)

    def _f(self, logit: torch.Tensor, m: float) -> torch.Tensor:
        a = logit - m - self.eps  # <= -eps, so 1 - exp(a) > 0
        return a + self.eps - torch.log(-torch.expm1(a))

    def draw(self, n: int, seed: int = 0, device: torch.device | str = "cpu") -> torch.Tensor:
        """``n`` accepted samples; the burn-in, G's latents and the accept coins come from ``seed``."""
        mode = self.score.training
        self.score.eval()
        try:
            return self._draw(n, torch.Generator().manual_seed(seed), device)
        finally:
            self.score.train(mode)

    def _draw(self, n: int, g: torch.Generator, device) -> torch.Tensor:
        _, burn = self._logits(self.burn_in, g, device)
        m = float(burn.max())
        f_burn = self._f(burn, m)
        gamma = 0.0 if self.gamma_quantile is None else float(torch.quantile(f_burn, self.gamma_quantile))
        expected = float(torch.sigmoid(f_burn - gamma).mean())  # the burn-in's acceptance rate
        if expected * self.max_draws_per_sample < 1:  # give up now, not after max_draws_per_sample * n draws
            self.stats = DRSStats(0, 0, expected, m, gamma)
            raise DRSRejectedError(f"DRS would keep {expected:.2e} of G's samples (estimated on {self.burn_in} "
                                   f"burn-in samples), under 1 in {self.max_draws_per_sample}{_REJECTS}")
        kept, n_kept, drawn = [], 0, 0
        while n_kept < n:
            if drawn > self.max_draws_per_sample * n:
                self.stats = DRSStats(n_kept, drawn, n_kept / drawn, m, gamma)
                raise DRSRejectedError(f"DRS kept {n_kept} of {drawn} samples (needed {n}){_REJECTS}")
            x, logit = self._logits(self.batch_size, g, device)
            drawn += len(x)
            m = max(m, float(logit.max()))  # the running maximum of the paper
            p = torch.sigmoid(self._f(logit, m) - gamma)
            keep = torch.rand(len(x), generator=g, dtype=torch.float64) < p
            kept.append(x[keep])
            n_kept += int(keep.sum())
        self.stats = DRSStats(n, drawn, n_kept / drawn, m, gamma)
        return torch.cat(kept)[:n]

    def fingerprint(self) -> dict[str, Any]:
        """What produced the samples (goes into every metric's fingerprint)."""
        out: dict[str, Any] = {"sampler": "DRS (Azadi et al. 2019)", "gamma_quantile": self.gamma_quantile,
                               "burn_in": self.burn_in, "eps": self.eps}
        if self.calibration is not None:
            out["calibration"] = asdict(self.calibration)
        if self.stats is not None:
            out.update({f"drs_{k}": v for k, v in asdict(self.stats).items()})
        return out


def sampler_for(cfg: Any, model: Any, G: nn.Module, train_x: torch.Tensor | Split) -> RejectionSampler:
    """The DRS sampler of a trained run's ``G`` with the run's ``eval.drs`` settings: a copy of ``model.D``
    calibrated on ``train_x``, the training split or its float samples (batch = ``train.batch_size``, seed = the run's seed). The trainer's
    end-of-training figure, ``gankit sample --drs`` and ``gankit eval --drs`` all build it here."""
    check_drs_config(cfg)
    d = cfg.eval.drs
    score, calibration = calibrate(model.nets["D"], G, model.prior, train_x, steps=d.calibration_steps,
                                   batch_size=cfg.train.batch_size, lr=d.lr, seed=cfg.seed)
    return RejectionSampler(G, score, model.prior, gamma_quantile=d.gamma_quantile, burn_in=d.burn_in,
                            calibration=calibration)
