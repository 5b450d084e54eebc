"""PacGAN packing: shapes, and the packed D sees exactly the concatenation of consecutive samples."""

import pytest
import torch

from gankit.data.base import DataInfo
from gankit.nets.dcgan import DCGANDiscriminator
from gankit.nets.mlp import MLPDiscriminator
from gankit.regularizers.packing import Packed, pack, packed_info


def test_pack_concatenates_consecutive_samples_along_channels():
    x = torch.arange(6 * 2 * 2 * 2, dtype=torch.float32).reshape(6, 2, 2, 2)
    p = pack(x, 3)
    assert p.shape == (2, 6, 2, 2)
    for i in range(2):
        torch.testing.assert_close(p[i], torch.cat([x[3 * i], x[3 * i + 1], x[3 * i + 2]], dim=0), rtol=0, atol=0)


def test_pack_vectors_concatenates_features():
    x = torch.randn(8, 2)
    p = pack(x, 2)
    assert p.shape == (4, 4)
    torch.testing.assert_close(p, torch.cat([x[0::2], x[1::2]], dim=1), rtol=0, atol=0)


def test_pack_rejects_a_batch_that_does_not_divide():
    with pytest.raises(ValueError, match="reg.pack"):
        pack(torch.randn(5, 2), 2)


def test_packed_info_multiplies_channels_or_features():
    assert packed_info(DataInfo("digits", "image", (1, 8, 8), 10), 3).shape == (3, 8, 8)
    assert packed_info(DataInfo("ring8", "vector", (2,)), 4).shape == (8,)


def test_packed_d_scores_the_concatenation():
    torch.manual_seed(0)
    inner = DCGANDiscriminator(2, 8, 4)           # built for pack 2 x 1 channel
    D = Packed(inner, 2)
    x = torch.randn(6, 1, 8, 8)
    out = D(x)
    assert out.shape == (3,)
    by_hand = inner(torch.stack([torch.cat([x[2 * i], x[2 * i + 1]]) for i in range(3)]))
    torch.testing.assert_close(out, by_hand, rtol=0, atol=0)
    torch.testing.assert_close(D.features(x), inner.features(pack(x, 2)), rtol=0, atol=0)
    assert D.head is inner.head
    assert not torch.allclose(D(x[[1, 0, 2, 3, 4, 5]]), out)  # order inside a pack matters


def test_packed_head_is_read_only():
    D = Packed(MLPDiscriminator((4,), 8, 1), 2)
    with pytest.raises(AttributeError):
        D.head = torch.nn.Linear(8, 1)
