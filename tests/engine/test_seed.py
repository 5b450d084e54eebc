import random

import numpy as np
import torch

from gankit.engine.seed import rng_state, seed_everything, set_rng_state


def test_every_rng_state_round_trips():
    seed_everything(3)
    tensors, meta = rng_state()
    a = (torch.rand(3), np.random.rand(3), random.random(), np.random.randn())
    torch.rand(5), np.random.rand(5), random.random()  # move every generator on
    set_rng_state(tensors, meta)
    b = (torch.rand(3), np.random.rand(3), random.random(), np.random.randn())
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2] and a[3] == b[3]
