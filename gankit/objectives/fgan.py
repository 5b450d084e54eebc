"""f-GAN (Nowozin, Cseke & Tomioka 2016, "f-GAN: Training Generative Neural Samplers using
Variational Divergence Minimization").

An f-divergence D_f(P || Q) = E_Q[f(p/q)] (f convex, f(1) = 0) has the variational lower bound (Eq. 4)

    D_f(P || Q) >= sup_T  E_P[T(x)] - E_Q[f*(T(x))],     tight at T = f'(p/q),

with f* the convex conjugate of f. D's raw output v is mapped into the domain of f* by the output
activation g_f (Table 2), T = g_f(v), and the saddle objective is (Eq. 6)

    F(theta, omega) = E_{x~P}[g_f(V(x))] - E_{x~Q_theta}[f*(g_f(V(x)))].

D maximises F: ``d_loss = -F``. For G we use the paper's alternative (Sec. 3.2, the analogue of the
non-saturating GAN): G maximises E_{Q_theta}[g_f(V(x))], so ``g_loss = -E_fake[g_f(v)]``.

Tables 1 and 2 of the paper (generator = Q, data = P), each row kept as one :class:`Divergence`:

==================  =================================  ===================  ====================
name                f(u)                               f*(t)                g_f(v)
==================  =================================  ===================  ====================
kl                  u log u                            exp(t - 1)           v
reverse-kl          -log u                             -1 - log(-t)         -exp(-v)
pearson             (u - 1)^2                          t^2 / 4 + t          v
hellinger           (sqrt(u) - 1)^2                    t / (1 - t)          1 - exp(-v)
js                  u log u - (u + 1) log((u + 1)/2)   -log(2 - exp(t))     log 2 - log(1 + e^-v)
gan                 u log u - (u + 1) log(u + 1)       -log(1 - exp(t))     -log(1 + e^-v)
total-variation     |u - 1| / 2                        t  (|t| <= 1/2)      tanh(v) / 2
==================  =================================  ===================  ====================

Note that the paper's f for "js" gives D_f = 2 JSD(P || Q) (both KLs to the mixture, without the 1/2),
and "gan" gives 2 JSD - log 4. ``conj_of_act(v)`` = f*(g_f(v)) is written in a closed form that stays
finite for any v (e.g. js: softplus(v) - log 2). D outputs count as real where T = g_f(v) > f'(1),
the value of the optimal T where p = q.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gankit.objectives.base import Objective, check_param
from gankit.registry import OBJECTIVES

Fn = Callable[[torch.Tensor], torch.Tensor]
LOG2 = math.log(2.0)


@dataclass(frozen=True)
class Divergence:
    """One divergence of Tables 1-2: f, its derivative f', its conjugate f*, the activation g_f, f*(g_f(v))."""

    f: Fn
    f_prime: Fn
    f_star: Fn
    act: Fn
    conj_of_act: Fn

    def bound(self, T_p: torch.Tensor, T_q: torch.Tensor) -> torch.Tensor:
        """E_P[T] - E_Q[f*(T)] for per-sample values of T on P's and Q's samples."""
        return T_p.mean() - self.f_star(T_q).mean()


def _xlogx(u: torch.Tensor) -> torch.Tensor:
    return torch.xlogy(u, u)


DIVERGENCES: dict[str, Divergence] = {
    "kl": Divergence(
        f=_xlogx,
        f_prime=lambda u: 1 + torch.log(u),
        f_star=lambda t: torch.exp(t - 1),
        act=lambda v: v,
        conj_of_act=lambda v: torch.exp(v - 1),
    ),
    "reverse-kl": Divergence(
        f=lambda u: -torch.log(u),
        f_prime=lambda u: -1 / u,
        f_star=lambda t: -1 - torch.log(-t),
        act=lambda v: -torch.exp(-v),
        conj_of_act=lambda v: v - 1,
    ),
    "pearson": Divergence(
        f=lambda u: (u - 1) ** 2,
        f_prime=lambda u: 2 * (u - 1),
        f_star=lambda t: t**2 / 4 + t,
        act=lambda v: v,
        conj_of_act=lambda v: v**2 / 4 + v,
    ),
    "hellinger": Divergence(
        f=lambda u: (torch.sqrt(u) - 1) ** 2,
        f_prime=lambda u: 1 - 1 / torch.sqrt(u),
        f_star=lambda t: t / (1 - t),
        act=lambda v: 1 - torch.exp(-v),
        conj_of_act=lambda v: torch.exp(v) - 1,
    ),
    "js": Divergence(
        f=lambda u: _xlogx(u) - (u + 1) * torch.log((u + 1) / 2),
        f_prime=lambda u: torch.log(2 * u / (u + 1)),
        f_star=lambda t: -torch.log(2 - torch.exp(t)),
        act=lambda v: LOG2 - F.softplus(-v),
        conj_of_act=lambda v: F.softplus(v) - LOG2,
    ),
    "gan": Divergence(
        f=lambda u: _xlogx(u) - (u + 1) * torch.log(u + 1),
        f_prime=lambda u: torch.log(u / (u + 1)),
        f_star=lambda t: -torch.log(1 - torch.exp(t)),
        act=lambda v: -F.softplus(-v),
        conj_of_act=F.softplus,
    ),
    "total-variation": Divergence(
        f=lambda u: 0.5 * (u - 1).abs(),
        f_prime=lambda u: 0.5 * torch.sign(u - 1),
        f_star=lambda t: t,
        act=lambda v: 0.5 * torch.tanh(v),
        conj_of_act=lambda v: 0.5 * torch.tanh(v),
    ),
}


@OBJECTIVES.register("fgan", "f-GAN (Nowozin et al. 2016); param divergence: " + ", ".join(DIVERGENCES))
class FGAN(Objective):
    """f-GAN with the named divergence: d_loss = -(E_real g_f(v) - E_fake f*(g_f(v))), g_loss = -E_fake g_f(v)."""

    name = "fgan"
    incompatible = {"reg.label_smoothing": "f-GAN's D estimates a divergence, not a label"}

    def __init__(self, divergence: str = "js") -> None:
        check_param(divergence in DIVERGENCES, "divergence", divergence, f"choose one of {', '.join(DIVERGENCES)}")
        self.divergence = divergence
        self.div = DIVERGENCES[divergence]
        # T at p = q, the boundary between "looks like data" and "looks generated".
        self.threshold = float(self.div.f_prime(torch.tensor(1.0, dtype=torch.float64)))

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return -(self.div.act(real_out).mean() - self.div.conj_of_act(fake_out).mean())

    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        return -self.div.act(fake_out).mean()

    def says_real(self, out: torch.Tensor) -> torch.Tensor:
        return self.div.act(out) > self.threshold

    def __repr__(self) -> str:
        return f"FGAN(divergence={self.divergence!r})"
