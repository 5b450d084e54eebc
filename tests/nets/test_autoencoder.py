import torch

from gankit.config import NetConfig
from gankit.data.base import DataInfo
from gankit.nets.autoencoder import build_autoencoder_discriminator, image_autoencoder, vector_autoencoder


def test_energy_is_the_mean_squared_reconstruction_error():
    torch.manual_seed(0)
    for ae, x in ((vector_autoencoder((2,), 16, 2), torch.randn(5, 2)),
                  (image_autoencoder(3, 32, 4), torch.rand(5, 3, 32, 32) * 2 - 1)):
        energy, code = ae.energy_and_embedding(x)
        recon = ae.decoder(ae.encoder(x)).view_as(x)
        assert energy.shape == (5,) and torch.allclose(energy, ((recon - x) ** 2).flatten(1).mean(1))
        assert torch.equal(ae(x), energy) and torch.equal(ae.embed(x), code) and code.shape[0] == 5


def test_the_dataset_decides_the_shape():
    cfg = NetConfig(width=8, depth=2)
    img = build_autoencoder_discriminator(cfg, DataInfo(name="t", kind="image", shape=(1, 28, 28), num_classes=10))
    assert img(torch.zeros(2, 1, 28, 28)).shape == (2,)
    assert img.embed(torch.zeros(2, 1, 28, 28)).shape == (2, 16 * 7 * 7)  # two stride-2 stages: 8, 16 channels
    vec = build_autoencoder_discriminator(cfg, DataInfo(name="t", kind="vector", shape=(2,), num_classes=0))
    assert vec(torch.zeros(3, 2)).shape == (3,) and vec.embed(torch.zeros(3, 2)).shape == (3, 8)
