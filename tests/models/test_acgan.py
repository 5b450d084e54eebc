import pytest
import torch
import torch.nn.functional as F

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models import build_model
from gankit.nets.conditional import AuxClassifierDiscriminator
from gankit.data.batch import Batch
from tests.models.conditional_helpers import check_determinism, check_resume, tiny

DIGITS = DataInfo("digits", "image", (1, 8, 8), 10)


def model_and_batch(*overrides: str):
    torch.manual_seed(0)
    model = build_model(tiny("model=acgan", *overrides), DIGITS, "cpu")
    real = torch.rand(6, 1, 8, 8) * 2 - 1
    return model, real, torch.tensor([0, 1, 2, 3, 4, 9])


def reference_fakes(model, n: int, seed: int):
    """The fakes and requested classes a step draws after ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    rows = model.prior.sample(n)
    return rows, model.prior.labels(rows)


@pytest.mark.parametrize("weight, fake_weight", [(1.0, 1.0), (0.5, 1.0), (1.0, 0.0), (2.0, 0.25)])
def test_d_loss_is_adversarial_plus_weighted_class_cross_entropies(weight, fake_weight):
    model, real, y = model_and_batch(f"model.params.class_weight={weight}",
                                     f"model.params.fake_class_weight={fake_weight}")
    rows, y_fake = reference_fakes(model, 6, seed=3)
    with torch.no_grad():
        fake = model.G(rows)
    real_out, real_logits = model.D(real, with_classes=True)
    fake_out, fake_logits = model.D(fake, with_classes=True)
    expected = (F.softplus(-real_out).mean() + F.softplus(fake_out).mean()  # -V of the original GAN
                + weight * (F.cross_entropy(real_logits, y) + fake_weight * F.cross_entropy(fake_logits, y_fake)))
    torch.manual_seed(3)
    d = model.d_step(Batch(x=real, y=y))
    torch.testing.assert_close(d.loss, expected, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(d.stats["d_class_loss"],
                               F.cross_entropy(real_logits, y) + fake_weight * F.cross_entropy(fake_logits, y_fake))


def test_without_the_fake_class_term_d_class_head_learns_from_real_labels_only():
    """fake_class_weight=0: the class head's gradient in D's step is that of CE on the real batch alone,
    so G and the head cannot agree on a private code for the requested classes."""
    model, real, y = model_and_batch("model.params.fake_class_weight=0")
    torch.manual_seed(3)
    model.d_step(Batch(x=real, y=y)).loss.backward()
    got = [p.grad.clone() for p in model.D.classifier.parameters()]
    model.D.zero_grad()
    _, real_logits = model.D(real, with_classes=True)
    F.cross_entropy(real_logits, y).backward()
    for g, want in zip(got, model.D.classifier.parameters()):
        torch.testing.assert_close(g, want.grad, rtol=1e-6, atol=1e-7)
    assert build_model(tiny("model=acgan"), DIGITS, "cpu").fake_class_weight == 1.0  # the paper's default


def test_g_loss_is_adversarial_plus_cross_entropy_of_the_requested_class():
    model, real, y = model_and_batch()
    rows, y_fake = reference_fakes(model, 6, seed=4)
    fake_out, fake_logits = model.D(model.G(rows), with_classes=True)
    expected = F.softplus(-fake_out).mean() + F.cross_entropy(fake_logits, y_fake)
    torch.manual_seed(4)
    torch.testing.assert_close(model.g_step(Batch(x=real, y=y)).loss, expected, rtol=1e-6, atol=1e-6)


def test_unlabelled_real_samples_only_enter_the_adversarial_term():
    model, real, y = model_and_batch()
    partial = torch.tensor([0, 1, -1, -1, 4, -1])
    torch.manual_seed(5)
    d_partial = model.d_step(Batch(x=real, y=partial))
    torch.manual_seed(5)
    d_full = model.d_step(Batch(x=real, y=y))
    _, logits = model.D(real, with_classes=True)
    keep = partial >= 0
    gap = F.cross_entropy(logits, y) - F.cross_entropy(logits[keep], partial[keep])
    torch.testing.assert_close(d_full.loss - d_partial.loss, gap, rtol=1e-5, atol=1e-6)


def test_the_class_head_and_the_requested_class_condition_the_losses():
    model, real, y = model_and_batch()
    assert isinstance(model.D, AuxClassifierDiscriminator)
    # the real labels change D's loss (through CE), with the same fakes
    losses = []
    for labels in (y, y.roll(1)):
        torch.manual_seed(6)
        losses.append(model.d_step(Batch(x=real, y=labels)).loss)
    assert losses[0] != losses[1]
    # G's class input changes its images for a fixed z
    rows = model.prior.sample(2, seed=0, y=torch.tensor([2, 6]))
    rows[1, :16] = rows[0, :16]
    model.G.eval()
    out = model.G(rows)
    assert (out[0] - out[1]).abs().max() > 1e-3


def test_acgan_training_is_deterministic(tmp_path):
    check_determinism(tiny("model=acgan", "train.steps=8"), tmp_path, {"G", "D", "G_ema"})


def test_acgan_resumes_bitwise(tmp_path):
    check_resume(tiny("model=acgan", "train.steps=8"), tmp_path)


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"^model.params.class_weight: .*greater than or equal to 0"):
        build_model(tiny("model=acgan", "model.params.class_weight=-1"), DIGITS, "cpu")
    with pytest.raises(ConfigError, match=r"^model.params.fake_class_weight: .*greater than or equal to 0"):
        build_model(tiny("model=acgan", "model.params.fake_class_weight=-0.5"), DIGITS, "cpu")
    with pytest.raises(ConfigError, match=r"^data.name: model 'acgan' needs class labels"):
        build_model(tiny("model=acgan"), DataInfo("ring8", "vector", (2,), 0), "cpu")


def test_mnist5k_preset_trains_the_class_head_on_real_labels_only():
    from gankit.plugins import load_config

    assert load_config(preset="mnist5k-acgan").model.params == {"class_weight": 1.0, "fake_class_weight": 0.0,
                                                                "class_hidden": 256, "class_dropout": 0.3,
                                                                "g_every_layer": True}


def test_class_hidden_and_every_layer_acgan_resumes_bitwise(tmp_path):
    check_resume(tiny("model=acgan", "model.params.class_hidden=16", "model.params.g_every_layer=true",
                      "model.params.fake_class_weight=0", "train.steps=8"), tmp_path)


def test_class_hidden_puts_one_hidden_layer_in_the_class_head_and_g_every_layer_swaps_g():
    from gankit.nets.conditional import ConcatDCGANGenerator

    model, real, y = model_and_batch("model.params.class_hidden=12", "model.params.g_every_layer=true")
    head = model.D.classifier
    assert [type(m).__name__ for m in head] == ["Linear", "LeakyReLU", "Linear"]
    assert head[0].out_features == 12 and head[2].out_features == 10
    f = model.D.features(real)
    score, logits = model.D(real, with_classes=True)
    torch.testing.assert_close(logits, head[2](F.leaky_relu(head[0](f), 0.2)), rtol=0, atol=0)
    torch.testing.assert_close(score, model.D.head(f).squeeze(1), rtol=0, atol=0)
    assert isinstance(model.G, ConcatDCGANGenerator) and model.G(model.prior.sample(3, seed=0)).shape == (3, 1, 8, 8)
    plain, _, _ = model_and_batch()
    assert isinstance(plain.D.classifier, torch.nn.Linear)  # the paper's linear head by default
    with pytest.raises(ConfigError, match=r"^model.params.class_hidden: .*greater than or equal to 0"):
        build_model(tiny("model=acgan", "model.params.class_hidden=-1"), DIGITS, "cpu")


def test_class_dropout_drops_the_class_heads_inputs_in_training_only():
    model, real, _ = model_and_batch("model.params.class_hidden=12", "model.params.class_dropout=0.5")
    head = model.D.classifier
    assert [type(m).__name__ for m in head] == ["Dropout", "Linear", "LeakyReLU", "Dropout", "Linear"]
    f = model.D.features(real)
    model.D.train()
    seen = []
    hooks = [m.register_forward_hook(lambda _m, i, o: seen.append((i[0], o))) for m in (head[0], head[3])]
    score, logits = model.D(real, with_classes=True)
    for h in hooks:
        h.remove()
    (f_in, f_out), (h_in, h_out) = seen
    torch.testing.assert_close(f_in, f, rtol=0, atol=0)  # D's features enter the class head's first dropout
    for before, after in seen:  # inverted dropout: each unit dropped or kept and scaled by 1 / (1 - p)
        kept = after != 0
        assert 0 < kept.float().mean() < 1
        torch.testing.assert_close(after[kept], before[kept] * 2)
    torch.testing.assert_close(h_in, F.leaky_relu(head[1](f_out), 0.2), rtol=0, atol=0)
    torch.testing.assert_close(logits, head[4](h_out), rtol=0, atol=0)
    torch.testing.assert_close(score, model.D.head(f).squeeze(1), rtol=0, atol=0)  # the adversarial head: whole
    model.D.eval()
    _, logits = model.D(real, with_classes=True)
    torch.testing.assert_close(logits, head[4](F.leaky_relu(head[1](f), 0.2)), rtol=0, atol=0)
    linear, _, _ = model_and_batch("model.params.class_dropout=0.25")
    assert [type(m).__name__ for m in linear.D.classifier] == ["Dropout", "Linear"]
    for bad in ("1", "-0.1"):
        with pytest.raises(ConfigError, match=r"^model.params.class_dropout: "):
            build_model(tiny("model=acgan", f"model.params.class_dropout={bad}"), DIGITS, "cpu")


def test_class_dropout_acgan_resumes_bitwise(tmp_path):
    check_resume(tiny("model=acgan", "model.params.class_hidden=16", "model.params.class_dropout=0.3",
                      "model.params.fake_class_weight=0", "train.steps=8"), tmp_path)
