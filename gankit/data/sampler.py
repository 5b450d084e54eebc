"""A resumable, seeded sampler of minibatch indices.

Its whole state is two integers (epoch, position), saved in every checkpoint, so a resumed run
draws exactly the batches the uninterrupted run would have drawn.
"""

from __future__ import annotations

import torch


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
