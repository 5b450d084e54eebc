"""Sources of a generator's input, and drawing samples from a generator in batches.

A model's :class:`Source` says what G takes: rows of a latent prior (:class:`LatentPrior`; conditional
and code-structured models put the class one-hot or the codes into that row), or, for the families that
translate data, a conditioning image plus noise or local coordinates. Sampling, EMA, evaluation and
checkpoints go through :meth:`gankit.models.Model.sample`, which asks the source, so none of them
needs to know which family produced G.

- ``prior.sample(n, device=...)`` draws from the global torch RNG (training: its state is checkpointed);
- ``prior.sample(n, seed=s)`` draws from its own generator seeded with ``s`` (grids, evaluation: the
  same rows on any device and in any run);
- ``prior.grid(n, seed)`` is what sample grids show (a conditional prior lays classes out by row).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def latent(n: int, z_dim: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` standard-normal latent vectors from their own generator seeded with ``seed`` (same on any device)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, z_dim, generator=g).to(device)


def cycled_rows(count: int, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` indices into ``count`` stored inputs: one random permutation (from ``generator``, or the global
    RNG when None) repeated as often as needed, so every input is used once before any is used twice."""
    perm = torch.randperm(count, generator=generator)
    return perm.repeat(math.ceil(n / count))[:n]


class Source:
    """What a generator takes as input, and how to draw it.

    ``sample(n, seed=s)`` draws the inputs of ``n`` samples reproducibly (the same on any device and in
    any run; ``seed=None`` draws from the global torch RNG, whose state checkpoints keep); ``grid(n, seed)``
    the inputs a sample grid shows. ``latent`` says whether the inputs are rows of a latent space that
    can be optimised or differentiated through (MRE and the Jacobian metrics need that).
    """

    latent: bool = False

    def sample(self, n: int, seed: int | None = None, device: torch.device | str = "cpu",
               y: torch.Tensor | None = None):
        raise NotImplementedError

    def grid(self, n: int, seed: int, device: torch.device | str = "cpu"):
        """The inputs a sample grid shows (default: ``n`` seeded draws)."""
        return self.sample(n, seed=seed, device=device)


class LatentPrior(Source):
    """The distribution of G's input rows. The base class is N(0, I) in ``dim`` dimensions.

    Subclasses override :meth:`draw` (and :meth:`grid` if a grid should be laid out). ``y``, when a
    subclass supports it, fixes the class of each row.

    Example::

        prior = LatentPrior(100)
        z = prior.sample(64, seed=0)          # (64, 100), reproducible
        z = prior.sample(64, device="cuda")   # from the global RNG
    """

    latent = True

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def sample(self, n: int, seed: int | None = None, device: torch.device | str = "cpu",
               y: torch.Tensor | None = None) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        if g is not None:  # seeded rows are drawn on the CPU so they are identical on every device
            return self.draw(n, g, "cpu", y).to(device)
        return self.draw(n, None, device, y)

    def draw(self, n: int, generator: torch.Generator | None, device: torch.device | str,
             y: torch.Tensor | None) -> torch.Tensor:
        if y is not None:
            raise ValueError(f"{type(self).__name__} is unconditional; it takes no class labels")
        return torch.randn(n, self.dim, generator=generator, device=device)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"



class ConditionalPrior(LatentPrior):
    """Rows ``[z, one_hot(y)]`` for class-conditional generators (CGAN, ACGAN): z ~ N(0, I), y uniform.

    ``dim = z_dim + num_classes``; ``y`` (N,) int fixes the classes. The plain generator fed these
    rows is the concatenation-conditioned CGAN generator of Mirza & Osindero (2014), Fig. 1.
    ``grid`` lays classes out one per row: ``num_classes`` rows of the same ``num_classes`` z's.

    Example::

        prior = ConditionalPrior(100, 10)
        rows = prior.sample(8, seed=0, y=torch.full((8,), 7))   # eight 7s
        prior.labels(rows)                                        # tensor([7, 7, ...])
    """

    def __init__(self, z_dim: int, num_classes: int) -> None:
        if num_classes < 2:
            raise ValueError(f"a conditional prior needs at least 2 classes, got {num_classes}")
        super().__init__(z_dim + num_classes)
        self.z_dim, self.num_classes = z_dim, num_classes

    def draw(self, n: int, generator: torch.Generator | None, device: torch.device | str,
             y: torch.Tensor | None) -> torch.Tensor:
        z = torch.randn(n, self.z_dim, generator=generator, device=device)
        y = self.check_labels(n, y, device) if y is not None else \
            torch.randint(self.num_classes, (n,), generator=generator, device=device)
        return torch.cat([z, nn.functional.one_hot(y, self.num_classes).to(z.dtype)], dim=1)

    def check_labels(self, n: int, y: torch.Tensor, device: torch.device | str) -> torch.Tensor:
        """``y`` as an (n,) int64 tensor on ``device``; a wrong shape or a class out of range is an error."""
        y = torch.as_tensor(y, dtype=torch.long).to(device)
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {tuple(y.shape)}")
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= self.num_classes):
            raise ValueError(f"classes must lie in 0..{self.num_classes - 1}, got {y.min().item()}..{y.max().item()}")
        return y

    def labels(self, rows: torch.Tensor) -> torch.Tensor:
        """The class of each row (N,) int64: the position of its one-hot."""
        return rows[:, self.z_dim:].argmax(dim=1)

    def grid(self, n: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """``num_classes`` rows of ``num_classes`` samples (``n`` is not used): row k is class k, and
        column j uses the same z in every row, so a square grid shows what the class alone changes."""
        k = self.num_classes
        z = latent(k, self.z_dim, seed).repeat(k, 1)  # (k*k, z_dim): z_0..z_{k-1}, then again per row
        y = torch.arange(k).repeat_interleave(k)
        return torch.cat([z, nn.functional.one_hot(y, k).to(z.dtype)], dim=1).to(device)

    def __repr__(self) -> str:
        return f"ConditionalPrior(z_dim={self.z_dim}, num_classes={self.num_classes})"


def _chunks(inputs, size: int) -> list:
    """``inputs`` cut into row chunks of ``size``: a tensor, or a tuple of tensors (each argument of G)."""
    if isinstance(inputs, torch.Tensor):
        return list(inputs.split(size))
    parts = [t.split(size) for t in inputs]
    return [tuple(p[i] for p in parts) for i in range(len(parts[0]))]


@torch.no_grad()
def generate(G: nn.Module, z, batch_size: int = 500) -> torch.Tensor:
    """G(z) in eval mode, batched, returned on the CPU as float32. G's train/eval mode is restored.

    ``z`` is what the model's :class:`Source` drew: one tensor of rows, or a tuple of tensors that are
    G's positional arguments (e.g. a conditioning image and local coordinates)."""
    was_training = G.training
    G.eval()
    try:
        out = [(G(chunk) if isinstance(chunk, torch.Tensor) else G(*chunk)).float().cpu()
               for chunk in _chunks(z, batch_size)]
    finally:
        G.train(was_training)
    return torch.cat(out)
