import math
import json

import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.data.base import DataInfo
from gankit.data.batch import Batch
from gankit.engine.checkpoint import list_checkpoints, load_checkpoint
from gankit.engine.trainer import train
from gankit.errors import ConfigError
from gankit.metrics.voxels import class_judgement, coverage_stats, iou_matrix, nn_stats
from gankit.models import build_model
from gankit.models.gan3d import GAN3D, adaptive_skip, batch_accuracy
from gankit.nets.voxel import VoxelDiscriminator, VoxelGenerator
from gankit.objectives.gan import NonSaturating
from gankit.sampling import LatentPrior
from tests.models.conditional_helpers import check_determinism, check_resume, tiny

TINY_VOXEL = ["data.name=shapes3d", "data.image_size=8", "net.name=voxel", "net.width=4", "net.z_dim=8",
              "model.name=gan3d", "train.steps=6", "train.batch_size=8", "train.checkpoint_every=0",
              "train.sample_every=0", "train.log_every=2", "train.tensorboard=false", "eval.at_end=false"]
SHAPES8 = DataInfo("shapes3d", "voxel", (1, 8, 8, 8), 7)


def says_real(out: torch.Tensor) -> torch.Tensor:
    return out > 0  # the GAN losses' rule: a positive logit means "real"


def outputs(real_right: int, fake_right: int, n: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """D's logits on n real and n fake samples, right about ``real_right`` reals and ``fake_right`` fakes."""
    real = torch.tensor([1.0] * real_right + [-1.0] * (n - real_right))
    fake = torch.tensor([0.0] * fake_right + [0.5] * (n - fake_right))  # a logit of 0 is not > 0: called fake
    return real, fake


@pytest.mark.parametrize("real_right, fake_right, accuracy, skip", [
    (8, 8, 0.80, False),   # exactly the threshold: the paper updates D ("not higher than 80 %")
    (9, 8, 0.85, True),
    (10, 7, 0.85, True),
    (10, 10, 1.00, True),
    (6, 10, 0.80, False),
    (0, 0, 0.00, False),
])
def test_the_adaptive_rule_skips_exactly_when_batch_accuracy_is_above_the_threshold(real_right, fake_right, accuracy, skip):
    real, fake = outputs(real_right, fake_right)
    assert batch_accuracy(real, fake, says_real) == accuracy
    assert adaptive_skip(real, fake, says_real, 0.8) is skip
    assert adaptive_skip(real, fake, says_real, None) is False  # off: never skips
    assert adaptive_skip(real, fake, says_real, 1.0) is False


class FixedD(torch.nn.Module):
    """A D whose logit is the grid's mean value (plus a learnable offset, so that it has a parameter)."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x.flatten(1).mean(1) + self.offset


class FixedG(torch.nn.Module):
    """G whose grids are all -1 except the first ``k`` rows, which are all +1 (so D calls those real)."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k, self.w = k, torch.nn.Parameter(torch.zeros(()))

    def forward(self, z):
        out = torch.full((len(z), 1, 8, 8, 8), -1.0) + 0 * self.w
        out[: self.k] = 1.0
        return out


@pytest.mark.parametrize("fooled, skip", [(3, False), (2, True)])
def test_the_d_step_reports_the_skip_from_the_batch_it_scores(fooled, skip):
    """10 real grids, 9 called real (all +1) and 1 not (all -1); 10 fakes of which ``fooled`` are called
    real: accuracy (9 + 10 - fooled) / 20 = 0.85 (skip) with 2 fooled, 0.80 (update) with 3."""
    model = GAN3D(FixedG(fooled), FixedD(), NonSaturating(), LatentPrior(3), threshold=0.8)
    real = torch.ones(10, 1, 8, 8, 8)
    real[9] = -1.0
    d = model.d_step(Batch(x=real))
    assert d.skip is skip and d.stats["d_skipped"] == float(skip)
    assert d.stats["d_acc_real"] == 0.9 and d.stats["d_acc_fake"] == (10 - fooled) / 10


def test_a_skipped_d_step_leaves_d_untouched_in_training(tmp_path):
    """adaptive_threshold=0: D skips whenever it is right about anything (every step here): D's weights
    stay as initialised in every checkpoint while G's change, and d_skipped logs 1."""
    cfg = tiny("model.params.adaptive_threshold=0", "train.checkpoint_every=2", "train.keep_checkpoints=5",
               base=TINY_VOXEL)
    run = train(cfg, run_dir=tmp_path / "r", progress=False)
    loaded = [load_checkpoint(p) for p in list_checkpoints(run.run_dir / "checkpoints")]
    assert len(loaded) == 3
    d_first = {k: v for k, v in loaded[0].tensors.items() if k.startswith("D.")}
    for ck in loaded[1:]:
        assert all(torch.equal(v, ck.tensors[k]) for k, v in d_first.items())
        assert not all(torch.equal(loaded[0].tensors[k], ck.tensors[k]) for k in ck.tensors if k.startswith("G."))
    assert {row["d_skipped"] for row in run.history} == {1.0}
    # never skipping (null): D moves
    free = train(tiny("model.params.adaptive_threshold=null", "train.steps=2", base=TINY_VOXEL),
                 run_dir=tmp_path / "f", progress=False)
    assert {row["d_skipped"] for row in free.history} == {0.0}


@pytest.mark.parametrize("side, stages", [(8, 1), (16, 2), (32, 3)])
def test_the_voxel_nets_follow_the_grid_side(side, stages):
    G, D = VoxelGenerator(5, 1, side, 4), VoxelDiscriminator(1, side, 4)
    x = G(torch.randn(3, 5))
    assert x.shape == (3, 1, side, side, side) and x.abs().max() <= 1
    score, f = D(x, with_features=True)
    assert score.shape == (3,) and f.shape == (3, 4 * 2 ** (stages - 1) * 4**3)
    assert sum(isinstance(m, torch.nn.ConvTranspose3d) for m in G.modules()) == stages
    with pytest.raises(ConfigError, match="data.image_size: the voxel nets need a grid side of 4 \\* 2\\^k"):
        VoxelGenerator(5, 1, 12, 4)


def test_iou_figures_on_crafted_grids():
    a = -torch.ones(3, 1, 4, 4, 4)
    a[0, 0, :2] = 1  # 32 voxels
    a[1, 0, :1] = 1  # 16 voxels, inside a[0]
    a[2, 0, 2:] = 1  # 32 voxels, disjoint from a[0]
    iou = iou_matrix(a, a)
    assert iou.dtype == torch.float64 and iou.diagonal().tolist() == [1.0, 1.0, 1.0]
    assert iou[0, 1] == 0.5 and iou[0, 2] == 0.0 and iou[1, 2] == 0.0
    assert nn_stats(a[:2], a[:1]) == {"nn_iou": 0.75, "copies": 0.5}
    # both fakes match reference 0: one of two references covered; reference 2's best IoU is 0
    assert coverage_stats(a[:2], a[[0, 2]]) == {"coverage": 0.5, "mmd_iou": 0.5}
    j = class_judgement(torch.tensor([0, 0, 1, 1]), 4, y=torch.tensor([0, 1, 1, 1]))
    assert j["class_accuracy"] == 0.75 and j["classes_covered"] == 2 and j["histogram"] == [2, 2, 0, 0]
    assert j["kl_from_uniform"] == pytest.approx(math.log(2), abs=1e-15)


@pytest.mark.parametrize("conditional", ["false", "true"])
def test_gan3d_training_is_deterministic(conditional, tmp_path):
    check_determinism(tiny(f"model.params.conditional={conditional}", base=TINY_VOXEL), tmp_path, {"G", "D", "G_ema"})


def test_gan3d_conditional_resumes_bitwise(tmp_path):
    check_resume(tiny("model.params.conditional=true", base=TINY_VOXEL), tmp_path)


def test_the_conditional_variant_feeds_the_class_to_g_and_d():
    model = build_model(tiny("model.params.conditional=true", base=TINY_VOXEL), SHAPES8, "cpu")
    assert model.prior.dim == 8 + 7 and model.conditional
    real, y = torch.rand(4, 1, 8, 8, 8) * 2 - 1, torch.tensor([0, 1, 2, 3])
    losses = []
    for labels in (y, y + 3, y):
        torch.manual_seed(0)
        losses.append(model.d_step(Batch(x=real, y=labels)).loss)
    assert losses[0] != losses[1] and losses[0] == losses[2]


def test_config_errors_name_the_key():
    digits = DataInfo("digits", "image", (1, 8, 8), 10)
    with pytest.raises(ConfigError, match=r"^data.name: model 'gan3d' generates voxel grids"):
        build_model(tiny(base=TINY_VOXEL), digits, "cpu")
    with pytest.raises(ConfigError, match=r"^net.name: voxel is for voxel grids"):
        build_model(tiny("model.name=gan", base=TINY_VOXEL), digits, "cpu")
    with pytest.raises(ConfigError, match=r"^model.params.adaptive_threshold:"):
        build_model(tiny("model.params.adaptive_threshold=1.5", base=TINY_VOXEL), SHAPES8, "cpu")
    with pytest.raises(ConfigError, match=r"^data.name: model 'gan3d' needs class labels"):
        build_model(tiny("model.params.conditional=true", base=TINY_VOXEL), DataInfo("v", "voxel", (1, 8, 8, 8)), "cpu")


def test_a_voxel_run_renders_its_grids_and_scores_voxel_figures(tmp_path, capsys):
    run = train(tiny("train.steps=2", "train.sample_every=2", "train.grid_size=4", "eval.at_end=true", "eval.n=20",
                     base=TINY_VOXEL), run_dir=tmp_path / "r", progress=False)
    out = capsys.readouterr().out
    assert "NN-IoU to train" in out and "(held-out real" in out and "N=20 generated vs 20 real" in out
    quality = json.loads((run.run_dir / "quality.json").read_text())
    assert quality["kind"] == "voxel" and 0 <= quality["values"]["coverage"] <= 1
    # the grid is 2 x 2 isometric renderings (8^3 grids, 8-px cubes: 128 px each), colour, not a 16-channel image
    grid = Image.open(run.run_dir / "samples" / "step-0000002.png")
    assert grid.mode == "RGB" and grid.size == (2 * 130 + 2, 2 * 130 + 2)
    assert main(["sample", str(run.run_dir), "--n", "9", "--out", str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").size == (3 * 130 + 2,) * 2
    # gankit eval: the voxel figure by default, the same number as the end-of-run figure; image metrics refused
    assert main(["eval", str(run.run_dir), "--n", "20"]) == 0
    report = json.loads((run.run_dir / "eval.json").read_text())
    assert report["results"]["voxel_iou"]["values"]["nn_iou"] == quality["values"]["nn_iou"]
    capsys.readouterr()
    assert main(["eval", str(run.run_dir), "--metrics", "fid"]) == 2
    assert capsys.readouterr().err.strip() == ("gankit: error: --metrics: 'fid' does not apply to voxel grids; on voxel "
                                               "data gankit eval computes: voxel_iou")
