"""The pix2pix generator (Isola et al. 2017, Sec. 3.2.1 and Appendix 6.1.1): a U-Net, or the plain
encoder-decoder it is compared with (the same layers without the skip connections).

Encoder: ``stages`` convolutions 4x4 / stride 2 (the image side halves until it is odd or at most 7, as in
:mod:`gankit.nets.dcgan`: 28 -> 14 -> 7), LeakyReLU(0.2), BatchNorm on all but the first; channels
``width``, ``2 width``, ... Bottleneck: a 3x3 convolution at the smallest side to twice the channels,
BatchNorm, ReLU. Decoder: transposed convolutions 4x4 / stride 2 back to full size, BatchNorm + ReLU,
the last one to the output channels with tanh. With skips (U-Net) the decoder's input at each side is
its own features concatenated with the encoder's features of that side (the bottleneck's with the
deepest encoder features, and so on up), so fine detail of the input reaches the output directly.

Noise is dropout, as in the paper ("noise only in the form of dropout, applied on several layers of our
generator at both training and test time"): rate ``dropout`` on the bottleneck and on every decoder
output but the last. The dropout masks are an explicit input, ``G(x_a, masks)`` with ``masks`` (N,
:attr:`UNetGenerator.noise_dim`) of values 0 or 1 / (1 - p), so a seeded source reproduces a translation
exactly, in eval mode too. ``G(x_a)`` in training mode draws the masks from the global RNG; in eval mode
it applies no dropout (the mean translation).

Example::

    G = UNetGenerator(in_channels=1, out_channels=1, image_size=28, width=32)
    out = G(x_a, G.draw_masks(len(x_a), generator=torch.Generator().manual_seed(0)))   # (N, 1, 28, 28)
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.nets.dcgan import stages_for


def _down(c_in: int, c_out: int, norm: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    return nn.Sequential(*layers, nn.LeakyReLU(0.2))


def _up(c_in: int, c_out: int, last: bool) -> nn.Sequential:
    if last:
        return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.Tanh())
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class UNetGenerator(nn.Module):
    """x_a (N, in_channels, S, S) in [-1, 1] (+ dropout masks) -> (N, out_channels, S, S) in [-1, 1].

    ``skips=False`` is the encoder-decoder of the paper's ablation (Fig. 5): every bit of the input must
    pass through the bottleneck. ``bottleneck`` is its own module so a test can zero it (a forward hook).
    """

    def __init__(self, in_channels: int, out_channels: int, image_size: int, width: int = 32,
                 skips: bool = True, dropout: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        stages, base = stages_for(image_size)
        self.skips, self.p, self.image_size = skips, dropout, image_size
        ch = [width * 2**i for i in range(stages)]  # encoder outputs, full side / 2 ... base
        self.down = nn.ModuleList(_down(in_channels if i == 0 else ch[i - 1], ch[i], norm=i > 0) for i in range(stages))
        self.bottleneck = nn.Sequential(nn.Conv2d(ch[-1], 2 * ch[-1], 3, 1, 1, bias=False),
                                        nn.BatchNorm2d(2 * ch[-1]), nn.ReLU())
        ups = []
        c_in = 2 * ch[-1]
        for i in reversed(range(stages)):  # decoder stage i brings side S / 2^(i+1) to S / 2^i
            c_cat = c_in + (ch[i] if skips else 0)
            c_out = out_channels if i == 0 else ch[i - 1]
            ups.append(_up(c_cat, c_out, last=i == 0))
            c_in = c_out
        self.up = nn.ModuleList(ups)
        # Dropout sites (channels, side): the bottleneck's output, then each decoder output but the last.
        self.noise_shapes = [(2 * ch[-1], base, base)] + [(ch[i - 1], image_size >> i, image_size >> i)
                                                          for i in reversed(range(1, stages))]

    @property
    def noise_dim(self) -> int:
        """Width of one row of dropout masks (every dropout site's units, flattened); 0 without dropout."""
        return sum(c * h * w for c, h, w in self.noise_shapes) if self.p > 0 else 0

    def draw_masks(self, n: int, generator: torch.Generator | None = None,
                   device: torch.device | str = "cpu") -> torch.Tensor:
        """(n, noise_dim) dropout masks: 1 / (1 - p) with probability 1 - p, else 0."""
        keep = torch.rand(n, self.noise_dim, generator=generator, device=device) >= self.p
        return keep.float() / (1.0 - self.p)

    def forward(self, x_a: torch.Tensor, masks: torch.Tensor | None = None) -> torch.Tensor:
        if masks is None and self.training and self.noise_dim:
            masks = self.draw_masks(len(x_a), device=x_a.device)
        sites = iter(self._split(masks)) if masks is not None and self.noise_dim else None
        feats = []
        h = x_a
        for block in self.down:
            h = block(h)
            feats.append(h)
        h = self.bottleneck(h)
        for k, block in enumerate(self.up):
            if sites is not None and k < len(self.noise_shapes):
                h = h * next(sites)
            if self.skips:
                h = torch.cat([h, feats[len(feats) - 1 - k]], dim=1)
            h = block(h)
        return h

    def _split(self, masks: torch.Tensor) -> list[torch.Tensor]:
        if masks.shape[1:] != (self.noise_dim,):
            raise ValueError(f"dropout masks must have shape (N, {self.noise_dim}), got {tuple(masks.shape)}")
        sizes = [c * h * w for c, h, w in self.noise_shapes]
        return [m.reshape(len(m), *shape) for m, shape in zip(masks.split(sizes, dim=1), self.noise_shapes)]


__all__ = ["UNetGenerator"]
