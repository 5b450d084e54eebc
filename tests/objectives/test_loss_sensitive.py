import pytest
import torch

from gankit.objectives.loss_sensitive import GLSGAN, LossSensitive, leaky_cost, sample_margin
from gankit.objectives.wgan import WGAN

G = torch.Generator().manual_seed(0)
REAL = torch.randn(6, 3, 4, 4, generator=G, dtype=torch.float64)
FAKE = torch.randn(6, 3, 4, 4, generator=G, dtype=torch.float64)
L_REAL = torch.randn(6, generator=G, dtype=torch.float64)
L_FAKE = torch.randn(6, generator=G, dtype=torch.float64)


def test_margin_and_cost_in_closed_form():
    real = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    fake = torch.tensor([[3.0, -1.0], [1.0, 1.0]])
    assert sample_margin(real, fake, "l1").tolist() == [2.0, 0.0]
    assert sample_margin(real, fake, "l2").tolist() == pytest.approx([5**0.5, 0.0])
    a = torch.tensor([-2.0, 3.0])
    assert leaky_cost(a, 0.0).tolist() == [0.0, 3.0]
    assert leaky_cost(a, 0.25).tolist() == [-0.5, 3.0]
    assert leaky_cost(a, 1.0).tolist() == [-2.0, 3.0]


def test_ls_gan_loss_in_closed_form():
    real, fake = torch.zeros(2, 2), torch.tensor([[1.0, 1.0], [0.2, 0.0]])  # margins 1.0, 0.1
    L_real, L_fake = torch.tensor([0.5, 0.0]), torch.tensor([1.0, 2.0])     # violations 0.5, -1.9
    obj = LossSensitive(lam=2.0, nonnegative=False)
    assert float(obj.d_loss(L_real, L_fake, real=real, fake=fake)) == pytest.approx(0.25 + 2.0 * 0.25)
    assert float(obj.g_loss(L_fake)) == pytest.approx(1.5)
    # nonnegative (the default): the same formula on L = |raw output|
    raw_real, raw_fake = torch.tensor([-0.5, 0.0]), torch.tensor([1.0, -2.0])
    assert torch.equal(LossSensitive(lam=2.0).d_loss(raw_real, raw_fake, real=real, fake=fake),
                       obj.d_loss(L_real, L_fake, real=real, fake=fake))
    assert torch.equal(LossSensitive().g_loss(raw_fake), torch.tensor(1.5))
    assert LossSensitive().says_real(torch.tensor([-0.4, 0.6, -0.6])).tolist() == [True, False, False]


@pytest.mark.parametrize("nonnegative", [False, True])
def test_slope_zero_reproduces_ls_gan(nonnegative):
    ls = LossSensitive(lam=1.0, nonnegative=nonnegative)
    gls = GLSGAN(slope=0.0, data_weight=1.0, nonnegative=nonnegative)
    args = (L_REAL, L_FAKE)
    assert torch.equal(gls.d_loss(*args, real=REAL, fake=FAKE), ls.d_loss(*args, real=REAL, fake=FAKE))
    assert torch.equal(gls.g_loss(L_FAKE), ls.g_loss(L_FAKE))
    # for any lambda, LS-GAN's loss is lambda times GLS-GAN's with s = 0 and data weight 1 / lambda
    lam = 4.0
    scaled = lam * GLSGAN(slope=0.0, data_weight=1 / lam, nonnegative=nonnegative).d_loss(*args, real=REAL, fake=FAKE)
    direct = LossSensitive(lam=lam, nonnegative=nonnegative).d_loss(*args, real=REAL, fake=FAKE)
    assert abs(float(scaled - direct)) < 1e-12


def test_slope_one_reproduces_wgan_for_the_critic_minus_l():
    gls = GLSGAN(slope=1.0)
    d = gls.d_loss(L_REAL, L_FAKE, real=REAL, fake=FAKE)
    mean_margin = sample_margin(REAL, FAKE).mean()  # a constant: it does not depend on D
    assert abs(float(d - mean_margin - WGAN().d_loss(-L_REAL, -L_FAKE))) < 1e-12
    assert torch.equal(gls.g_loss(L_FAKE), WGAN().g_loss(-L_FAKE))
    # and so the same gradients with respect to D's outputs
    lr, lf = L_REAL.clone().requires_grad_(True), L_FAKE.clone().requires_grad_(True)
    gls.d_loss(lr, lf, real=REAL, fake=FAKE).backward()
    cr, cf = (-L_REAL).clone().requires_grad_(True), (-L_FAKE).clone().requires_grad_(True)
    WGAN().d_loss(cr, cf).backward()
    assert torch.allclose(lr.grad, -cr.grad, atol=0) and torch.allclose(lf.grad, -cf.grad, atol=0)


def test_samples_are_required_and_params_checked():
    with pytest.raises(ValueError, match="needs the samples"):
        LossSensitive().d_loss(L_REAL, L_FAKE)
    with pytest.raises(ValueError, match="margin='l3': choose one of l1, l2"):
        GLSGAN(margin="l3")
    with pytest.raises(ValueError, match=r"slope=-0.1: must be in \[0, 1\]"):
        GLSGAN(slope=-0.1)
    with pytest.raises(ValueError, match="nonnegative=1: must be true or false"):
        LossSensitive(nonnegative=1)
