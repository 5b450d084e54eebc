"""A resumable, seeded sampler of minibatch indices, and the stream of batches a training process reads.

The sampler's whole state is two integers (epoch, position), saved in every checkpoint, so a resumed
run draws exactly the batches the uninterrupted run would have drawn.
"""

from __future__ import annotations

import torch

from gankit.data.base import Split
from gankit.data.batch import Batch
from gankit.errors import ConfigError


class InfiniteSampler:
    """Yields index batches over ``n`` samples forever, reshuffling each epoch.

    The permutation of epoch ``e`` depends only on ``(seed, e)``; the last incomplete batch of
    an epoch is dropped, so every batch has exactly ``batch_size`` indices.

    Example::

        s = InfiniteSampler(n=4000, batch_size=64, seed=0)
        idx = s.next()              # LongTensor of 64 indices
        state = s.state_dict()      # {"epoch": 0, "position": 64}
    """

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        if batch_size > n:
            raise ValueError(f"batch_size {batch_size} is larger than the training split ({n} samples)")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.epoch, self.position = 0, 0
        self._perm = self._permutation(0)

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.n, generator=g)

    def next(self) -> torch.Tensor:
        if self.position + self.batch_size > self.n:
            self.epoch += 1
            self.position = 0
            self._perm = self._permutation(self.epoch)
        idx = self._perm[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return idx

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._perm = self._permutation(self.epoch)


class BatchStream:
    """The training batches of one process: a :class:`~gankit.data.batch.Batch` on ``device`` per call.

    ``batch_size`` is the global batch. With ``world`` processes (data-parallel training) every process
    follows the same seeded index sampler and keeps its own contiguous share of each global batch
    (``batch_size / world`` rows, rank 0 the first), so the processes together see exactly the batches
    a single process would, and the sampler's state means the same in each of them.

    Example::

        stream = BatchStream(dataset.train, batch_size=64, seed=0, device="cpu")
        batch = stream.next()          # Batch(x=(64, 1, 28, 28), y=(64,))
    """

    def __init__(self, split: Split, batch_size: int, seed: int, device: torch.device | str = "cpu",
                 rank: int = 0, world: int = 1, name: str = "the dataset") -> None:
        if batch_size > len(split):
            raise ConfigError(f"train.batch_size: {batch_size} is larger than the training split "
                              f"of {name} ({len(split)} samples)")
        if batch_size % world:
            raise ConfigError(f"train.batch_size: {batch_size} does not split evenly over {world} processes "
                              "(it is the global batch); choose a multiple of the process count")
        self.split = split.to(device)  # moved once; batches are gathered on the device
        self.device = torch.device(device)
        self.sampler = InfiniteSampler(len(split), batch_size, seed)
        self.rank, self.world, self.local = rank, world, batch_size // world

    def next(self) -> Batch:
        idx = self.sampler.next()
        if self.world > 1:
            idx = idx[self.rank * self.local:(self.rank + 1) * self.local]
        return self.split.batch(idx.to(self.device))

    def state_dict(self) -> dict[str, int]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.load_state_dict(state)
