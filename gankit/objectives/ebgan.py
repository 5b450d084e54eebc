"""Energy-Based GAN (Zhao et al. 2017, "Energy-based Generative Adversarial Network").

D is an auto-encoder whose output is an energy, the reconstruction error D(x) (see
:mod:`gankit.nets.autoencoder`): low on real data, high on fakes. With margin m > 0 (Eq. 1 and 2)::

    d_loss = E_x[D(x)] + E_z[max(0, m - D(G(z)))]
    g_loss = E_z[D(G(z))] + w PT(S)

where PT is the pull-away term (Sec. 2.4) on the encoder's codes S of the fake batch, which pushes
G's samples apart in code space (w = 0.1 in the paper)::

    PT(S) = 1 / (N (N - 1)) sum_i sum_{j != i} ( S_i . S_j / (|S_i| |S_j|) )^2

The objective declares ``discriminator = "autoencoder"``, so the plain GAN model builds the energy
auto-encoder as D, and ``needs_embeddings`` (when w > 0), so its G step passes ``embeddings=`` from
``D.energy_and_embedding``. An energy below m / 2 counts as real (``says_real``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gankit.objectives.base import Objective, check_param, is_number
from gankit.registry import OBJECTIVES


def pull_away_term(S: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """EBGAN's PT(S) for codes S (N, F), N >= 2: the mean squared cosine similarity of distinct pairs."""
    if len(S) < 2:
        raise ValueError(f"the pull-away term needs at least 2 samples, got {len(S)}")
    unit = S / S.norm(dim=1, keepdim=True).clamp_min(eps)
    cos2 = (unit @ unit.T).pow(2)
    n = len(S)
    return (cos2.sum() - cos2.diagonal().sum()) / (n * (n - 1))


def margin_hinge(energy: torch.Tensor, margin: float) -> torch.Tensor:
    """max(0, m - D(x)) per sample: fakes pay until their energy reaches the margin."""
    return F.relu(margin - energy)


@OBJECTIVES.register("ebgan", "energy-based GAN (Zhao et al. 2017), auto-encoder D; params margin, pt_weight")
class EBGAN(Objective):
    """EBGAN: d_loss = E D(x) + E max(0, m - D(G(z))), g_loss = E D(G(z)) + pt_weight PT(S_fake)."""

    name = "ebgan"
    discriminator = "autoencoder"
    incompatible = {
        "reg.label_smoothing": "an energy has no label to smooth",
        "reg.minibatch_discrimination": "EBGAN's auto-encoder D has no score head to widen",
        "reg.pack": "EBGAN's auto-encoder D reconstructs one sample at a time",
    }

    def __init__(self, margin: float = 1.0, pt_weight: float = 0.1) -> None:
        check_param(is_number(margin) and margin > 0, "margin", margin, "must be a number > 0")
        check_param(is_number(pt_weight) and pt_weight >= 0, "pt_weight", pt_weight,
                    "must be a number >= 0 (0 switches the pull-away term off)")
        self.margin, self.pt_weight = float(margin), float(pt_weight)
        self.needs_embeddings = self.pt_weight > 0

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return real_out.mean() + margin_hinge(fake_out, self.margin).mean()

    def g_loss(self, fake_out: torch.Tensor, embeddings: torch.Tensor | None = None) -> torch.Tensor:
        loss = fake_out.mean()
        if self.pt_weight > 0:
            if embeddings is None:
                raise ValueError("ebgan with pt_weight > 0 needs g_loss(..., embeddings=D.embed(fake))")
            loss = loss + self.pt_weight * pull_away_term(embeddings)
        return loss

    def says_real(self, out: torch.Tensor) -> torch.Tensor:
        return out < self.margin / 2

    def __repr__(self) -> str:
        return f"EBGAN(margin={self.margin}, pt_weight={self.pt_weight})"
