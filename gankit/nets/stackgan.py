"""StackGAN's networks (Zhang et al. 2017), small: a fixed text encoder, conditioning augmentation, Stage-I
G/D at half resolution and Stage-II G/D at full resolution. The family is :mod:`gankit.models.stackgan`.

- :func:`bag_of_words` is the text encoder phi_t: the word counts of a caption's token ids (``<pad>``, id 0,
  not counted), a fixed map with no weights. The paper, too, keeps its text encoder fixed (a pre-trained
  char-CNN-RNN); here the captions are short attribute phrases, for which the counts lose nothing but the
  order, and the first layer of conditioning augmentation (and of D's text head) learns the embedding.
- :class:`ConditioningAugmentation`: ``(mu, log sigma^2) = W phi_t + b``; ``c = mu + sigma * eps``.
- :class:`StackGenerator` holds both stages and both augmentations: Stage-I draws a ``side/2`` image from
  ``[z, c_1]``; Stage-II encodes that image (detached: Stage-II does not change Stage-I), joins ``c_2`` on
  every position, runs residual blocks and upsamples to ``side``, where its output is added to Stage-I's
  pre-tanh logits upsampled (bilinear) before the tanh: Stage-II *refines* the Stage-I image. (The paper's
  Stage-II decodes the full image from the joint code; our small one, trained so, collapsed to one image
  whatever its input, so the refinement path is kept explicit.)
- :class:`StackDiscriminator` holds D_1 (``side/2``) and D_2 (``side``); each down-samples the image to
  ``side/4``, joins a compressed text code on every position (the paper's spatial replication) and scores.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

INIT_LOGVAR = -2.0  # initial log sigma^2 of conditioning augmentation (its bias)


def bag_of_words(tokens: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """(N, V) float32 word counts of token ids (N, L); id 0 (``<pad>``) is not counted.

    Example::

        bag_of_words(torch.tensor([[1, 3, 3, 0]]), 5)   # tensor([[0., 1., 0., 2., 0.]])
    """
    counts = torch.zeros(len(tokens), vocab_size, device=tokens.device)
    counts.scatter_add_(1, tokens, torch.ones_like(tokens, dtype=counts.dtype))
    counts[:, 0] = 0.0
    return counts


class ConditioningAugmentation(nn.Module):
    """``c = mu(phi_t) + sigma(phi_t) * eps``, eps ~ N(0, I), from one linear layer giving (mu, log sigma^2).

    ``forward(phi, eps)`` returns ``(c, mu, logvar)``; with ``enabled=False`` (the "no CA" ablation) c = mu
    and eps is not used."""

    def __init__(self, text_dim: int, c_dim: int, enabled: bool = True) -> None:
        super().__init__()
        self.fc = nn.Linear(text_dim, 2 * c_dim)
        with torch.no_grad():  # start at sigma = e^-1: the text's mu is not drowned by eps at the first steps
            self.fc.bias[c_dim:].fill_(INIT_LOGVAR)
        self.c_dim, self.enabled = c_dim, enabled

    def forward(self, phi: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.fc(phi).chunk(2, dim=1)
        c = mu + torch.exp(0.5 * logvar) * eps if self.enabled else mu
        return c, mu, logvar


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1),
                         nn.BatchNorm2d(cout), nn.ReLU(True))


class _Residual(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, 1, 1), nn.BatchNorm2d(ch), nn.ReLU(True),
                                  nn.Conv2d(ch, ch, 3, 1, 1), nn.BatchNorm2d(ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class StackGenerator(nn.Module):
    """Both StackGAN generators. ``forward(z, tokens, eps)`` -> the Stage-II image (N, C, side, side) in
    [-1, 1]; ``stage=1`` -> the Stage-I image (N, C, side/2, side/2); ``with_kl=True`` -> (stage-II image,
    stage-I image, KL_1 + KL_2 averaged over the batch). ``eps`` (N, 2 c_dim) holds both augmentations'
    noise (Stage-I's, then Stage-II's), so a drawn input gives the same image every time.

    Example::

        G = StackGenerator(vocab_size=21, channels=1, side=28, z_dim=32, c_dim=16, width=32)
        x = G(torch.randn(4, 32), tokens, torch.randn(4, 32))     # (4, 1, 28, 28)
    """

    def __init__(self, vocab_size: int, channels: int, side: int, z_dim: int, c_dim: int, width: int,
                 ca: bool = True, residual_blocks: int = 1) -> None:
        super().__init__()
        if side % 4:
            raise ValueError(f"StackGAN needs an image side divisible by 4, got {side}")
        self.vocab_size, self.z_dim, self.c_dim, self.side = vocab_size, z_dim, c_dim, side
        s = side // 4
        self.ca1 = ConditioningAugmentation(vocab_size, c_dim, ca)
        self.ca2 = ConditioningAugmentation(vocab_size, c_dim, ca)
        # Stage-I: [z, c1] -> (2w, s, s) -> (w, 2s, 2s) -> image at side / 2
        self.stage1_fc = nn.Sequential(nn.Linear(z_dim + c_dim, 2 * width * s * s, bias=False),
                                       nn.BatchNorm1d(2 * width * s * s), nn.ReLU(True))
        self.stage1 = nn.Sequential(_up(2 * width + c_dim, width), nn.Conv2d(width, channels, 3, 1, 1))  # logits
        # Stage-II: image at side / 2 -> (w, s, s) joined with c2 -> residual -> (w, 2s) -> (w/2, 4s) -> image
        self.encode = nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1), nn.ReLU(True),
                                    nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width), nn.ReLU(True))
        self.join = nn.Sequential(nn.Conv2d(2 * width + c_dim, 2 * width, 3, 1, 1), nn.BatchNorm2d(2 * width),
                                  nn.ReLU(True), *[_Residual(2 * width) for _ in range(residual_blocks)])
        self.stage2 = nn.Sequential(_up(2 * width, width), _up(width, max(width // 2, 1)),
                                    nn.Conv2d(max(width // 2, 1), channels, 3, 1, 1))
        self.width = width

    def forward(self, z: torch.Tensor, tokens: torch.Tensor, eps: torch.Tensor, stage: int = 2,
                with_kl: bool = False):
        phi = bag_of_words(tokens, self.vocab_size)
        eps1, eps2 = eps.split(self.c_dim, dim=1)
        c1, mu1, logvar1 = self.ca1(phi, eps1)
        s = self.side // 4
        h1 = self.stage1_fc(torch.cat([z, c1], 1)).view(len(z), 2 * self.width, s, s)
        # c_1 joins again on every position of the first feature map, so the text reaches the convolutions
        logits = self.stage1(torch.cat([h1, c1[:, :, None, None].expand(-1, -1, s, s)], 1))
        low = torch.tanh(logits)
        if stage == 1 and not with_kl:
            return low
        c2, mu2, logvar2 = self.ca2(phi, eps2)
        h = self.encode(low.detach())
        h = self.join(torch.cat([h, c2[:, :, None, None].expand(-1, -1, s, s)], 1))
        # Stage-II refines: its output is a correction to Stage-I's logits, upsampled (bilinear) to full size.
        # Without that path our small Stage-II G learnt one image for every input (it ignored Stage-I).
        base = F.interpolate(logits.detach(), scale_factor=2, mode="bilinear", align_corners=False)
        high = torch.tanh(base + self.stage2(h))
        if not with_kl:
            return high
        return high, low, kl_standard_normal(mu1, logvar1) + kl_standard_normal(mu2, logvar2)


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag sigma^2) || N(0, I)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2), mean over rows."""
    return (0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)).mean()


