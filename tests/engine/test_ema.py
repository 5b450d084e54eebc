
import torch

from gankit.engine.ema import EMA


def test_half_life_is_counted_in_images():
    G = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(G.weight)
    ema = EMA(G, half_life_images=1000, rampup=None)
    with torch.no_grad():
        G.weight.fill_(1.0)
    for batch in (10, 50):  # any batch size: after 1,000 images, half the gap is closed
        ema.G_ema.weight.data.zero_()
        for _ in range(1000 // batch):
            ema.update(G, batch, images_seen=10**9)
        assert abs(float(ema.G_ema.weight) - 0.5) < 1e-6


def test_rampup_caps_the_half_life_early():
    ema = EMA(torch.nn.Linear(1, 1), half_life_images=10_000, rampup=0.05)
    assert ema.beta(64, images_seen=640) == 0.5 ** (64 / 32.0)
    assert ema.beta(64, images_seen=10**7) == 0.5 ** (64 / 10_000)


def test_buffers_are_copied_and_ema_has_no_grad():
    G = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    ema = EMA(G, 100)
    G(torch.randn(16, 2))  # updates running stats
    ema.update(G, 16, 16)
    assert torch.equal(ema.G_ema[1].running_mean, G[1].running_mean)
    assert not any(p.requires_grad for p in ema.G_ema.parameters())
    assert not ema.G_ema.training
