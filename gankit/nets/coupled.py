"""Coupled DCGAN pairs for CoGAN (Liu & Tuzel 2016): two generators that share their first layers and
two discriminators that share their last layers.

Built from the DCGAN nets of :mod:`gankit.nets.dcgan` (their depth follows the image size), cut where the
paper cuts them:

- :class:`CoupledGenerator`: the shared trunk is everything but G's last layer (the projection of z and
  every up-sampling stage but the last, with their BatchNorm); each domain has its own last transposed
  convolution and tanh, so the trunk decodes the high-level content of an image once for both domains and
  each head renders it in its domain's low-level style;
- :class:`CoupledDiscriminator`: each domain has its own first convolution (+ LeakyReLU); the other
  convolutions and the linear head are shared. The flattened output of the last shared convolution is
  the shared feature vector; an optional linear class head on it is CoGAN's domain-adaptation classifier.

``share=False`` builds the no-sharing control of the paper's figure: the same layers, but the trunk of G
and the tail of D exist once per domain, so nothing is tied. With ``share=True`` the shared modules
exist once (``trunks`` and ``tails`` hold one module), so they are the same Parameter objects for both
domains, checkpoints store them once, and an optimiser sees each once.

Example::

    G = CoupledGenerator(z_dim=100, channels=(1, 1), image_size=28, width=32)
    x1, x2 = G(torch.randn(8, 100), both=True)        # the same z rendered in both domains
    D = CoupledDiscriminator((1, 1), 28, 32)
    score = D(x2, domain=2)                            # (8,)
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator

DOMAINS = (1, 2)


def _check_domain(domain: int) -> int:
    if domain not in DOMAINS:
        raise ValueError(f"domain must be 1 or 2, got {domain!r}")
    return domain - 1


class CoupledGenerator(nn.Module):
    """z (N, z_dim) -> images of domain 1 or 2 (N, C_d, S, S) in [-1, 1]; ``both=True``: (x1, x2).

    ``default_domain`` is the domain a plain ``G(z)`` renders (what sampling and evaluation see)."""

    def __init__(self, z_dim: int, channels: tuple[int, int], image_size: int, width: int, share: bool = True,
                 default_domain: int = 1) -> None:
        super().__init__()
        self.z_dim, self.share = z_dim, share
        self.default_domain = default_domain
        _check_domain(default_domain)
        gens = [DCGANGenerator(z_dim, c, image_size, width) for c in channels]
        # DCGANGenerator.blocks ends with (ConvTranspose2d to C channels, Tanh): that is each domain's head.
        trunks = [nn.Sequential(g.project, *list(g.blocks)[:-2]) for g in gens]
        self.trunks = nn.ModuleList(trunks[:1] if share else trunks)
        self.heads = nn.ModuleList([nn.Sequential(*list(g.blocks)[-2:]) for g in gens])

    def trunk(self, domain: int) -> nn.Module:
        """The first layers that render ``domain`` (the one shared module when ``share``)."""
        return self.trunks[_check_domain(domain) if len(self.trunks) > 1 else 0]

    def forward(self, z: torch.Tensor, domain: int | None = None, both: bool = False):
        if both:
            if self.share:
                h = self.trunks[0](z)  # one pass of the shared layers: the same hidden code for both domains
                return self.heads[0](h), self.heads[1](h)
            return tuple(self.heads[i](self.trunks[i](z)) for i in range(2))
        d = _check_domain(self.default_domain if domain is None else domain)
        return self.heads[d](self.trunk(d + 1)(z))


class CoupledDiscriminator(nn.Module):
    """images of domain 1 or 2 (N, C_d, S, S) -> one score per image (N,).

    ``with_features=True`` also returns the shared features (N, F) (the input of the linear head);
    ``with_classes=True`` the class logits (N, K) of the class head on those features (``num_classes`` > 0)."""

    def __init__(self, channels: tuple[int, int], image_size: int, width: int, share: bool = True,
                 num_classes: int = 0) -> None:
        super().__init__()
        self.share = share
        discs = [DCGANDiscriminator(c, image_size, width) for c in channels]
        # DCGANDiscriminator.body is (Conv, LeakyReLU) per stage, then Flatten: the first pair is each domain's.
        self.firsts = nn.ModuleList([nn.Sequential(*list(d.body)[:2]) for d in discs])
        tails = [nn.ModuleDict({"body": nn.Sequential(*list(d.body)[2:]), "head": d.head}) for d in discs]
        self.tails = nn.ModuleList(tails[:1] if share else tails)
        self.feature_dim = discs[0].head.in_features
        self.classes = nn.Linear(self.feature_dim, num_classes) if num_classes else None

    def tail(self, domain: int) -> nn.ModuleDict:
        """The last layers (``body``, ``head``) that judge ``domain`` (the one shared module when ``share``)."""
        return self.tails[_check_domain(domain) if len(self.tails) > 1 else 0]

    def forward(self, x: torch.Tensor, domain: int = 1, with_features: bool = False, with_classes: bool = False):
        tail = self.tail(domain)
        f = tail["body"](self.firsts[_check_domain(domain)](x))
        score = tail["head"](f).squeeze(1)
        if with_classes:
            if self.classes is None:
                raise ValueError("this discriminator has no class head (num_classes=0)")
            return score, self.classes(f)
        return (score, f) if with_features else score


__all__ = ["CoupledDiscriminator", "CoupledGenerator"]