class _StageDiscriminator(nn.Module):
    """Image (C, S, S) -> (2w, s, s) features (s = side / 4 of the full image), joined with the text code on
    every position, a 1x1 convolution, and one score."""

    def __init__(self, channels: int, image_side: int, s: int, width: int, text_dim: int, code_dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2, True)]
        ch, side = width, image_side
        while side > s:
            layers += [nn.Conv2d(ch, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            ch, side = 2 * width, side // 2
        self.image = nn.Sequential(*layers)
        self.text = nn.Sequential(nn.Linear(text_dim, code_dim), nn.LeakyReLU(0.2, True))
        self.joint = nn.Sequential(nn.Conv2d(ch + code_dim, 2 * width, 1), nn.LeakyReLU(0.2, True), nn.Flatten())
        self.score = nn.Linear(2 * width * s * s, 1)
        self.project = nn.Linear(text_dim, 2 * width * s * s, bias=False)
        self.s = s

    def forward(self, x: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        h = self.image(x)
        code = self.text(phi)[:, :, None, None].expand(-1, -1, self.s, self.s)
        f = self.joint(torch.cat([h, code], 1))
        # the paper's score of the joint features, plus a projection term <f, W phi_t> (Miyato & Koyama 2018)
        # that makes the caption matter to D from the first steps
        return (self.score(f) + (f * self.project(phi)).sum(1, keepdim=True)).flatten()


class StackDiscriminator(nn.Module):
    """D_1 (images at side / 2) and D_2 (images at side), both conditioned on the caption.

    ``forward(x, tokens, stage)`` -> (N,) scores of D_stage for the (image, caption) pairs."""

    def __init__(self, vocab_size: int, channels: int, side: int, width: int, code_dim: int = 16) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.d1 = _StageDiscriminator(channels, side // 2, side // 4, width, vocab_size, code_dim)
        self.d2 = _StageDiscriminator(channels, side, side // 4, width, vocab_size, code_dim)

    def forward(self, x: torch.Tensor, tokens: torch.Tensor, stage: int = 2) -> torch.Tensor:
        phi = bag_of_words(tokens, self.vocab_size)
        return (self.d1 if stage == 1 else self.d2)(x, phi)


__all__ = ["ConditioningAugmentation", "StackDiscriminator", "StackGenerator", "bag_of_words", "kl_standard_normal"]
