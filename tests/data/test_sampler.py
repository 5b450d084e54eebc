import pytest
import torch

from gankit.data.folder import load_image_folder
from gankit.data.sampler import BatchStream, InfiniteSampler, StreamingBatchStream, make_batch_stream
from tests.data.file_writers import write_class_folder


def test_each_epoch_is_a_permutation_without_the_last_partial_batch():
    s = InfiniteSampler(n=10, batch_size=3, seed=0)
    epoch0 = torch.cat([s.next() for _ in range(3)])
    assert len(set(epoch0.tolist())) == 9  # 10 // 3 batches, one index left out
    assert s.state_dict() == {"epoch": 0, "position": 9}
    s.next()
    assert s.state_dict() == {"epoch": 1, "position": 3}


def test_state_round_trip_gives_the_same_future():
    a = InfiniteSampler(n=100, batch_size=7, seed=3)
    for _ in range(20):
        a.next()
    b = InfiniteSampler(n=100, batch_size=7, seed=3)
    b.load_state_dict(a.state_dict())
    for _ in range(30):
        assert torch.equal(a.next(), b.next())


def test_seed_changes_the_order():
    assert not torch.equal(InfiniteSampler(100, 10, 0).next(), InfiniteSampler(100, 10, 1).next())


# -- the streamed stream: a folder left on disk, read through a DataLoader -------------------------

@pytest.fixture(scope="module")
def pets(tmp_path_factory):
    return write_class_folder(tmp_path_factory.mktemp("stream") / "pets")


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_batches_equal_in_memory_batches_and_resume_exactly(pets, workers):
    memory, disk = load_image_folder(pets).train, load_image_folder(pets, memory_budget_mb=0).train
    a = make_batch_stream(memory, batch_size=6, seed=3)
    b = make_batch_stream(disk, batch_size=6, seed=3, workers=workers)
    assert isinstance(a, BatchStream) and isinstance(b, StreamingBatchStream)
    rng = torch.get_rng_state()
    for _ in range(7):  # 16 train images, 2 batches an epoch: crosses three epoch boundaries
        x, y = a.next(), b.next()
        assert torch.equal(torch.get_rng_state(), rng)  # the readers leave the run's random draws alone
        assert torch.equal(x.x, y.x) and torch.equal(x.y, y.y) and x.x.dtype == torch.float32
        assert a.state_dict() == b.state_dict()  # batches handed out, not those the workers read ahead
    state = b.state_dict()
    assert state == {"epoch": 3, "position": 6}
    later = [b.next() for _ in range(3)]
    c = make_batch_stream(disk, batch_size=6, seed=3, workers=workers)
    c.load_state_dict(state)
    for expected in later:
        assert torch.equal(c.next().x, expected.x)
    b.load_state_dict(state)  # loading a state restarts the readers there
    assert torch.equal(b.next().x, later[0].x)
    b.close(), c.close()


def test_streamed_rank_shares_match_the_in_memory_ones(pets):
    memory, disk = load_image_folder(pets).train, load_image_folder(pets, memory_budget_mb=0).train
    for rank in (0, 1):
        a = make_batch_stream(memory, 8, seed=0, rank=rank, world=2)
        b = make_batch_stream(disk, 8, seed=0, rank=rank, world=2, workers=0)
        for _ in range(3):
            assert torch.equal(a.next().x, b.next().x)
