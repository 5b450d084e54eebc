import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gankit.cli import main
from gankit.data.base import DataInfo
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.models import build_model
from gankit.nets.conditional import ConcatDiscriminator, ProjectionDiscriminator
from gankit.nets.dcgan import DCGANDiscriminator
from gankit.sampling import ConditionalPrior
from gankit.data.batch import Batch
from tests.conftest import TINY_VECTOR
from tests.models.conditional_helpers import check_determinism, check_resume, tiny

DIGITS = DataInfo("digits", "image", (1, 8, 8), 10)


def test_prior_rows_are_z_then_one_hot_and_y_fixes_the_class():
    prior = ConditionalPrior(5, 10)
    rows = prior.sample(7, seed=3)
    assert rows.shape == (7, 15) and prior.dim == 15
    assert torch.equal(rows[:, 5:].sum(1), torch.ones(7)) and set(rows[:, 5:].unique().tolist()) == {0.0, 1.0}
    assert torch.equal(rows, prior.sample(7, seed=3))  # seeded rows repeat
    y = torch.tensor([7, 0, 9, 7, 1, 2, 3])
    fixed = prior.sample(7, seed=3, y=y)
    assert torch.equal(prior.labels(fixed), y) and torch.equal(fixed[:, :5], rows[:, :5])  # y does not move z
    with pytest.raises(ValueError, match="0..9"):
        prior.sample(2, y=torch.tensor([3, 10]))
    with pytest.raises(ValueError, match="shape"):
        prior.sample(2, y=torch.tensor([3]))


def test_grid_is_one_class_per_row_with_the_same_z_per_column():
    prior = ConditionalPrior(4, 10)
    grid = prior.grid(64, seed=0)
    assert grid.shape == (100, 14)  # 10 x 10: image_grid's square layout puts one class per row
    assert torch.equal(prior.labels(grid), torch.arange(10).repeat_interleave(10))
    z = grid[:, :4].view(10, 10, 4)
    assert torch.equal(z, z[:1].expand(10, -1, -1))  # column j: the same z in every row
    assert len(torch.unique(z[0], dim=0)) == 10  # ten different z along a row


def test_projection_d_is_head_plus_inner_product_with_the_class_embedding():
    torch.manual_seed(0)
    D = ProjectionDiscriminator(DCGANDiscriminator(1, 8, 8), 10)
    x = torch.randn(5, 1, 8, 8)
    y, y2 = torch.tensor([0, 1, 2, 3, 4]), torch.tensor([5, 5, 5, 5, 5])
    f = D.body.features(x)
    expected = D.body.head(f).squeeze(1) + (D.embed.weight[y] * f).sum(1)
    torch.testing.assert_close(D(x, y), expected, rtol=0, atol=1e-6)
    diff = D(x, y) - D(x, y2)  # only the projection term depends on y
    torch.testing.assert_close(diff, ((D.embed.weight[y] - D.embed.weight[y2]) * f).sum(1), rtol=0, atol=1e-6)
    assert diff.abs().min() > 0


