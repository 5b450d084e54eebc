import torch

from gankit.data.sampler import InfiniteSampler


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
