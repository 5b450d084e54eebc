"""The 2D game frames the trainer saves: exactly G's grid samples, D's output and the true density."""

from __future__ import annotations

import numpy as np
import torch

from gankit.api import load_run
from gankit.data import build_dataset
from gankit.engine.trainer import FIXED_Z_SEED, train
from gankit.plugins import load_config
from gankit.report.toy import GRID, d_display, load_toy_frame, plane_bounds


def test_the_last_frame_holds_g_samples_d_output_and_the_density_of_the_final_weights(toy_run):
    frame = load_toy_frame(toy_run / "samples" / "step-0000006.npz")
    cfg, model, ckpt = load_run(toy_run)  # the checkpoint of step 6: the weights the last frame was drawn with
    assert int(ckpt.meta["step"]) == 6 and int(frame["step"]) == 6 and str(frame["objective"]) == "nonsaturating"
    assert frame["fake"].shape == (2500, 2) and frame["d_out"].shape == (GRID, GRID)
    expected = model.sample_grid(2500, FIXED_Z_SEED, "cpu", G=model.nets["G"])
    assert torch.equal(torch.from_numpy(frame["fake"]), expected.float())
    dataset = build_dataset(cfg.data)
    x0, x1, y0, y1 = plane_bounds(dataset)
    assert (frame["xs"][0], frame["xs"][-1], frame["ys"][0], frame["ys"][-1]) == (x0, x1, y0, y1)
    mesh = np.stack(np.meshgrid(frame["xs"], frame["ys"], indexing="xy"), -1).reshape(-1, 2)
    with torch.no_grad():
        d = model.nets["D"].eval()(torch.as_tensor(mesh, dtype=torch.float32)).reshape(GRID, GRID).numpy()
    assert np.array_equal(frame["d_out"], d)  # row i is y = ys[i]: the heat map is drawn with origin="lower"
    density = dataset.log_prob(torch.as_tensor(mesh, dtype=torch.float64)).exp().numpy().reshape(GRID, GRID)
    assert np.array_equal(frame["density"], density.astype(np.float32))
    values, label, limits = d_display(frame)
    assert np.allclose(values, 1 / (1 + np.exp(-d.astype(np.float64)))) and limits == (0.0, 1.0)
    assert label == "D(x) = P(real)"


def test_a_critic_is_shown_raw_and_a_run_without_report_writes_none(tiny_vector_config, tmp_path):
    cfg = load_config(base=tiny_vector_config.to_dict(), overrides=["objective.name=wgan-gp", "reg.gp.weight=10", "train.steps=4",
                                                                   "train.sample_every=4"])
    assert cfg.train.report is False  # the tiny test configs switch the page off
    result = train(cfg, run_dir=tmp_path / "r", progress=False)
    assert not (result.run_dir / "report.html").exists()
    frame = load_toy_frame(result.run_dir / "samples" / "step-0000004.npz")
    values, label, limits = d_display(frame)
    assert np.array_equal(values, frame["d_out"].astype(np.float64)) and limits is None
    assert label == "D(x), raw output (wgan-gp)"
