import json

import pytest
import torch
import torch.nn.functional as F

from gankit.data import build_dataset
from gankit.data.batch import Batch
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.models import build_model
from gankit.models.classifier import classification_error
from gankit.models.lgan import tangent_penalty, tangent_smoothness, tangents
from gankit.models.lgan_ssl import LocalSemiSupervisedGAN
from gankit.models.ssgan import feature_matching
from gankit.objectives.gan import NonSaturating
from gankit.plugins import load_config
from tests.conftest import TINY_VECTOR
from tests.models.conditional_helpers import tiny
from tests.models.representation_helpers import check_determinism_and_resume

SSL = ("model.name=lgan-ssl", "data.labels=20", "train.steps=6", "model.params.labelled_batch=8",
       "model.params.local_dim=3", "model.params.smooth_batch=4", "model.params.tangent_batch=5")


def _model(*overrides: str) -> LocalSemiSupervisedGAN:
    torch.manual_seed(0)
    cfg = tiny(*SSL, *overrides)
    return build_model(cfg, build_dataset(cfg.data).info, "cpu")


def _real(n: int = 6) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(1)) * 2 - 1


def _ssgan_d_loss(model, real, seed):
    """The semi-supervised GAN's D loss with local fakes, recomputed from the same draws as the step."""
    torch.manual_seed(seed)
    idx = torch.randint(len(model.labelled_x), (model.labelled_batch,))
    x, z = model.source.sample(len(real))
    with torch.no_grad():
        sup = F.cross_entropy(model.D(model.labelled_x[idx]), model.labelled_y[idx])
        unsup = NonSaturating().d_loss(torch.logsumexp(model.D(real), 1), torch.logsumexp(model.D(model.G(x, z)), 1))
    return sup + model.unsup_weight * unsup


def test_d_step_is_the_ssgan_loss_on_local_fakes_plus_the_weighted_smoothness():
    real = _real()
    off = _model("model.params.smooth_weight=0")
    off.D.eval()  # no input noise, so the check can recompute D's outputs
    torch.manual_seed(3)
    d = off.d_step(Batch(x=real, y=torch.full((6,), -1)))
    torch.testing.assert_close(d.loss.detach(), _ssgan_d_loss(off, real, 3), rtol=1e-6, atol=0)
    assert "reg_smooth" not in d.stats

    on = _model("model.params.smooth_weight=2.5")
    on.D.eval()
    torch.manual_seed(3)
    d = on.d_step(Batch(x=real, y=torch.full((6,), -1)))
    T = tangents(on.G, real[:4], 3, on.tangent_scale)  # the first smooth_batch images, G's tangents / s
    smooth = 2.5 * tangent_smoothness(on.D, real[:4], T)
    assert smooth > 0
    torch.testing.assert_close(d.stats["reg_smooth"], smooth.detach(), rtol=1e-6, atol=0)
    torch.testing.assert_close(d.loss.detach(), _ssgan_d_loss(on, real, 3) + smooth.detach(), rtol=1e-6, atol=0)
    # D's step moves D only: G's tangents enter as constants
    on.zero_grad()
    torch.manual_seed(3)
    on.d_step(Batch(x=real)).loss.backward()
    assert all(p.grad is None for p in on.nets["G"].parameters())


def test_g_step_is_feature_matching_on_local_fakes_plus_the_tangent_penalty():
    real = _real()
    model = _model("model.params.tangent_weight=0.5")
    model.D.eval()
    torch.manual_seed(4)
    g = model.g_step(Batch(x=real))
    torch.manual_seed(4)
    x, z = model.source.sample(6)
    with torch.no_grad():
        fm = feature_matching(model.D(real, with_features=True)[1], model.D(model.G(x, z), with_features=True)[1])
    penalty = tangent_penalty(model.G, real[:5], 3, model.tangent_scale, 0.5).detach()
    torch.testing.assert_close(g.stats["reg_tangent"], penalty, rtol=1e-6, atol=0)
    torch.testing.assert_close(g.loss.detach(), fm + penalty, rtol=1e-6, atol=0)
    assert model.G(x, 0 * z).equal(x)  # the chart passes through x


def test_bad_configs_get_one_line():
    with pytest.raises(ConfigError, match="data.labels: lgan-ssl needs at least one labelled"):
        cfg = tiny(*SSL[:1], "data.labels=0")
        build_model(cfg, build_dataset(cfg.data).info, "cpu")
    with pytest.raises(ConfigError, match="data.name: lgan-ssl moves images along their tangents"):
        cfg = load_config(overrides=[*TINY_VECTOR, "model.name=lgan-ssl"])
        build_model(cfg, build_dataset(cfg.data).info, "cpu")
    with pytest.raises(ConfigError, match="smooth_weight"):
        cfg = tiny(*SSL, "model.params.smooth_weight=-1")
        build_model(cfg, build_dataset(cfg.data).info, "cpu")


def test_determinism_resume_and_the_final_figures(tmp_path):
    cfg = tiny(*SSL)
    check_determinism_and_resume(cfg, tmp_path, {"G", "D", "G_ema"})
    run = train(load_config(base=cfg.to_dict(), overrides=["eval.at_end=true", "eval.n=50"]),
                run_dir=tmp_path / "eval", progress=False)
    figures = json.loads((run.run_dir / "model_figures.json").read_text())
    test = build_dataset(cfg.data).split("test")
    assert figures["values"]["classifier_error"] == classification_error(run.model.D, test)
    assert set(figures["values"]["local_dimension"]) >= {"effective_rank", "rank", "singular_values_over_s"}
    assert len(figures["values"]["local_dimension"]["singular_values_over_s"]) == 3
    # gankit edit moves an image along this family's tangents too: 3 rows (local coordinates) x 9 columns
    # of 8 px digits with 2 px borders, 92 x 32, enlarged 3x
    from PIL import Image

    import gankit

    assert Image.open(gankit.edit(run.run_dir, index=0, out=tmp_path / "edit.png")).size == (276, 96)
