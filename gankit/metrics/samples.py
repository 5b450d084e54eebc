"""What every evaluation scores: generated samples from a sampler, and seeded subsets of the real splits.

Both callers, the end-of-training figure (:func:`gankit.metrics.evaluate_generator`) and ``gankit eval``
(:func:`gankit.evaluate`), draw their samples here and nowhere else, so the same fingerprint gives
the same number from either.

- Generated samples come from a *sampler*: an object with ``draw(n, seed, device)`` and
  ``fingerprint()``. :class:`GeneratorSampler` is a plain G fed by its model's :class:`~gankit.sampling.Source`
  (exactly what :meth:`gankit.models.Model.sample` draws); :class:`gankit.drs.RejectionSampler` keeps
  only the samples DRS accepts. No metric of a sample assumes a latent ``G(z)``.
- Real samples: :func:`real_subset`, the one seeding rule (see there).

Example::

    fake = GeneratorSampler(G_ema, model.source).draw(500, seed=0)
    reference = real_subset(dataset.split("test"), 500, seed=0, role="reference")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from gankit.errors import GankitError
from gankit.sampling import Source, generate

# Each real subset has its own role, and each role its own stream of random numbers (see real_subset).
SUBSET_ROLES = {"reference": 0, "train": 1, "mre_train": 2, "mre_test": 3}


def subset_indices(length: int, n: int, seed: int, role: str) -> torch.Tensor:
    """The indices of :func:`real_subset`: the first ``n`` of a permutation of ``range(length)``."""
    if role not in SUBSET_ROLES:
        raise ValueError(f"unknown real-subset role {role!r}; choose from {', '.join(SUBSET_ROLES)}")
    # The single seeding rule. Each subset has its own generator, seeded with seed * 1000 + its role's
    # number, so a subset depends on nothing but (its split, n, seed, role). That is what the on-disk
    # cache of real features is keyed by, and adding or dropping another subset cannot shift it. (The
    # end-of-run figure used to draw the reference and then the train subset from ONE generator, so its
    # train subset depended on the size of the reference split, which no fingerprint names; that is how
    # it printed real-vs-real 1.6824 where `gankit eval` printed 1.6882 for the same fingerprint.) For
    # seed 0 the reference subset is the one both rules drew, so seed-0 generated-vs-real FIDs are unchanged.
    g = torch.Generator().manual_seed(seed * 1000 + SUBSET_ROLES[role])
    return torch.randperm(length, generator=g)[:n]


def real_subset(split: Any, n: int, seed: int, role: str = "reference") -> torch.Tensor:
    """``n`` rows of a real split, drawn for ``role`` ("reference", "train", "mre_train", "mre_test"), as
    float32 samples (a :class:`~gankit.data.base.Split` converts only those rows; a tensor is indexed).

    Example::

        train = real_subset(dataset.train, 500, seed=0, role="train")   # the real-vs-real side
    """
    idx = subset_indices(len(split), n, seed, role)
    return split.float_x(idx) if hasattr(split, "float_x") else split[idx]


SUBSET_RULE = "first n of randperm(len(split)) seeded with seed * 1000 + role (reference 0, train 1)"


def checked_shape(fake: torch.Tensor, shape: tuple) -> torch.Tensor:
    """``fake`` itself, or a :class:`GankitError` when its samples do not have the dataset's ``shape``."""
    if tuple(fake.shape[1:]) != tuple(shape):
        raise GankitError(
            f"generator output has shape {tuple(fake.shape[1:])} per sample, the dataset's samples {tuple(shape)}"
        )
    return fake


class GeneratorSampler:
    """A generator ``G`` and its model's input ``source``: ``draw(n, seed)`` is ``Model.sample(n, seed, G=G)``.

    ``G`` is whichever generator is scored (G or G_ema). Metrics of G's map itself (MRE, the Jacobian)
    read ``G`` and ``source`` and need ``source.latent``.

    Example::

        sampler = GeneratorSampler(model.nets["G"], model.source)
        x = sampler.draw(64, seed=0)          # (64, *shape), CPU float32
    """

    def __init__(self, G: nn.Module, source: Source) -> None:
        self.G, self.source = G, source

    def inputs(self, n: int, seed: int, device: torch.device | str = "cpu") -> Any:
        """G's inputs for ``n`` samples, reproducible by ``seed``."""
        return self.source.sample(n, seed=seed, device=device)

    def draw(self, n: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
        return generate(self.G, self.inputs(n, seed, device))

    def draw_chunks(self, n: int, seed: int, device: torch.device | str = "cpu",
                    size: int = 1000) -> Iterator[torch.Tensor]:
        """The samples of ``draw(n, seed)`` in chunks of ``size``, generated lazily (memory stays flat)."""
        inputs = self.inputs(n, seed, device)
        if isinstance(inputs, torch.Tensor):
            for chunk in inputs.split(size):
                yield generate(self.G, chunk)
        else:
            yield from self.draw(n, seed, device).split(size)

    def fingerprint(self) -> dict[str, Any]:
        return {}  # G itself: the fingerprint's "generator" and "prior" already say what drew the samples


def as_sampler(G: nn.Module | Any, source: Source | None) -> Any:
    """``G`` if it already is a sampler (``draw``/``fingerprint``), else :class:`GeneratorSampler` of G and ``source``."""
    if isinstance(G, nn.Module):
        if source is None:
            raise ValueError("a generator needs its model's source to be sampled")
        return GeneratorSampler(G, source)
    return G


__all__ = ["SUBSET_ROLES", "SUBSET_RULE", "GeneratorSampler", "as_sampler", "checked_shape", "real_subset",
           "subset_indices"]
