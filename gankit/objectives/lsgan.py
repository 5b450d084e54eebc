"""Least-squares GAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks").

D outputs a raw score D(x); with the a-b-c coding (a: target for fakes, b: target for real, c: the
value G wants D to believe for fakes), Eq. 2 of the paper is

    min_D  1/2 E_x[(D(x) - b)^2] + 1/2 E_z[(D(G(z)) - a)^2]
    min_G  1/2 E_z[(D(G(z)) - c)^2]

Defaults are the 0-1 coding a = 0, b = c = 1 the paper uses in its experiments (Eq. 9). The
alternative a = -1, b = 1, c = 0 satisfies b - c = 1 and b - a = 2, for which minimising the
objective minimises the Pearson chi^2 divergence between p_data + p_g and 2 p_g (Sec. 3.2.2);
select it with ``objective.params={a: -1, b: 1, c: 0}``.
"""

from __future__ import annotations

import torch

from gankit.objectives.base import Objective, check_param, is_number
from gankit.registry import OBJECTIVES


@OBJECTIVES.register("lsgan", "least-squares GAN (Mao et al. 2017), a-b-c coding; params a, b, c")
class LeastSquares(Objective):
    """Least-squares GAN with fake target ``a``, real target ``b`` and generator target ``c``."""

    name = "lsgan"
    incompatible = {"reg.label_smoothing": "lsgan sets its real target with params.b instead"}

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0) -> None:
        for key, v in (("a", a), ("b", b), ("c", c)):
            check_param(is_number(v), key, v, "must be a number")
        check_param(a != b, "a", a, f"must differ from b={b} (the fake and real targets)")
        self.a, self.b, self.c = float(a), float(b), float(c)

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((real_out - self.b) ** 2).mean() + 0.5 * ((fake_out - self.a) ** 2).mean()

    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((fake_out - self.c) ** 2).mean()

    def says_real(self, out: torch.Tensor) -> torch.Tensor:
        """Closer to the real target b than to the fake target a."""
        return (out - self.b).abs() < (out - self.a).abs()

    def __repr__(self) -> str:
        return f"LeastSquares(a={self.a}, b={self.b}, c={self.c})"
