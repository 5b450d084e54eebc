"""Loss-Sensitive GAN and its generalisation GLS-GAN (Qi 2017, arXiv:1701.06264).

D is a *loss function* L_theta(x): its output is a loss, low on real samples and high on fakes. Real
samples must have a loss lower than a generated sample by at least a data-dependent margin
Delta(x, G(z)), a distance between the two samples (the paper uses the l1 distance between images).

LS-GAN (the objectives of theta and phi in Sec. 3 of the paper), with (a)_+ = max(0, a)::

    min_theta  S = E_x[L(x)] + lambda E_{x,z}[(Delta(x, G(z)) + L(x) - L(G(z)))_+]
    min_phi    T = E_z[L(G(z))]

GLS-GAN (the paper's generalised LS-GAN) replaces (a)_+ by a cost C(a) and drops the first term
(lambda -> infinity); here C is the leaky ReLU of slope s, C(a) = max(a, s a), with an optional weight w
on E_x[L(x)]::

    min_theta  S_s = w E_x[L(x)] + E_{x,z}[C_s(Delta(x, G(z)) + L(x) - L(G(z)))]

- s = 0 and w = 1/lambda give LS-GAN's S divided by lambda (s = 0, w = 1 equals LS-GAN with lambda = 1);
- s = 1 and w = 0 give E[Delta] + E[L(x)] - E[L(G(z))]: WGAN's critic loss for the critic f = -L plus
  a constant E[Delta] that does not depend on theta (so the same gradients).

Samples enter the margin, so these objectives set ``needs_samples`` and the plain GAN step passes
``real=`` and ``fake=`` (paired row by row). The paper's theory needs a Lipschitz loss function; it
enforces it with weight decay / a gradient penalty. In gankit that is the ``reg.gp`` regulariser
(e.g. ``reg.gp.weight=0.1 reg.gp.one_sided=true``), which the presets switch on.

The paper's analysis takes the loss function to be non-negative; without that, LS-GAN's first term
E_x[L(x)] lets D lower every loss without bound (we saw the critic diverge to -1e7 on ring8). With
``nonnegative=True`` (LS-GAN's default) the loss is L(x) = |D's raw output|: non-negative and, unlike
softplus (which we tried first), never saturating, so neither player's gradient vanishes once the losses
are near 0. GLS-GAN's default keeps the raw output, as its cost only sees differences of losses.
``says_real``: a raw output below 0, or, for non-negative losses, a loss below margin_scale / 2 (half
the typical margin); a fixed threshold, since the objective itself only constrains differences.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gankit.objectives.base import Objective, check_param, is_number
from gankit.registry import OBJECTIVES

MARGINS = ("l1", "l2")


def sample_margin(real: torch.Tensor, fake: torch.Tensor, kind: str = "l1") -> torch.Tensor:
    """Delta(x_i, G(z_i)) per pair (N,): "l1" mean absolute difference, "l2" root mean squared difference."""
    diff = (real - fake).flatten(1)
    return diff.abs().mean(1) if kind == "l1" else diff.pow(2).mean(1).sqrt()


def leaky_cost(a: torch.Tensor, slope: float) -> torch.Tensor:
    """GLS-GAN's cost C_s(a) = max(a, s a) for 0 <= s <= 1: s = 0 is (a)_+, s = 1 is the identity."""
    return torch.maximum(a, slope * a)


class _LossFunction(Objective):
    """Shared parts: the margin, G's loss E L(G(z)) and "lower loss means real"."""

    needs_samples = True
    incompatible = {"reg.label_smoothing": "the loss function L(x) has no label to smooth"}

    def __init__(self, margin: str, margin_scale: float, nonnegative: bool) -> None:
        check_param(margin in MARGINS, "margin", margin, f"choose one of {', '.join(MARGINS)}")
        check_param(is_number(margin_scale) and margin_scale >= 0, "margin_scale", margin_scale,
                    "must be a number >= 0")
        check_param(isinstance(nonnegative, bool), "nonnegative", nonnegative, "must be true or false")
        self.margin, self.margin_scale, self.nonnegative = margin, float(margin_scale), nonnegative

    def loss_values(self, out: torch.Tensor) -> torch.Tensor:
        """L(x) from D's raw output: |out| when ``nonnegative``, else the output itself."""
        return out.abs() if self.nonnegative else out

    def violations(self, real_out: torch.Tensor, fake_out: torch.Tensor, real: torch.Tensor | None,
                   fake: torch.Tensor | None) -> torch.Tensor:
        """Delta(x, G(z)) + L(x) - L(G(z)) per pair (N,); positive where the margin is violated."""
        if real is None or fake is None:
            raise ValueError(f"objective {self.name!r} needs the samples: call d_loss(..., real=, fake=)")
        delta = self.margin_scale * sample_margin(real, fake, self.margin)
        return delta + self.loss_values(real_out) - self.loss_values(fake_out)

    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        return self.loss_values(fake_out).mean()

    def says_real(self, out: torch.Tensor) -> torch.Tensor:
        return out.abs() < self.margin_scale / 2 if self.nonnegative else out < 0


@OBJECTIVES.register("loss-sensitive", "Loss-Sensitive GAN (Qi 2017); params lam, margin, margin_scale, nonnegative")
class LossSensitive(_LossFunction):
    """LS-GAN: d_loss = E L(x) + lam E (Delta + L(x) - L(G(z)))_+, g_loss = E L(G(z))."""

    name = "loss-sensitive"

    def __init__(self, lam: float = 1.0, margin: str = "l1", margin_scale: float = 1.0,
                 nonnegative: bool = True) -> None:
        check_param(is_number(lam) and lam > 0, "lam", lam, "must be a number > 0")
        super().__init__(margin, margin_scale, nonnegative)
        self.lam = float(lam)

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor, real: torch.Tensor | None = None,
               fake: torch.Tensor | None = None) -> torch.Tensor:
        violations = self.violations(real_out, fake_out, real, fake)
        return self.loss_values(real_out).mean() + self.lam * F.relu(violations).mean()


@OBJECTIVES.register("gls-gan", "Generalised LS-GAN (Qi 2017), leaky-ReLU cost of slope s; params slope, ...")
class GLSGAN(_LossFunction):
    """GLS-GAN: d_loss = data_weight E L(x) + E C_slope(Delta + L(x) - L(G(z))), g_loss = E L(G(z))."""

    name = "gls-gan"

    def __init__(self, slope: float = 0.5, data_weight: float = 0.0, margin: str = "l1",
                 margin_scale: float = 1.0, nonnegative: bool = False) -> None:
        check_param(is_number(slope) and 0 <= slope <= 1, "slope", slope,
                    "must be in [0, 1] (0: LS-GAN, 1: WGAN)")
        check_param(is_number(data_weight) and data_weight >= 0, "data_weight", data_weight,
                    "must be a number >= 0")
        super().__init__(margin, margin_scale, nonnegative)
        self.slope, self.data_weight = float(slope), float(data_weight)

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor, real: torch.Tensor | None = None,
               fake: torch.Tensor | None = None) -> torch.Tensor:
        cost = leaky_cost(self.violations(real_out, fake_out, real, fake), self.slope).mean()
        return self.data_weight * self.loss_values(real_out).mean() + cost if self.data_weight else cost
