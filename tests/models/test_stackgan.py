"""Tests of gankit/models/stackgan.py and gankit/nets/stackgan.py: conditioning augmentation and its KL term
against the closed form and torch.distributions, the losses by hand (matching-aware D, both stages), the
caption source, `gankit sample --text` (and its one-line errors), the follow-the-text figures, determinism
and bitwise resume of a tiny run."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gankit.cli import main
from gankit.data import build_dataset
from gankit.engine.checkpoint import load_latest
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.metrics.extractor import load_extractor
from gankit.models import build_model
from gankit.models.stackgan import StackGAN, StageOne, build_stackgan, follow_text, text_figures
from gankit.nets.stackgan import ConditioningAugmentation, bag_of_words, kl_standard_normal
from gankit.plugins import load_config
from tests.models.conditional_helpers import assert_same, tiny

CAPTIONED = ["data.name=mnist5k-captions", "model=stackgan", "train.ema=false", "train.steps=4",
             "train.batch_size=8", "train.log_every=2", "model.params.c_dim=4"]


def tiny_stackgan(*overrides: str):
    return tiny(*CAPTIONED, *overrides)


@pytest.fixture(scope="module")
def captioned():
    return build_dataset(load_config(overrides=["data.name=mnist5k-captions"]).data)


def _model(captioned, *overrides: str) -> StackGAN:
    torch.manual_seed(0)
    return build_model(tiny_stackgan(*overrides), captioned.info, "cpu")


def test_kl_term_matches_the_closed_form_and_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    sigma2 = logvar.exp()
    closed = (0.5 * (mu ** 2 + sigma2 - 1 - torch.log(sigma2)).sum(1)).mean()
    q = torch.distributions.Normal(mu, sigma2.sqrt())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    reference = torch.distributions.kl_divergence(q, p).sum(1).mean()
    torch.testing.assert_close(kl_standard_normal(mu, logvar), closed, rtol=0, atol=1e-12)
    torch.testing.assert_close(kl_standard_normal(mu, logvar), reference, rtol=1e-12, atol=1e-12)
    assert kl_standard_normal(torch.zeros(2, 4), torch.zeros(2, 4)).item() == 0.0  # N(0, I) itself


def test_conditioning_augmentation_is_mu_plus_sigma_eps():
    torch.manual_seed(0)
    ca = ConditioningAugmentation(6, 3)
    phi, eps = torch.randn(4, 6), torch.randn(4, 3)
    c, mu, logvar = ca(phi, eps)
    out = ca.fc(phi)
    torch.testing.assert_close(mu, out[:, :3], rtol=0, atol=0)
    torch.testing.assert_close(c, out[:, :3] + torch.exp(0.5 * out[:, 3:]) * eps, rtol=0, atol=1e-7)
    ca.enabled = False  # the "no CA" ablation: c = mu, eps unused
    assert torch.equal(ca(phi, eps)[0], mu) and torch.equal(ca(phi, 100 * eps)[0], mu)
    assert bag_of_words(torch.tensor([[1, 3, 3, 0]]), 5).tolist() == [[0.0, 1.0, 0.0, 2.0, 0.0]]


def test_losses_by_hand(captioned):
    model = _model(captioned)
    batch = captioned.split("train").batch(torch.arange(6))
    tokens, real = batch["caption"], batch.x
    torch.manual_seed(3)
    d = model.d_step(batch)
    torch.manual_seed(3)  # the same z and eps, drawn as the step draws them
    z, eps = model.source.noise(6)
    with torch.no_grad():
        fake2, fake1, _ = model.G(z, tokens, eps, with_kl=True)
    wrong = tokens.roll(1, dims=0)
    expected = 0.0
    for stage, r, f in ((1, F.avg_pool2d(real, 2), fake1), (2, real, fake2)):
        real_out, fake_out, wrong_out = model.D(r, tokens, stage), model.D(f, tokens, stage), model.D(r, wrong, stage)
        # non-saturating, matching-aware: real right pairs real; fakes and wrong pairs share the fake term
        expected = expected + F.softplus(-real_out).mean() + 0.5 * (F.softplus(fake_out).mean()
                                                                    + F.softplus(wrong_out).mean())
    assert fake1.shape == (6, 1, 14, 14) and fake2.shape == (6, 1, 28, 28)
    torch.testing.assert_close(d.loss, expected, rtol=1e-6, atol=1e-6)
    torch.manual_seed(4)
    g = model.g_step(batch)
    torch.manual_seed(4)
    z, eps = model.source.noise(6)
    fake2, fake1, kl = model.G(z, tokens, eps, with_kl=True)
    adv = F.softplus(-model.D(fake1, tokens, 1)).mean() + F.softplus(-model.D(fake2, tokens, 2)).mean()
    torch.testing.assert_close(g.loss, adv + 1.0 * kl, rtol=1e-6, atol=1e-6)
    phi = bag_of_words(tokens, 21)
    kl_by_hand = sum(kl_standard_normal(*ca.fc(phi).chunk(2, 1)) for ca in (model.nets["G"].ca1, model.nets["G"].ca2))
    torch.testing.assert_close(kl, kl_by_hand, rtol=1e-6, atol=1e-7)
    # the ablations: no mismatched pairs; no CA and no KL term
    plain = _model(captioned, "model.params.matching_aware=false", "model.params.ca=false")
    torch.manual_seed(4)
    g = plain.g_step(batch)
    assert torch.equal(g.loss, g.stats["g_loss"])


def test_stage_two_does_not_change_stage_one(captioned):
    model = _model(captioned)
    batch = captioned.split("train").batch(torch.arange(4))
    z, eps = model.source.noise(4, torch.Generator().manual_seed(0))
    fake2 = model.G(z, batch["caption"], eps)
    fake2.sum().backward()
    G = model.nets["G"]
    assert all(p.grad is None for p in [*G.stage1_fc.parameters(), *G.stage1.parameters(), *G.ca1.parameters()])
    assert all(p.grad is not None for p in G.stage2.parameters())


def test_source_uses_the_reference_captions(captioned):
    model = _model(captioned)
    test = captioned.split("test").extra["caption"]
    z, tokens, eps = model.source.sample(500, seed=7)
    assert z.shape == (500, 16) and eps.shape == (500, 8)
    assert torch.equal(tokens[torch.argsort(tokens.flatten(1).float() @ torch.arange(8.0).exp())].sort(0)[0],
                       test[torch.argsort(test.float() @ torch.arange(8.0).exp())].sort(0)[0])
    again = model.source.sample(500, seed=7)
    assert all(torch.equal(a, b) for a, b in zip(again, (z, tokens, eps)))
    z, tokens, eps = model.source.grid(64, seed=0)  # 8 captions, one per row, 8 samples each sharing z
    rows = torch.arange(8) * 500 // 8
    assert torch.equal(tokens, test[rows].repeat_interleave(8, 0)) and torch.equal(z[:8], z[8:16])
    assert model.sample(3, seed=0).shape == (3, 1, 28, 28)
    assert model.sample_text("a thick slanted three", n=2).shape == (2, 1, 28, 28)
    assert StageOne(model.nets["G"])(z[:2], tokens[:2], eps[:2]).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match="not class labels"):
        model.source.sample(2, y=torch.tensor([1, 2]))


def test_text_figures_on_real_images(captioned):
    model = _model(captioned)
    fig = text_figures(model, captioned, "test")
    test = captioned.split("test")
    judge = load_extractor("digit-mnist5k")
    real = follow_text(test.float_x(), test.extra["levels"], judge)
    assert fig["values"]["real_digit_accuracy"] == float((judge.classify(test.float_x()) == test.y).double().mean())
    assert fig["values"]["real_digit_accuracy"] > 0.9 and real["thickness_corr"] > 0.3 and real["size_corr"] > 0.2
    assert {k for k in fig["values"]} == {f"{s}_{m}" for s in ("stage2", "stage1", "real")
                                          for m in ("digit_accuracy", "thickness_corr", "slant_corr", "size_corr")}
    assert fig["fingerprint"]["n"] == 500 and fig["fingerprint"]["extractor_sha256"] == judge.sha256
    assert all("\n" not in line for line in fig["lines"])


@pytest.mark.parametrize("override,key", [
    ("model.params.c_dim=0", "model.params.c_dim"),
    ("model.params.kl_weight=-1", "model.params.kl_weight"),
    ("model.params.residual_blocks=9", "model.params.residual_blocks"),
    ("model.params.lambda=3", "model.params.lambda"),
])
def test_every_param_rejects_bad_values_in_one_line(captioned, override, key):
    with pytest.raises(ConfigError) as err:
        build_stackgan(tiny_stackgan(override), captioned.info, "cpu")
    assert str(err.value).startswith(key) and "\n" not in str(err.value)


def test_uncaptioned_data_is_refused(tmp_path, capsys):
    rc = main(["train", "--set", "model=stackgan", "--set", "data.name=digits", "--runs-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("gankit: error: data.name: model 'stackgan' needs captioned images")
    assert err.count("\n") == 1


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    return train(tiny_stackgan(), run_dir=tmp_path_factory.mktemp("sg") / "run", progress=False)


def test_sample_text_from_the_cli(tiny_run, tmp_path, capsys):
    out = tmp_path / "threes.png"
    assert main(["sample", str(tiny_run.run_dir), "--text", "a thick slanted three", "--n", "4",
                 "--out", str(out)]) == 0
    assert Image.open(out).size[0] >= 56
    rc = main(["sample", str(tiny_run.run_dir), "--text", "a purple three", "--out", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("gankit: error: --text: unknown word 'purple'") and err.count("\n") == 1
    assert "right-slanted" in err and "nine" in err
    rc = main(["sample", str(tiny_run.run_dir), "--text", "a seven", "--class", "7"])
    assert rc == 2 and "drop --class" in capsys.readouterr().err
    # the Python twin draws the same images
    import gankit.api as api

    _, model, ckpt = api.load_run(tiny_run.run_dir)
    x = model.sample_text("a thick slanted three", n=4, seed=0)
    assert torch.equal(x, model.sample_text("a thick slanted three", n=4, seed=0))


def test_text_on_a_run_without_captions(tmp_path, capsys):
    run = train(tiny("train.steps=2", "train.ema=false"), run_dir=tmp_path / "gan", progress=False)
    rc = main(["sample", str(run.run_dir), "--text", "a seven", "--out", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert rc == 2 and "does not draw from captions" in err and err.count("\n") == 1


def _weights(run_dir) -> dict[str, torch.Tensor]:
    tensors = load_latest(run_dir / "checkpoints").tensors
    return {k: v for k, v in tensors.items() if k.split(".")[0] in {"G", "D"}}


def test_determinism_and_bitwise_resume(tiny_run, tmp_path):
    cfg = tiny_stackgan()
    again = train(cfg, run_dir=tmp_path / "b", progress=False)
    a, b = _weights(tiny_run.run_dir), _weights(again.run_dir)
    assert {k.split(".")[0] for k in a} == {"G", "D"}
    assert_same(a, b)
    other = train(load_config(base=cfg.to_dict(), overrides=["seed=1"]), run_dir=tmp_path / "c", progress=False)
    c = _weights(other.run_dir)
    assert any(not torch.equal(a[k], c[k]) for k in a)
    part = train(cfg, run_dir=tmp_path / "part", progress=False, on_step=lambda step: step == 2)
    assert part.interrupted and part.step == 2
    resumed = train(resume=part.run_dir, progress=False)
    assert resumed.step == 4
    assert_same(a, _weights(resumed.run_dir))


def test_trains_on_a_caption_folder(tmp_path, capsys):
    root = tmp_path / "caps"
    root.mkdir()
    for i in range(20):
        Image.fromarray(((torch.arange(256).reshape(16, 16) * (i + 1)) % 256).numpy().astype("uint8")).save(root / f"{i}.png")
        (root / f"{i}.txt").write_text(["a red circle", "a blue square"][i % 2])
    run = train(tiny_stackgan("data.name=caption-folder", f"data.root={root}", "train.steps=2"),
                run_dir=tmp_path / "run", progress=False)
    assert run.model.source.vocab.words == ("<pad>", "a", "blue", "circle", "red", "square")
    assert run.model.sample_text("a blue circle", n=3).shape == (3, 1, 16, 16)
    rc = main(["sample", str(run.run_dir), "--text", "a green circle", "--out", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert rc == 2 and "unknown word 'green'" in err and "a, blue, circle, red, square" in err
