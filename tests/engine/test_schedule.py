import math

import pytest
import torch

from gankit.engine.schedule import lr_factor, set_lr


@pytest.mark.parametrize("done", [0, 3, 7, 10])
def test_lr_factor_closed_forms(done):
    assert lr_factor("none", done, 10) == 1.0
    assert lr_factor("linear", done, 10) == pytest.approx(1 - done / 10)
    assert lr_factor("cosine", done, 10) == pytest.approx((1 + math.cos(math.pi * done / 10)) / 2)


def test_set_lr_sets_every_group_and_accepts_no_optimiser():
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 5.0}], lr=1.0)
    set_lr(opt, 2e-4, 0.25)
    assert [g["lr"] for g in opt.param_groups] == [5e-5, 5e-5]
    set_lr(None, 1.0, 1.0)  # a model without D has no D optimiser
