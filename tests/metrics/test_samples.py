"""Tests of gankit/metrics/samples.py: the one real-subset rule, and sampling G through its source."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.metrics.samples import GeneratorSampler, as_sampler, real_subset, subset_indices
from gankit.sampling import LatentPrior, generate


def test_each_subset_has_its_own_seeded_stream() -> None:
    # the rule: the first n of randperm(len) from a generator seeded with seed * 1000 + role
    for seed, role, salt in [(0, "reference", 0), (0, "train", 1), (3, "reference", 0), (3, "mre_test", 3)]:
        expected = torch.randperm(50, generator=torch.Generator().manual_seed(seed * 1000 + salt))[:20]
        assert torch.equal(subset_indices(50, 20, seed, role), expected)
    x = torch.arange(50.0)[:, None]
    assert torch.equal(real_subset(x, 20, 3, "train"), x[subset_indices(50, 20, 3, "train")])
    assert not torch.equal(subset_indices(50, 20, 0, "reference"), subset_indices(50, 20, 0, "train"))
    with pytest.raises(ValueError, match="unknown real-subset role 'nope'"):
        subset_indices(50, 20, 0, "nope")


def test_a_subset_depends_only_on_its_own_split() -> None:
    # the train subset is the same whatever the reference split holds (the old end-of-run rule drew
    # both from one generator, so the train subset moved with the reference split's size)
    train = torch.arange(100.0)[:, None]
    a = real_subset(train, 30, 0, "train")
    real_subset(torch.zeros(40, 1), 30, 0, "reference")
    b = real_subset(train, 30, 0, "train")
    assert torch.equal(a, b) and len(set(a[:, 0].tolist())) == 30


def test_generator_sampler_draws_what_the_source_and_generate_give() -> None:
    G, prior = nn.Linear(3, 2), LatentPrior(3)
    sampler = as_sampler(G, prior)
    assert isinstance(sampler, GeneratorSampler) and sampler.fingerprint() == {}
    expected = generate(G, prior.sample(25, seed=4))
    assert torch.equal(sampler.draw(25, seed=4), expected)
    torch.testing.assert_close(torch.cat(list(sampler.draw_chunks(25, 4, size=10))), expected)
    assert as_sampler(sampler, None) is sampler
    with pytest.raises(ValueError, match="source"):
        as_sampler(G, None)