def test_concat_d_sees_one_hot_planes_beside_the_image():
    torch.manual_seed(0)
    D = ConcatDiscriminator("dcgan", DIGITS, width=8, depth=1)
    x, y = torch.randn(3, 1, 8, 8), torch.tensor([2, 7, 7])
    planes = torch.zeros(3, 10, 8, 8)
    planes[torch.arange(3), y] = 1.0
    torch.testing.assert_close(D(x, y), D.body(torch.cat([x, planes], 1)), rtol=0, atol=0)
    assert (D(x, y) - D(x, torch.tensor([3, 3, 3]))).abs().min() > 0
    vec = ConcatDiscriminator("mlp", DataInfo("ring8", "vector", (2,), 8), width=8, depth=2)
    assert vec(torch.randn(4, 2), torch.tensor([0, 1, 2, 7])).shape == (4,)
    with pytest.raises(ConfigError, match="net.name"):
        ConcatDiscriminator("mlp", DIGITS, width=8, depth=1)


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_the_cgan_losses_use_y(conditioning):
    cfg = tiny("model=cgan", f"model.params.conditioning={conditioning}")
    model = build_model(cfg, DIGITS, "cpu")
    real = torch.rand(6, 1, 8, 8) * 2 - 1
    y1, y2 = torch.full((6,), 1), torch.full((6,), 8)
    losses = []
    for y in (y1, y2, y1):
        torch.manual_seed(0)  # the same fakes each time: only the real labels differ
        losses.append(model.d_step(Batch(x=real, y=y)).loss)
    assert losses[0] != losses[1] and losses[0] == losses[2]
    # G's loss reaches the class code: with 4 fakes, the embedding rows (projection) or the one-hot
    # input planes' weights (concat) of the drawn classes get gradient.
    torch.manual_seed(1)
    classes = model.prior.labels(model.prior.sample(4))
    torch.manual_seed(1)
    model.g_step(Batch(x=real[:4])).loss.backward()
    if conditioning == "projection":
        grad = model.D.embed.weight.grad.abs().sum(1)
        drawn = torch.zeros(10, dtype=torch.bool)
        drawn[classes] = True
        assert (grad[drawn] > 0).all() and (grad[~drawn] == 0).all()
    else:
        grad = model.D.body.body[0].weight.grad[:, 1:].abs().sum((0, 2, 3))  # (10,) per one-hot input plane
        assert (grad[classes] > 0).all()
    # G's own class input matters: one z, two classes, two images
    rows = model.prior.sample(2, seed=0, y=torch.tensor([1, 8]))
    rows[1, :16] = rows[0, :16]
    model.G.eval()
    out = model.G(rows)
    assert (out[0] - out[1]).abs().max() > 1e-3


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_matching_aware_d_loss_counts_real_images_with_a_wrong_class_as_fakes(conditioning):
    """mismatch=true (GAN-CLS): D's loss is the objective over (real pairs, fake pairs + real images with
    y + U{1..K-1} mod K); for the non-saturating loss each kind of negative weighs one half."""
    torch.manual_seed(0)
    model = build_model(tiny("model=cgan", f"model.params.conditioning={conditioning}", "model.params.mismatch=true"),
                        DIGITS, "cpu")
    real, y = torch.rand(6, 1, 8, 8) * 2 - 1, torch.tensor([0, 1, 2, 3, 4, 9])
    torch.manual_seed(3)  # the step's draws: the fakes' rows, then the wrong classes
    rows = model.prior.sample(6)
    y_wrong = (y + torch.randint(1, 10, (6,))) % 10
    with torch.no_grad():
        fake = model.G(rows)
    real_out, fake_out, wrong_out = model.D(real, y), model.D(fake, model.prior.labels(rows)), model.D(real, y_wrong)
    expected = F.softplus(-real_out).mean() + 0.5 * (F.softplus(fake_out).mean() + F.softplus(wrong_out).mean())
    torch.manual_seed(3)
    d = model.d_step(Batch(x=real, y=y))
    torch.testing.assert_close(d.loss, expected, rtol=1e-6, atol=1e-6)
    assert d.stats["d_acc_mismatch"] == (wrong_out <= 0).float().mean()
    # the wrong class is never the true one, and covers every other class uniformly
    torch.manual_seed(4)
    y_many = torch.randint(10, (20_000,))
    wrong = (y_many + torch.randint(1, 10, (20_000,))) % 10
    assert not (wrong == y_many).any()
    offsets = torch.bincount((wrong - y_many) % 10, minlength=10)
    assert offsets[0] == 0 and (offsets[1:] - 20_000 / 9).abs().max() < 150  # ~5 sd of a count of 2,222
    # off (the paper's CGAN): the plain objective over real and fake pairs, no third D pass
    plain = build_model(tiny("model=cgan", f"model.params.conditioning={conditioning}"), DIGITS, "cpu")
    plain.nets = model.nets
    torch.manual_seed(3)
    d_plain = plain.d_step(Batch(x=real, y=y))
    expected_plain = F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
    torch.testing.assert_close(d_plain.loss, expected_plain, rtol=1e-6, atol=1e-6)
    assert "d_acc_mismatch" not in d_plain.stats


def test_changing_y_changes_the_generated_class_distribution():
    """G's samples for two classes differ in distribution (mean image over 200 shared z's), not just per sample."""
    cfg = tiny("model=cgan")
    model = build_model(cfg, DIGITS, "cpu")
    model.G.eval()
    a = model.G(model.prior.sample(200, seed=0, y=torch.full((200,), 0)))
    b = model.G(model.prior.sample(200, seed=0, y=torch.full((200,), 5)))
    # same z in both batches, so the difference of the mean images is due to y alone
    assert (a.mean(0) - b.mean(0)).abs().max() > 1e-3


@pytest.mark.parametrize("mismatch", ["false", "true"])
def test_cgan_training_is_deterministic(mismatch, tmp_path):
    check_determinism(tiny("model=cgan", f"model.params.mismatch={mismatch}", "train.steps=8"), tmp_path,
                      {"G", "D", "G_ema"})


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_cgan_resumes_bitwise(conditioning, tmp_path):
    # the hinge objective: the adversarial part is whichever objective is configured
    check_resume(tiny("model=cgan", f"model.params.conditioning={conditioning}", "model.params.mismatch=true",
                      "objective.name=hinge", "train.steps=8"), tmp_path)


