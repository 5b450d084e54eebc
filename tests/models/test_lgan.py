"""The Localized GAN (gankit/models/lgan.py): exact locality, the tangent penalty and its gradient, the
smoothness regulariser, the source, determinism and resume, and `gankit edit`."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gankit.cli import main
from gankit.data.base import DataInfo, Split
from gankit.data.batch import Batch
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.models import build_model
from gankit.models.lgan import (
    LocalSource,
    auto_tangent_scale,
    edit_grid,
    local_dimension,
    tangent_penalty,
    tangent_smoothness,
    tangents,
    tangents_by_autodiff,
)
from gankit.plugins import load_config
from tests.conftest import TINY_VECTOR
from tests.models.conditional_helpers import check_determinism, check_resume, tiny

DIGITS = DataInfo("digits", "image", (1, 8, 8), 10)
K = 3  # local coordinates of the toy generators below


def lgan(*overrides: str):
    return tiny("model=lgan", "model.params.local_dim=3", *overrides)


def images(n: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=dtype) * 2 - 1


def toy_G(A: torch.Tensor, b: torch.Tensor | None = None):
    """G(x, z) = x + (A z) as an image + ||z||^2 b: its Jacobian at z = 0 is A whatever b is."""
    def G(x, z):
        out = x + (z @ A.T).view_as(x)
        return out if b is None else out + z.pow(2).sum(1).view(-1, 1, 1, 1) * b
    return G


class Toy(nn.Module):
    def __init__(self, G) -> None:
        super().__init__()
        self.G = G

    def forward(self, x, z):
        return self.G(x, z)


def orthonormal(d: int, k: int, seed: int = 0) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(d, k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    return q


# ------------------------------------------------------------------------------------------- locality


def test_g_of_x_and_zero_is_x_exactly_for_any_weights_in_train_and_eval_mode():
    torch.manual_seed(0)
    model = build_model(lgan(), DIGITS, "cpu")
    G = model.nets["G"]
    x, z = model.source.sample(16, seed=0)
    for scale in (1.0, 37.0):  # large weights: still exact (0 * T_i(x, 0) is 0 for any finite T)
        with torch.no_grad():
            for p in G.parameters():
                p.mul_(scale)
        for mode in (True, False):
            G.train(mode)
            assert torch.equal(G(x, torch.zeros_like(z)), x)
            assert (G(x, z) - x).abs().amax(dim=(1, 2, 3)).min() > 0  # z != 0 moves every image


def test_the_jacobian_at_zero_is_the_networks_tangent_fields():
    """J = dG/dz at z = 0 (forward-mode autodiff through G's forward) equals T(x, 0), the fields the network
    multiplies z with (product rule), and central differences."""
    torch.manual_seed(0)
    G = build_model(lgan(), DIGITS, "cpu").nets["G"].double()
    x = images(5)
    J = tangents_by_autodiff(G, x, K, scale=2.0) * 2.0                     # (5, 64, 3)
    with torch.no_grad():
        h = G.up(G.mix(torch.cat([G.body(x), x.new_zeros(5, K)], 1)))
        T = G.fields(torch.cat([h, x], 1)).view(5, K, 64)
        eps = 1e-6
        fd = torch.stack([(G(x, eps * torch.eye(K, dtype=x.dtype)[i].expand(5, K))
                           - G(x, -eps * torch.eye(K, dtype=x.dtype)[i].expand(5, K))).flatten(1) / (2 * eps)
                          for i in range(K)], dim=2)
    torch.testing.assert_close(J, T.transpose(1, 2), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(J, fd, rtol=1e-6, atol=1e-7)
    # the fast path (one forward of the fields at z = 0), also through the model's callable, is the same J,
    # and so is its gradient w.r.t. G's weights
    model = build_model(lgan(), DIGITS, "cpu").double()
    G = model.nets["G"]

    def jacobian_and_grads(fn, net):
        G.zero_grad()
        J = fn(net, x, K, 2.0)
        J.pow(3).sum().backward()
        return J.detach(), [p.grad.clone() for p in G.parameters()]

    ref_J, ref_grads = jacobian_and_grads(tangents_by_autodiff, G)
    for net in (G, model.G):  # the plain net and the callable the steps use
        J, grads = jacobian_and_grads(tangents, net)
        torch.testing.assert_close(J, ref_J, rtol=1e-12, atol=1e-12)
        for a, b in zip(grads, ref_grads):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------ tangent penalty


def test_tangent_penalty_is_zero_for_orthonormal_tangents_and_closed_form_otherwise():
    x, s = images(4), 3.0
    axes = torch.zeros(64, K, dtype=torch.float64)
    axes[[5, 17, 40], [0, 1, 2]] = 1.0
    bump = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    assert tangent_penalty(toy_G(s * axes), x, K, s) == 0  # exactly
    assert tangent_penalty(toy_G(s * axes, bump), x, K, s) == 0  # second-order terms in z do not count
    q = orthonormal(64, K)
    assert tangent_penalty(toy_G(s * q, bump), x, K, s) < 1e-28
    # J = s Q diag(d): (J/s)^T (J/s) - I = diag(d^2 - 1), so the penalty is sum (d_i^2 - 1)^2, times the weight
    d = torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64)
    expected = float(((d ** 2 - 1) ** 2).sum())
    assert tangent_penalty(toy_G(s * q * d, bump), x, K, s).item() == pytest.approx(expected, rel=1e-12)
    assert tangent_penalty(toy_G(s * q * d), x, K, s, weight=0.25).item() == pytest.approx(expected / 4, rel=1e-12)
    # the scale is part of the penalty: the same orthonormal G measured at another scale is penalised
    assert tangent_penalty(toy_G(s * q), x, K, 2 * s).item() == pytest.approx(K * (0.25 - 1) ** 2, rel=1e-12)


def test_tangent_penalty_gradient_matches_finite_differences():
    x = images(3)
    small = x[:, :, :3, :3]  # 9 pixels: gradcheck perturbs each of the 27 entries of A
    A = (orthonormal(9, K, seed=1) * torch.tensor([1.5, 0.7, 1.1], dtype=torch.float64)).requires_grad_(True)
    b = torch.rand(1, 1, 3, 3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda A: tangent_penalty(toy_G(A, b), small, K, 1.3), (A,), eps=1e-6, atol=1e-7)
    # and through the real network's weights (double precision): one weight's derivative by central differences
    torch.manual_seed(0)
    G = build_model(lgan(), DIGITS, "cpu").nets["G"].double()
    w = G.fields.weight
    tangent_penalty(G, x, K, 1.3).backward()
    i = (0, 1, 1, 1)
    eps, old = 1e-6, w.data[i].item()
    with torch.no_grad():
        w[i] = old + eps
        up = tangent_penalty(G, x, K, 1.3).item()
        w[i] = old - eps
        down = tangent_penalty(G, x, K, 1.3).item()
        w[i] = old
    assert w.grad[i].item() == pytest.approx((up - down) / (2 * eps), rel=1e-5)


def test_g_step_adds_the_weighted_tangent_penalty_on_the_real_batch():
    torch.manual_seed(0)
    on = build_model(lgan("model.params.tangent_weight=0.5", "model.params.tangent_scale=2.0",
                          "model.params.tangent_batch=4"), DIGITS, "cpu")
    off = build_model(lgan("model.params.tangent_weight=0"), DIGITS, "cpu")
    off.nets.load_state_dict(on.nets.state_dict())
    real = images(6, dtype=torch.float32)
    torch.manual_seed(1)
    g_on = on.g_step(Batch(x=real))
    torch.manual_seed(1)
    g_off = off.g_step(Batch(x=real))
    penalty = tangent_penalty(on.G, real[:4], 3, 2.0, 0.5)  # the first tangent_batch images of the batch
    assert "reg_tangent" not in g_off.stats and g_on.stats["reg_tangent"] == penalty
    torch.testing.assert_close(g_on.loss, g_off.loss + penalty, rtol=0, atol=1e-6)


def test_local_dimension_reads_the_singular_values_of_the_tangents():
    x, s = images(4), 2.0
    d = torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64)  # the third tangent has collapsed
    spec = local_dimension(toy_G(s * orthonormal(64, K) * d), x, K, s, rank_tol=0.1)
    torch.testing.assert_close(spec.singular_values, d.expand(4, K), rtol=0, atol=1e-12)
    assert spec.ranks.tolist() == [2] * 4
    p = torch.tensor([2 / 3, 1 / 3], dtype=torch.float64)
    assert spec.mean_effective_rank == pytest.approx(math.exp(-(p * p.log()).sum().item()), rel=1e-9)
    # orthogonal columns: cos 0 between the two live tangents; the collapsed one counts as 0 too
    assert spec.mean_abs_cos == pytest.approx(0.0, abs=1e-12)


def test_auto_scale_is_the_median_nearest_neighbour_distance_over_sqrt_k():
    split = Split(torch.tensor([0.0, 0.25, 1.0, 1.5]).view(4, 1, 1, 1))  # nearest: 0.25, 0.25, 0.5, 0.5
    assert auto_tangent_scale(split, 4) == 0.375 / 2
    with pytest.raises(ConfigError, match="tangent_scale"):
        auto_tangent_scale(Split(torch.zeros(1, 1, 1, 1)), 4)


# ------------------------------------------------------------------------------ smoothness of a classifier


def test_smoothness_is_zero_for_a_classifier_constant_along_the_tangents_and_matches_differences():
    torch.manual_seed(0)
    x = images(5)
    T = torch.zeros(5, 64, 2, dtype=torch.float64)
    T[:, 3, 0] = 1.0
    T[:, 10, 1] = -2.0
    W = torch.randn(4, 64, dtype=torch.float64)
    blind = W.clone()
    blind[:, [3, 10]] = 0  # f reads no tangent pixel: constant along the tangents
    f_blind = nn.Sequential(nn.Flatten(), nn.Linear(64, 4, dtype=torch.float64))
    f_blind[1].weight.data = blind
    assert tangent_smoothness(f_blind, x, T) == 0
    f = nn.Sequential(nn.Flatten(), nn.Linear(64, 4, dtype=torch.float64))
    f[1].weight.data = W
    got = tangent_smoothness(f, x, T)
    eps, logp = 1e-6, lambda v: torch.log_softmax(f(v), dim=1)
    expected = sum(((logp(x + eps * T[:, :, i].view_as(x)) - logp(x - eps * T[:, :, i].view_as(x))) / (2 * eps))
                   .pow(2).sum(1) for i in range(2)).mean()
    assert got.item() == pytest.approx(expected.item(), rel=1e-7) and got > 0
    got.backward()  # differentiable in f's weights
    assert f[1].weight.grad.abs().sum() > 0
    # a shift of every logit along the tangents changes no prediction and costs nothing
    f_shift = nn.Sequential(nn.Flatten(), nn.Linear(64, 4, dtype=torch.float64))
    shift = blind.clone()
    shift[:, 3], shift[:, 10] = 1.0, -0.5  # every logit moves by the same amount along both tangents
    f_shift[1].weight.data = shift
    assert tangent_smoothness(f_shift, x, T).item() == pytest.approx(0.0, abs=1e-24)


# ------------------------------------------------------------------------------------------- the source


def test_source_draws_training_images_and_local_coordinates_and_lays_out_its_grid():
    train_x = torch.arange(10, dtype=torch.float32).view(10, 1, 1, 1).expand(10, 1, 2, 2).contiguous()
    source = LocalSource(Split(train_x), dim=3, z_std=0.5)
    x, z = source.sample(6, seed=1)
    x2, z2 = source.sample(6, seed=1)
    assert torch.equal(x, x2) and torch.equal(z, z2) and x.shape == (6, 1, 2, 2) and z.shape == (6, 3)
    assert all(any(torch.equal(row, t) for t in train_x) for row in x)
    assert not source.latent and source.dim == 3
    with pytest.raises(ValueError, match="no labels"):
        source.sample(2, y=torch.tensor([0, 1]))
    gx, gz = source.grid(64, seed=0)
    assert gx.shape == (49, 1, 2, 2) and gz.shape == (49, 3)  # 7 x 7: one base image per row
    assert torch.equal(gx.view(7, 7, -1), gx.view(7, 7, -1)[:, :1].expand(7, 7, 4))
    assert torch.equal(gz.view(7, 7, 3)[:, 3], torch.zeros(7, 3))  # the middle column is z = 0: x itself
    norms = gz.view(7, 7, 3).norm(dim=2)
    torch.testing.assert_close(norms[0], torch.linspace(-1.25, 1.25, 7).abs())  # span 2.5 x z_std 0.5


def test_data_parallel_shares_split_both_parts_of_the_global_draw():
    model = build_model(lgan(), DIGITS, "cpu")
    torch.manual_seed(3)
    x, z = model.source.sample(8)
    for rank in (0, 1):
        model.shard = (rank, 2)
        torch.manual_seed(3)
        xs, zs = model.sample_z(4, "cpu")
        assert torch.equal(xs, x[4 * rank:4 * rank + 4]) and torch.equal(zs, z[4 * rank:4 * rank + 4])


# ------------------------------------------------------------------------------------ build and training


def test_build_rejects_what_cannot_work():
    with pytest.raises(ConfigError, match="reg.ortho_jacobian.weight"):
        build_model(lgan("reg.ortho_jacobian.weight=1"), DIGITS, "cpu")
    with pytest.raises(ConfigError, match="model.params.tangent_scale"):
        build_model(lgan("model.params.tangent_scale=-1"), DIGITS, "cpu")
    with pytest.raises(ConfigError, match="data.name: lgan"):
        cfg = load_config(overrides=[*TINY_VECTOR, "model=lgan"])
        build_model(cfg, DataInfo("ring8", "vector", (2,), 8), "cpu")


@pytest.mark.parametrize("objective", ["hinge", "loss-sensitive", "ebgan", "wgan"])
def test_any_objective_drives_the_local_generator(objective):
    extra = ["reg.gp.weight=10"] if objective == "loss-sensitive" else []
    torch.manual_seed(0)
    model = build_model(lgan(f"objective.name={objective}", *extra), DIGITS, "cpu")
    real = images(8, dtype=torch.float32)
    d, g = model.d_step(Batch(x=real)), model.g_step(Batch(x=real))
    assert torch.isfinite(d.loss) and torch.isfinite(g.loss) and g.stats["reg_tangent"] > 0
    d.loss.backward()
    assert all(p.grad is None for p in model.nets["G"].parameters())  # D's step does not reach G
    model.after_d_step()  # wgan: the weights are clipped
    if objective == "wgan":
        assert max(p.abs().max() for p in model.nets["D"].parameters()) <= model.objective.clip_value


def test_lgan_trains_deterministically(tmp_path):
    check_determinism(lgan("train.steps=2", "train.batch_size=8", "model.params.local_dim=2"), tmp_path, {"G", "D", "G_ema"})


def test_lgan_resumes_bitwise(tmp_path):
    check_resume(lgan("train.steps=4", "train.batch_size=8", "model.params.local_dim=2"), tmp_path)


def test_presets_load():
    for name, data, k in (("digits-lgan", "digits", 4), ("mnist5k-lgan", "mnist5k", 8)):
        cfg = load_config(preset=name)
        assert (cfg.data.name, cfg.model.name, cfg.model.params["local_dim"]) == (data, "lgan", k)


# ------------------------------------------------------------------------------------------ gankit edit


def test_edit_grid_rows_move_along_one_coordinate_each():
    x = images(1)[0]
    s = 2.0
    q = orthonormal(64, K)
    grid = edit_grid(Toy(toy_G(s * q)), x, K, steps=5, span=2.0)
    assert grid.shape == (15, 1, 8, 8)
    rows = grid.view(K, 5, 64)
    assert torch.equal(rows[:, 2], x.flatten().expand(K, 64))  # the middle column, t = 0, is x itself
    t = torch.linspace(-2, 2, 5, dtype=torch.float64)
    torch.testing.assert_close(rows - x.flatten(), (s * t[None, :, None] * q.T[:, None, :]), rtol=0, atol=1e-12)


def test_edit_writes_a_grid_and_rejects_bad_input_with_one_line(tmp_path, capsys):
    run = tmp_path / "lgan"
    train(lgan("train.steps=2"), run_dir=run, progress=False)
    out = tmp_path / "edit.png"
    assert main(["edit", str(run), "--index", "0", "--out", str(out)]) == 0
    # 3 rows (local coordinates) x 9 columns of 8 px digits with 2 px borders: 92 x 32, enlarged 3x
    assert Image.open(out).size == (276, 96)
    digit = tmp_path / "digit.png"
    Image.fromarray(np.full((8, 8), 200, dtype=np.uint8)).save(digit)
    assert main(["edit", str(run), "--image", str(digit), "--out", str(tmp_path / "file.png"), "--steps", "3"]) == 0
    capsys.readouterr()
    big = tmp_path / "big.png"
    Image.fromarray(np.zeros((10, 12), dtype=np.uint8)).save(big)
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    plain = tmp_path / "plain"
    train(tiny("train.steps=2"), run_dir=plain, progress=False)
    cases = [
        ([str(run), "--image", str(tmp_path / "missing.png")], f"--image: file not found: {tmp_path / 'missing.png'}"),
        ([str(run), "--image", str(big)], f"--image: {big} is 12x10 pixels; this run's images (digits) are 8x8: "
                                          "resize it first"),
        ([str(run), "--image", str(not_image)], f"--image: {not_image} is not a readable image (UnidentifiedImageError)"),
        ([str(run), "--index", "9999"], "--index: 9999 is not an image of the test split; choose 0..179"),
        ([str(run)], "gankit edit: give exactly one of --image FILE or --index K"),
        ([str(plain), "--index", "0"], f"{plain}: this run's model is gan, not lgan or lgan-ssl; gankit edit moves an image "
                                       "along a Localized GAN's tangents (train one with --preset digits-lgan)"),
    ]
    for args, message in cases:
        assert main(["edit", *args, "--out", str(tmp_path / "bad.png")]) == 2
        err = capsys.readouterr().err
        assert err == f"gankit: error: {message}\n", err
    assert not (tmp_path / "bad.png").exists()
