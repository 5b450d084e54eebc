import math

import pytest
import torch

from gankit.engine.schedule import lr_factor, make_optimizer, set_lr
from gankit.plugins import load_config


@pytest.mark.parametrize("done", [0, 3, 7, 10])
def test_lr_factor_closed_forms(done):
    assert lr_factor("none", done, 10) == 1.0
    assert lr_factor("linear", done, 10) == pytest.approx(1 - done / 10)
    assert lr_factor("cosine", done, 10) == pytest.approx((1 + math.cos(math.pi * done / 10)) / 2)
    assert lr_factor("inverse", done, 10) == pytest.approx((1 + done) ** -0.75)  # (1 + 10 p)^-0.75, p = done / 10


def test_inverse_decay_values_of_the_paper():
    # Ganin & Lempitsky 2015: mu_p = 0.01 / (1 + 10 p)^0.75: 0.01 at p = 0, 0.01 / 6^0.75 = 0.002608 at p = 1/2,
    # 0.01 / 11^0.75 = 0.001656 at p = 1
    assert [round(0.01 * lr_factor("inverse", d, 3000), 6) for d in (0, 1500, 3000)] == [0.01, 0.002608, 0.001656]


def test_make_optimizer_follows_train_optimizer():
    w = [torch.nn.Parameter(torch.ones(2))]
    sgd = make_optimizer(load_config(overrides=["train.optimizer=sgd", "train.momentum=0.5"]).train, w, 0.1)
    adam = make_optimizer(load_config(overrides=["train.betas=[0.0, 0.9]"]).train, w, 0.1)
    assert type(sgd) is torch.optim.SGD and sgd.param_groups[0]["momentum"] == 0.5 and sgd.param_groups[0]["lr"] == 0.1
    assert type(adam) is torch.optim.Adam and adam.param_groups[0]["betas"] == (0.0, 0.9)
    # heavy ball: v <- 0.5 v + g, w <- w - 0.1 v; with g = 1 twice: w = 1 - 0.1 - 0.15
    for _ in range(2):
        sgd.zero_grad()
        w[0].sum().backward()
        sgd.step()
    assert torch.allclose(w[0], torch.full((2,), 0.75))


def test_set_lr_sets_every_group_and_accepts_no_optimiser():
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 5.0}], lr=1.0)
    set_lr(opt, 2e-4, 0.25)
    assert [g["lr"] for g in opt.param_groups] == [5e-5, 5e-5]
    set_lr(None, 1.0, 1.0)  # a model without D has no D optimiser
