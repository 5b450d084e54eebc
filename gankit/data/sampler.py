"""A resumable, seeded sampler of minibatch indices, and the stream of batches a training process reads.

The sampler's whole state is two integers (epoch, position), saved in every checkpoint, so a resumed
run draws exactly the batches the uninterrupted run would have drawn. Two streams read it, with one
interface (``next()``, ``state_dict()``, ``load_state_dict()``): :class:`BatchStream` gathers batches
from a split held in memory; :class:`StreamingBatchStream` reads a split left on disk (an image
folder larger than ``data.memory_budget_mb``) through a ``torch.utils.data.DataLoader`` with worker
processes, in the same index order. :func:`make_batch_stream` picks one.
"""

from __future__ import annotations

import torch

from collections.abc import Iterator

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
        _check_batch(split, batch_size, world, name)
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


def check_batch(split: Split, batch_size: int, world: int, name: str) -> None:
    """A ConfigError unless ``batch_size`` fits ``split`` and splits evenly over ``world`` processes."""
    _check_batch(split, batch_size, world, name)


def _check_batch(split: Split, batch_size: int, world: int, name: str) -> None:
    if batch_size > len(split):
        raise ConfigError(f"train.batch_size: {batch_size} is larger than the training split "
                          f"of {name} ({len(split)} samples)")
    if batch_size % world:
        raise ConfigError(f"train.batch_size: {batch_size} does not split evenly over {world} processes "
                          "(it is the global batch); choose a multiple of the process count")


class _SplitRows(torch.utils.data.Dataset):
    """A split as a DataLoader dataset whose items are whole batches: ``rows[list of indices]`` -> fields.

    A plain dict of CPU tensors, so a worker process can hand it over through shared memory."""

    def __init__(self, split: Split) -> None:
        self.split = split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: list[int]) -> dict[str, torch.Tensor]:
        return dict(self.split.batch(torch.tensor(index, dtype=torch.int64)))


class _IndexBatches(torch.utils.data.Sampler):
    """This process's share of the index batches of an :class:`InfiniteSampler`, from a given state on.

    The DataLoader draws ahead of what training has used (each worker prefetches), so it iterates a
    copy of the sampler; the stream's own sampler advances only when a batch is handed to training."""

    def __init__(self, n: int, batch_size: int, seed: int, state: dict[str, int], rows: slice) -> None:
        self.n, self.batch_size, self.seed, self.state, self.rows = n, batch_size, seed, dict(state), rows

    def __iter__(self) -> Iterator[list[int]]:
        sampler = InfiniteSampler(self.n, self.batch_size, self.seed)
        sampler.load_state_dict(self.state)
        while True:
            yield sampler.next()[self.rows].tolist()


class StreamingBatchStream:
    """The training batches of one process, read from disk by a DataLoader: same batches as :class:`BatchStream`.

    For a split whose samples stay on disk (``split.streamed``, an image folder larger than
    ``data.memory_budget_mb``). The index order is the same seeded :class:`InfiniteSampler`'s, so for a
    seed this yields exactly the batches the in-memory stream would; ``workers`` processes read the
    files ahead (0: read in this process). The state is the sampler's (epoch, position) after the
    batches handed out so far, not after the ones read ahead, so a checkpoint resumes exactly; loading a
    state restarts the readers from it.

    Example::

        stream = StreamingBatchStream(dataset.train, batch_size=64, seed=0, device="cuda", workers=4)
        batch = stream.next()          # Batch(x=(64, 3, 64, 64), y=(64,)) on the device
    """

    def __init__(self, split: Split, batch_size: int, seed: int, device: torch.device | str = "cpu",
                 rank: int = 0, world: int = 1, name: str = "the dataset", workers: int = 2) -> None:
        _check_batch(split, batch_size, world, name)
        self.split = split
        self.device = torch.device(device)
        self.sampler = InfiniteSampler(len(split), batch_size, seed)
        self.rank, self.world, self.local = rank, world, batch_size // world
        self.workers = workers
        self._batches: Iterator[dict[str, torch.Tensor]] | None = None

    def _start(self) -> Iterator[dict[str, torch.Tensor]]:
        rows = slice(self.rank * self.local, (self.rank + 1) * self.local)
        order = _IndexBatches(self.sampler.n, self.sampler.batch_size, self.sampler.seed,
                              self.sampler.state_dict(), rows)
        loader = torch.utils.data.DataLoader(
            _SplitRows(self.split), sampler=order, batch_size=None, collate_fn=_as_is,
            num_workers=self.workers, pin_memory=self.device.type == "cuda",
            persistent_workers=False, prefetch_factor=2 if self.workers else None,
            # Its own generator: a DataLoader iterator draws its workers' base seed from the global RNG
            # otherwise, which would move every later latent draw of the run (readers use no randomness).
            generator=torch.Generator().manual_seed(0))
        return iter(loader)

    def next(self) -> Batch:
        if self._batches is None:
            self._batches = self._start()
        self.sampler.next()  # the state follows what training has received
        return Batch(next(self._batches)).to(self.device, non_blocking=self.device.type == "cuda")

    def state_dict(self) -> dict[str, int]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.load_state_dict(state)
        self.close()  # readers restart from the loaded state at the next batch

    def close(self) -> None:
        """Stop the reader processes (they also stop when the stream is garbage-collected)."""
        batches, self._batches = self._batches, None
        shutdown = getattr(batches, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()


def _as_is(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return batch  # each item already is a whole batch


def make_batch_stream(split: Split, batch_size: int, seed: int, device: torch.device | str = "cpu",
                      rank: int = 0, world: int = 1, name: str = "the dataset",
                      workers: int = 2) -> BatchStream | StreamingBatchStream:
    """The training stream of ``split``: :class:`BatchStream` when it is in memory, else
    :class:`StreamingBatchStream` reading it with ``workers`` processes (``data.workers``).

    Example::

        stream = make_batch_stream(dataset.train, 64, seed=0, device="cpu", workers=cfg.data.workers)
    """
    if split.streamed:
        return StreamingBatchStream(split, batch_size, seed, device, rank, world, name, workers)
    return BatchStream(split, batch_size, seed, device, rank, world, name)
