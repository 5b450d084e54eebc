"""The digit-classifier feature extractor: the shipped weights, and the loading code on files the test writes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from gankit.data.base import DataInfo
from gankit.data.digits import load_digits_dataset, load_mnist5k
from gankit.errors import GankitError
from gankit.metrics.extractor import (
    DigitClassifier,
    WeightsError,
    extractor_for,
    load_extractor,
    sidecar_path,
    weights_path,
)


@pytest.fixture(scope="module")
def mnist5k():
    return load_mnist5k()


@pytest.fixture(scope="module")
def digits():
    return load_digits_dataset()


def write_weights(path: Path, image_size: int = 28, seed: int = 0, **replace: torch.Tensor) -> DigitClassifier:
    """A freshly initialised classifier's weights, saved as safetensors (with tensors swapped in)."""
    torch.manual_seed(seed)
    net = DigitClassifier(image_size).eval()
    tensors = {k: v.contiguous() for k, v in net.state_dict().items()}
    tensors.update(replace)
    save_file({k: v for k, v in tensors.items() if v is not None}, str(path))
    return net


# ------------------------------------------------------------------------------- shipped weights


@pytest.mark.parametrize("name,dataset", [("digit-mnist5k", "mnist5k"), ("digit-digits", "digits")])
def test_shipped_weights_match_their_sidecar(name, dataset):
    path = weights_path(name)
    sidecar = json.loads(sidecar_path(path).read_text())
    extractor = load_extractor(name)
    assert extractor.sha256 == sidecar["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sidecar["dataset"] == dataset
    assert sidecar["split"] == "train"  # never trained on val or test
    for key in ("epochs", "seed", "val_accuracy", "test_accuracy", "torch_version", "date", "command"):
        assert key in sidecar, key
    assert path.stat().st_size < 2_000_000  # small enough to ship in the package


def test_mnist5k_extractor_classifies_the_test_split(mnist5k):
    extractor = load_extractor("digit-mnist5k")
    test = mnist5k.split("test")
    accuracy = (extractor.classify(test.float_x()) == test.y).float().mean().item()
    assert accuracy >= 0.97
    # The sidecar's number is reproduced exactly by the shipped file.
    recorded = json.loads(sidecar_path(weights_path("digit-mnist5k")).read_text())["test_accuracy"]
    assert accuracy == pytest.approx(recorded, abs=1e-6)


def test_digits_extractor_classifies_the_test_split(digits):
    extractor = load_extractor("digit-digits")
    test = digits.split("test")
    accuracy = (extractor.classify(test.float_x()) == test.y).double().mean().item()
    assert accuracy >= 0.97
    # The sidecar's number (rounded to 6 decimals there) is reproduced exactly by the shipped file.
    recorded = json.loads(sidecar_path(weights_path("digit-digits")).read_text())["test_accuracy"]
    assert accuracy == pytest.approx(recorded, abs=5e-7)


def test_features_shape_dtype_and_determinism(mnist5k):
    extractor = load_extractor("digit-mnist5k")
    x = mnist5k.split("val").float_x()[:64]
    feats = extractor(x)
    assert feats.shape == (64, 128) == (64, extractor.dim)
    assert feats.dtype == torch.float32 and not feats.requires_grad
    assert (feats >= 0).all()  # post-ReLU activations
    assert (feats.abs().sum(1) > 0).all()  # no dead image
    assert torch.equal(extractor(x), feats)  # eval mode: dropout is off
    torch.testing.assert_close(extractor(x, batch_size=7), feats, rtol=1e-5, atol=1e-5)
    assert extractor.image_shape == (1, 28, 28)


def test_extractor_rejects_images_of_the_wrong_shape():
    extractor = load_extractor("digit-digits")
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        extractor(torch.zeros(2, 1, 28, 28))


def test_extractor_for_picks_by_image_shape():
    assert extractor_for(DataInfo("mnist5k", "image", (1, 28, 28), 10)).name == "digit-mnist5k"
    assert extractor_for(DataInfo("digits", "image", (1, 8, 8), 10)).name == "digit-digits"
    assert extractor_for(DataInfo("cifar10", "image", (3, 32, 32), 10)) is None
    assert extractor_for(DataInfo("ring8", "vector", (2,))) is None


# --------------------------------------------------------------------- loading code, own files


def test_loads_weights_the_test_wrote(tmp_path):
    path = tmp_path / "mine.safetensors"
    net = write_weights(path, image_size=28, seed=1)
    extractor = load_extractor("digit-mnist5k", path=path)
    assert extractor.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert extractor.sha256 != load_extractor("digit-mnist5k").sha256
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(extractor(x), net.features(x), rtol=0, atol=1e-6)
        assert torch.equal(extractor.classify(x), net(x).argmax(1))
    # A matching expected hash passes; another one is refused.
    assert load_extractor("digit-mnist5k", path=path, sha256=extractor.sha256).sha256 == extractor.sha256
    with pytest.raises(WeightsError, match="sha256"):
        load_extractor("digit-mnist5k", path=path, sha256="0" * 64)


def _assert_one_line_naming(err: pytest.ExceptionInfo, path: Path) -> None:
    message = str(err.value)
    assert isinstance(err.value, GankitError)
    assert str(path) in message and "\n" not in message


def test_missing_file_is_a_gankit_error_naming_it(tmp_path):
    path = tmp_path / "absent.safetensors"
    with pytest.raises(GankitError) as err:
        load_extractor("digit-mnist5k", path=path)
    _assert_one_line_naming(err, path)


def test_corrupt_file_is_a_gankit_error_naming_it(tmp_path):
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(b"\x00\x01 not a safetensors file" * 10)
    with pytest.raises(GankitError) as err:
        load_extractor("digit-mnist5k", path=path)
    _assert_one_line_naming(err, path)
    # A truncated real file too.
    good = tmp_path / "good.safetensors"
    write_weights(good)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(good.read_bytes()[:-1000])
    with pytest.raises(GankitError) as err:
        load_extractor("digit-mnist5k", path=truncated)
    _assert_one_line_naming(err, truncated)


def test_wrong_tensor_shape_is_a_gankit_error_naming_file_and_tensor(tmp_path):
    path = tmp_path / "wrong-shape.safetensors"
    write_weights(path, **{"embed.1.weight": torch.zeros(128, 99)})
    with pytest.raises(GankitError) as err:
        load_extractor("digit-mnist5k", path=path)
    _assert_one_line_naming(err, path)
    assert "embed.1.weight" in str(err.value)
    # 8x8 weights are the wrong shapes for the 28x28 network.
    small = tmp_path / "digits-size.safetensors"
    write_weights(small, image_size=8)
    with pytest.raises(GankitError) as err:
        load_extractor("digit-mnist5k", path=small)
    _assert_one_line_naming(err, small)


def test_missing_tensor_and_unknown_name(tmp_path):
    path = tmp_path / "missing-key.safetensors"
    write_weights(path, **{"head.1.bias": None})
    with pytest.raises(GankitError, match="missing") as err:
        load_extractor("digit-mnist5k", path=path)
    _assert_one_line_naming(err, path)
    with pytest.raises(GankitError, match="digit-mnist5k"):
        load_extractor("inception-v3")


def test_sidecar_hash_mismatch_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    write_weights(path)
    sidecar_path(path).write_text(json.dumps({"sha256": "f" * 64}))
    with pytest.raises(WeightsError) as err:
        load_extractor("digit-mnist5k", path=path)
    _assert_one_line_naming(err, path)


# ------------------------------------------------------------------------------- training script


def test_training_script_writes_loadable_weights_and_a_train_only_sidecar(tmp_path, monkeypatch):
    import importlib.util
    import sys

    script = Path(__file__).resolve().parents[2] / "scripts" / "train_digit_classifier.py"
    spec = importlib.util.spec_from_file_location("train_digit_classifier", script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    out = tmp_path / "tiny.safetensors"
    threads = torch.get_num_threads()
    assert module.main(["--dataset", "digits", "--epochs", "1", "--out", str(out)]) == 0
    assert torch.get_num_threads() == threads  # the script's global settings do not leak
    sidecar = json.loads(sidecar_path(out).read_text())
    assert sidecar["split"] == "train" and sidecar["dataset"] == "digits" and sidecar["epochs"] == 1
    assert sidecar["command"].endswith("--dataset digits --epochs 1 --out " + str(out))
    extractor = load_extractor("digit-digits", path=out)  # checks the sidecar's sha256 too
    assert extractor.sha256 == sidecar["sha256"]