def test_d_norm_is_applied_by_projection_and_acgan_and_refused_by_concat():
    mnist = DataInfo("mnist5k", "image", (1, 28, 28), 10)  # two conv stages: a norm after the second
    for model in ("model.params.conditioning=projection", "model=acgan"):
        built = build_model(tiny("model=cgan", model, "net.params.d_norm=layer"), mnist, "cpu")
        assert any(isinstance(m, torch.nn.GroupNorm) for m in built.nets["D"].modules())
    with pytest.raises(ConfigError, match=r"^net.params.d_norm: conditioning=concat builds its own D") as err:
        build_model(tiny("model=cgan", "model.params.conditioning=concat", "net.params.d_norm=layer"), DIGITS, "cpu")
    assert "\n" not in str(err.value)
    plain = build_model(tiny("model=cgan", "model.params.conditioning=concat", "net.params.d_norm=none"), mnist, "cpu")
    assert not any(isinstance(m, torch.nn.GroupNorm) for m in plain.nets["D"].modules())


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"^model.params.conditioning: .*'concat' or 'projection'"):
        build_model(tiny("model=cgan", "model.params.conditioning=sideways"), DIGITS, "cpu")
    with pytest.raises(ConfigError, match=r"^model.params.lambda: .*takes: conditioning, mismatch"):
        build_model(tiny("model=cgan", "model.params.lambda=1"), DIGITS, "cpu")
    ring = DataInfo("ring8", "vector", (2,), 0)
    with pytest.raises(ConfigError, match=r"^data.name: model 'cgan' needs class labels"):
        build_model(tiny("model=cgan", base=TINY_VECTOR), ring, "cpu")
    with pytest.raises(ConfigError, match=r"^data.labels:"):
        build_model(tiny("model=cgan", "data.labels=50"), DIGITS, "cpu")


