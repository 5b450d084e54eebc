"""The family example of docs/architecture.md runs as printed: one file on the shared contracts trains,
checkpoints every net it declares and logs its own stats."""

from pathlib import Path

from gankit.engine.checkpoint import load_latest
from gankit.engine.trainer import train
from gankit.plugins import load_config
from gankit.registry import MODELS

DOC = Path(__file__).parents[1] / "docs" / "architecture.md"


def example_code() -> str:
    text = DOC.read_text()
    start = text.index("```python\nimport torch.nn.functional as F")
    return text[start + len("```python\n"):text.index("```", start + 10)]


def test_the_architecture_example_family_trains(tmp_path):
    if "aegan" not in MODELS:
        exec(compile(example_code(), str(DOC), "exec"), {})
    cfg = load_config(overrides=["model=aegan", "data.name=digits", "net.width=8", "net.z_dim=16", "train.steps=6",
                                 "train.batch_size=16", "train.tensorboard=false", "eval.at_end=false",
                                 "train.checkpoint_every=0", "train.sample_every=0", "train.log_every=3"])
    result = train(cfg, run_dir=tmp_path / "r", progress=False)
    assert [r["step"] for r in result.history] == [3, 6]
    assert {"d_loss", "d_acc_real", "d_acc_fake", "g_loss", "recon"} <= set(result.history[-1])
    nets = {k.split(".")[0] for k in load_latest(result.run_dir / "checkpoints").tensors}
    assert {"G", "E", "D", "G_ema", "opt_g", "opt_d"} <= nets
    assert result.run_dir.name == "r" and (result.run_dir / "config.json").exists()
