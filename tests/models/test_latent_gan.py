import pytest
import torch

from gankit.data.base import DataInfo
from gankit.engine.checkpoint import load_latest
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.models import build_model
from gankit.models.latent_gan import CodeDecoder, LatentGAN
from tests.models.conditional_helpers import tiny
from tests.models.representation_helpers import (
    check_determinism_and_resume,
    net_weights,
)

DIGITS = DataInfo("digits", "image", (1, 8, 8), 10)
LG = ("model.name=latent-gan", "model.params.ae_steps=4", "model.params.code_dim=3", "model.params.code_width=16",
      "model.params.code_depth=1", "train.steps=8")


def test_g_is_the_composite_decoder_of_g_code_on_the_prior_rows():
    torch.manual_seed(0)
    model = build_model(tiny(*LG), DIGITS, "cpu")
    assert isinstance(model, LatentGAN) and isinstance(model.G, CodeDecoder)
    z = model.prior.sample(5, seed=1)
    model.G.eval()
    with torch.no_grad():
        assert torch.equal(model.G(z), model.G(model.G(z, stage="code"), stage="decode"))
    assert model.G(z).shape == (5, 1, 8, 8) and model.G(z, stage="code").shape == (5, 3) and model.E(model.G(z)).shape == (5, 3)


def _by_net(weights: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k: v for k, v in weights.items() if k.startswith(prefix)}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_phases_split_the_steps(tmp_path):
    cfg = tiny(*LG)
    part = train(cfg, run_dir=tmp_path / "r", progress=False, on_step=lambda step: step == 1)
    after_1 = net_weights(part.run_dir)  # stopped at step 1
    mid = net_weights(train(resume=part.run_dir, progress=False, on_step=lambda step: step == 4).run_dir)
    end = net_weights(train(resume=part.run_dir, progress=False).run_dir)
    assert int(after_1["phase.count"]) == 1 and int(mid["phase.count"]) == 4 and int(end["phase.count"]) == 8
    # auto-encoder phase (steps 1..4): E and the decoder move, G_code and D_code do not
    assert not _same(_by_net(after_1, "E."), _by_net(mid, "E."))
    assert not _same(_by_net(after_1, "G.decoder."), _by_net(mid, "G.decoder."))
    assert _same(_by_net(after_1, "G.G_code."), _by_net(mid, "G.G_code.")) and _same(_by_net(after_1, "D."), _by_net(mid, "D."))
    # code GAN phase (steps 5..8): the reverse
    assert _same(_by_net(mid, "E."), _by_net(end, "E.")) and _same(_by_net(mid, "G.decoder."), _by_net(end, "G.decoder."))
    assert not _same(_by_net(mid, "G.G_code."), _by_net(end, "G.G_code.")) and not _same(_by_net(mid, "D."), _by_net(end, "D."))
    assert load_latest(part.run_dir / "checkpoints").meta["step"] == 8


def test_ae_steps_must_leave_room_for_the_gan():
    with pytest.raises(ConfigError, match=r"model\.params\.ae_steps: 8 leaves no step"):
        build_model(tiny(*LG, "model.params.ae_steps=8"), DIGITS, "cpu")
    with pytest.raises(ConfigError, match=r"model\.params\.code_dim"):
        build_model(tiny(*LG, "model.params.code_dim=0"), DIGITS, "cpu")


def test_determinism_and_resume(tmp_path):
    check_determinism_and_resume(tiny(*LG), tmp_path, {"G", "E", "D", "phase", "G_ema"})