def test_sample_class_writes_a_png_and_refuses_unconditional_runs(tmp_path, capsys):
    cgan_run = tmp_path / "cgan"
    train(tiny("model=cgan", "train.steps=2"), run_dir=cgan_run, progress=False)
    assert main(["sample", str(cgan_run), "--class", "7", "--n", "16", "--out", str(tmp_path / "seven.png")]) == 0
    assert main(["sample", str(cgan_run), "--class", "3", "--n", "16", "--out", str(tmp_path / "three.png")]) == 0
    assert main(["sample", str(cgan_run), "--out", str(tmp_path / "grid.png")]) == 0
    seven, three = (Image.open(tmp_path / f"{n}.png") for n in ("seven", "three"))
    assert seven.size == three.size and seven.tobytes() != three.tobytes()
    # the class-by-row grid is 10 x 10 digits of 8 px with 2 px borders (102 px), enlarged 3x to reach 256 px;
    # the default --n 64 would have given 8 x 8 (82 px, enlarged 4x: 328 px)
    assert Image.open(tmp_path / "grid.png").size == (306, 306)
    capsys.readouterr()
    assert main(["sample", str(cgan_run), "--class", "10", "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.strip() == "gankit: error: --class: 10 is not a class of this run; choose 0..9"
    plain = tmp_path / "plain"
    train(tiny("train.steps=2"), run_dir=plain, progress=False)
    assert main(["sample", str(plain), "--class", "7", "--out", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "gankit: error: --class: this run's model (gan) is unconditional; drop --class"
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("preset, params", [
    ("mnist5k-cgan", {"conditioning": "concat", "mismatch": True, "g_every_layer": True, "d_hidden": 1024}),
    ("mnist5k-cgan-projection", {"conditioning": "projection", "mismatch": True})])
def test_mnist5k_presets_use_a_matching_aware_d(preset, params):
    from gankit.plugins import load_config

    assert load_config(preset=preset).model.params == params


def test_every_layer_generator_feeds_the_one_hot_planes_to_every_transposed_convolution():
    """ConcatDCGANGenerator: rows [z, one_hot(y)]; each ConvTranspose2d sees K more input channels,
    and its output equals the layers applied by hand to [h, planes]."""
    from gankit.nets.conditional import ConcatDCGANGenerator

    torch.manual_seed(0)
    G = ConcatDCGANGenerator(16, 10, channels=1, image_size=28, width=8).eval()
    assert [c.in_channels for c in G.convs] == [32 + 10, 16 + 10]  # 28 px: 7 -> 14 -> 28, width 8
    rows = ConditionalPrior(16, 10).sample(5, seed=1, y=torch.tensor([0, 3, 3, 9, 9]))
    x = G(rows)
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    planes = lambda h: torch.cat([h, rows[:, 16:, None, None].expand(-1, -1, h.shape[2], h.shape[3])], 1)
    h = G.project(rows)
    h = torch.relu(G.norms[0](G.convs[0](planes(h))))
    torch.testing.assert_close(x, torch.tanh(G.convs[1](planes(h))), rtol=0, atol=0)
    # one z, another class: another image; the same rows: the same image
    other = rows.clone()
    other[:, 16:] = F.one_hot(torch.tensor([1, 1, 1, 1, 1]), 10).float()
    assert (G(other) - x).flatten(1).abs().amax(1).min() > 1e-3
    torch.testing.assert_close(G(rows), x, rtol=0, atol=0)


def test_every_layer_concat_d_sees_the_planes_before_each_convolution():
    torch.manual_seed(0)
    mnist = DataInfo("mnist5k", "image", (1, 28, 28), 10)
    D = ConcatDiscriminator("dcgan", mnist, width=8, depth=1, every_layer=True)
    assert [c.in_channels for c in D.body.convs] == [1 + 10, 8 + 10]
    x, y = torch.randn(3, 1, 28, 28), torch.tensor([2, 7, 7])
    onehot = F.one_hot(y, 10).float()
    planes = lambda h: torch.cat([h, onehot[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])], 1)
    h = F.leaky_relu(D.body.convs[0](planes(x)), 0.2)
    h = F.leaky_relu(D.body.convs[1](planes(h)), 0.2)
    torch.testing.assert_close(D(x, y), D.head(h.flatten(1)).squeeze(1), rtol=0, atol=0)
    assert (D(x, y) - D(x, torch.tensor([3, 3, 3]))).abs().min() > 0
    with pytest.raises(ConfigError, match=r"^model.params.d_every_layer: needs net.name=dcgan"):
        ConcatDiscriminator("mlp", DataInfo("ring8", "vector", (2,), 8), width=8, depth=2, every_layer=True)


def test_every_layer_options_build_their_nets_and_refuse_what_they_cannot_do():
    from gankit.nets.conditional import ConcatDCGANGenerator

    model = build_model(tiny("model=cgan", "model.params.g_every_layer=true", "model.params.d_every_layer=true"),
                        DIGITS, "cpu")
    assert isinstance(model.G, ConcatDCGANGenerator) and len(model.D.body.convs) == 1
    assert model.G(model.prior.sample(4, seed=0)).shape == (4, 1, 8, 8)
    with pytest.raises(ConfigError, match=r"^model.params.d_every_layer: only for conditioning=concat"):
        build_model(tiny("model=cgan", "model.params.conditioning=projection", "model.params.d_every_layer=true"),
                    DIGITS, "cpu")
    with pytest.raises(ConfigError, match=r"^model.params.g_every_layer: needs net.name=dcgan"):
        build_model(tiny("model=cgan", "model.params.g_every_layer=true", base=TINY_VECTOR),
                    DataInfo("ring8", "vector", (2,), 8), "cpu")


def test_every_layer_cgan_training_is_deterministic(tmp_path):
    check_determinism(tiny("model=cgan", "model.params.mismatch=true", "model.params.g_every_layer=true",
                           "model.params.d_every_layer=true", "train.steps=6"), tmp_path, {"G", "D", "G_ema"})


def test_concat_d_hidden_layer_reads_the_features_and_the_one_hot():
    """d_hidden: score = head(lrelu(late([f, one_hot(y)]))), f the convolutions' features; the head reads
    the hidden units, and y reaches the score through the first layer AND the hidden layer."""
    torch.manual_seed(0)
    D = ConcatDiscriminator("dcgan", DIGITS, width=8, depth=1, hidden=12)
    assert D.late.in_features == D.body.body[0].out_channels * 4 * 4 + 10 and D.head.in_features == 12
    x, y = torch.randn(3, 1, 8, 8), torch.tensor([2, 7, 7])
    onehot = F.one_hot(y, 10).float()
    f = D.body.body(torch.cat([x, onehot[:, :, None, None].expand(-1, -1, 8, 8)], 1))
    expected = D.head(F.leaky_relu(D.late(torch.cat([f, onehot], 1)), 0.2)).squeeze(1)
    torch.testing.assert_close(D(x, y), expected, rtol=0, atol=0)
    with pytest.raises(ConfigError, match=r"^model.params.d_hidden: only for conditioning=concat"):
        build_model(tiny("model=cgan", "model.params.conditioning=projection", "model.params.d_hidden=8"),
                    DIGITS, "cpu")
    with pytest.raises(ConfigError, match=r"^model.params.d_hidden: .*greater than or equal to 0"):
        build_model(tiny("model=cgan", "model.params.d_hidden=-1"), DIGITS, "cpu")
    model = build_model(tiny("model=cgan", "model.params.d_hidden=16"), DIGITS, "cpu")
    assert model.D.head.in_features == 16 and model.D(torch.randn(2, 1, 8, 8), torch.tensor([0, 9])).shape == (2,)


def test_every_layer_and_hidden_cgan_resumes_bitwise(tmp_path):
    check_resume(tiny("model=cgan", "model.params.mismatch=true", "model.params.g_every_layer=true",
                      "model.params.d_hidden=16", "train.steps=8"), tmp_path)
