"""BiGAN / ALI: adversarially learned inference (Donahue et al. 2017; Dumoulin et al. 2017).

Three networks: G maps z to x, an encoder E maps x to z, and D judges (x, z) pairs. D learns to tell
the data pair (x, E(x)), x ~ p_data, from the model pair (G(z), z), z ~ p(z):

    D minimises   objective.d_loss(D(x, E(x)), D(G(z), z))          (real = data pair, fake = model pair)
    G, E minimise objective.d_loss(D(G(z), z), D(x, E(x)))          (the same loss with the roles swapped)

The swapped loss is the non-saturating form of the BiGAN game (the "inverted" loss of Donahue et al.): both
generators get strong gradients early, when D separates the pairs easily. At the optimum the joint
distributions match, so E inverts G and E(x) is a learned representation of x.

Option (not part of BiGAN/ALI): ``model.params.recon_weight`` adds ALICE's explicit cycle term
(Li et al. 2017) ``recon_weight * mean((G(E(x)) - x)^2)`` to G and E's loss. Why it is needed here
(issue 18, docs/benchmarks.md "BiGAN encoder (issue 18)"): the adversarial game alone teaches E to invert G
only slowly; the paper's MNIST run (jeffdonahue/bigan) sees 400 epochs of 60k images, a CPU preset about
10 epochs of 4k. After 600 steps on mnist5k plain BiGAN reconstructs worse than the mean image (MSE 0.5676
vs 0.2689) and its E(x) probes at 74.8 % vs 86.4 % on raw pixels; with ``recon_weight=1`` (the preset),
seeds 0/1: MSE 0.161/0.212, probe 89.6/90.6 %. Over seeds 0-2 (benchmarks/bigan_encoder.py): at 1,500
steps the term gives a probe of 90.5 +- 1.0 % and an MSE 51-58 % below the mean-image guess on every seed,
while plain BiGAN still reconstructs at twice the guess (MSE 0.57; probe 85.7 %); at the preset's 3,000
steps 90.9 +- 0.5 % and MSE 0.090 +- 0.005. E stays deterministic (as in BiGAN; ALI's E is stochastic).

Measured by :func:`measure_representation`: reconstruction G(E(x)) of test images and a linear
classifier on E(x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from pydantic import Field

from gankit.config import Strict
from gankit.data.base import Dataset
from gankit.data.batch import Batch
from gankit.models.base import Model, StepResult, d_stats
from gankit.nets import build_nets
from gankit.nets.encoder import build_encoder, build_joint_discriminator
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.sampling import LatentPrior
from gankit.validation import parse_params


class BiGAN(Model):
    """G (z -> x), E (x -> z) and D(x, z). ``g_parameters`` holds G's and E's weights.

    Example::

        model = BiGAN(G, E, D, NonSaturating(), z_dim=50)
        d = model.d_step(Batch(x=real)); g = model.g_step(Batch(x=real))
        z_hat = model.E(real)
    """

    def __init__(self, G: torch.nn.Module, E: torch.nn.Module, D: torch.nn.Module, objective: Objective,
                 z_dim: int, recon_weight: float = 0.0) -> None:
        super().__init__({"G": G, "E": E, "D": D}, LatentPrior(z_dim))
        self.objective = objective
        self.recon_weight = recon_weight

    @property
    def E(self) -> torch.nn.Module:
        return self.net("E")

    def g_parameters(self) -> list[torch.nn.Parameter]:
        return list(self.nets["G"].parameters()) + list(self.nets["E"].parameters())

    def _scores(self, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """D's scores of the data pairs (x, E(x)) and of as many model pairs (G(z), z)."""
        z = self.sample_z(len(real), real.device)
        return self.D(real, self.E(real)), self.D(self.G(z), z)

    def d_step(self, batch: Batch) -> StepResult:
        real = batch.x
        with torch.no_grad():  # D's step needs no gradient through G or E
            z = self.sample_z(len(real), real.device)
            z_real, fake = self.E(real), self.G(z)
        real_out, fake_out = self.D(real, z_real), self.D(fake, z)
        loss = self.objective.d_loss(real_out, fake_out)
        return StepResult(loss, d_stats(self.objective, loss, real_out, fake_out))

    def g_step(self, batch: Batch) -> StepResult:
        real_out, fake_out = self._scores(batch.x)
        loss = self.objective.d_loss(fake_out, real_out)  # roles swapped: G and E try to fool D both ways
        stats = {"g_loss": loss.detach()}
        if self.recon_weight > 0:
            recon = reconstruction_loss(self.G, self.E, batch.x)
            loss = loss + self.recon_weight * recon
            stats["recon"] = recon.detach()
        return StepResult(loss, stats)


def reconstruction_loss(G: torch.nn.Module, E: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """ALICE's explicit cycle term (Li et al. 2017): mean squared error per pixel of G(E(x)) against x.

    An option of the BiGAN family (``model.params.recon_weight``), not part of BiGAN/ALI themselves; the
    gradient reaches G and E only."""
    return ((G(E(x)) - x) ** 2).mean()


class BiGANParams(Strict):
    """``model.params`` of bigan (the encoder's width follows ``net.width``)."""

    recon_weight: float = Field(0.0, ge=0)
    """Weight of ALICE's x-reconstruction term ||G(E(x)) - x||^2 in G and E's loss (0: plain BiGAN/ALI)."""


@MODELS.register("bigan", "BiGAN / ALI: encoder E, generator G, discriminator on (x, z) pairs")
def build_bigan(cfg, info, device) -> BiGAN:
    params = parse_params(BiGANParams, cfg.model.params, "model 'bigan'")
    G, _ = build_nets(cfg.net, info)
    E = build_encoder(cfg.net, info, cfg.net.z_dim)
    D = build_joint_discriminator(cfg.net, info)
    return BiGAN(G.to(device), E.to(device), D.to(device), build_objective(cfg.objective), cfg.net.z_dim,
                 recon_weight=params.recon_weight)


# ------------------------------------------------------------------------------------------------
# Measuring the representation.


@torch.no_grad()
def encode(E: torch.nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """E(x) in eval mode, batched, on the CPU as float32 (E's train/eval mode is restored)."""
    was_training = E.training
    E.eval()
    try:
        device = next(E.parameters()).device
        return torch.cat([E(chunk.to(device)).float().cpu() for chunk in x.split(batch_size)])
    finally:
        E.train(was_training)


@dataclass
class RepresentationReport:
    """What :func:`measure_representation` measured; ``fingerprint`` says on what."""

    recon_mse: float
    """Mean squared error per pixel of G(E(x)) vs x on the test split (pixels in [-1, 1])."""
    recon_mse_mean_image: float
    """The same error for the constant guess "the training split's mean image" (a reference point)."""
    linear_acc_features: float
    """Test accuracy of a logistic regression trained on E(x) of the train split."""
    linear_acc_pixels: float
    """Test accuracy of the same classifier trained on raw pixels."""
    fingerprint: dict

    def lines(self) -> list[str]:
        fp = self.fingerprint
        return [
            (f"reconstruction MSE G(E(x)) {self.recon_mse:.4f} per pixel (mean-image guess {self.recon_mse_mean_image:.4f})"
            f"  | {fp['dataset']} test, N={fp['n_test']}, pixels in [-1, 1]"),
            (f"linear classifier accuracy: E(x) features {100 * self.linear_acc_features:.2f} %, raw pixels "
            f"{100 * self.linear_acc_pixels:.2f} %  | {fp['classifier']}, fit on {fp['n_train']} train, "
            f"scored on {fp['n_test']} test"),
        ]


def linear_probe(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                 seed: int = 0) -> float:
    """Test accuracy of a standardised multinomial logistic regression (sklearn, lbfgs, C=1) fit on train."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, random_state=seed))
    clf.fit(train_x, train_y)
    return float((clf.predict(test_x) == test_y).mean())


def measure_representation(G: torch.nn.Module, E: torch.nn.Module, dataset: Dataset, seed: int = 0
                           ) -> RepresentationReport:
    """Reconstruction G(E(x)) on the test split and the linear-probe accuracy of E(x) vs raw pixels.

    The probes are fit on the whole train split and scored on the whole test split (labels needed)."""
    from gankit.sampling import generate

    train, test = dataset.split("train"), dataset.split("test")
    if train.y is None or test.y is None:
        raise ValueError(f"{dataset.info.name} has no labels; the linear probe needs them")
    device = next(G.parameters()).device
    train_x, test_x = train.float_x(), test.float_x()
    z_test = encode(E, test_x)
    recon = generate(G, z_test.to(device))
    mse = float(((recon - test_x) ** 2).mean())
    mean_mse = float(((train_x.mean(0, keepdim=True) - test_x) ** 2).mean())
    f_train, f_test = encode(E, train_x).numpy(), z_test.numpy()
    acc_f = linear_probe(f_train, train.y.numpy(), f_test, test.y.numpy(), seed)
    acc_p = linear_probe(train_x.flatten(1).numpy(), train.y.numpy(), test_x.flatten(1).numpy(), test.y.numpy(), seed)
    fingerprint = {"dataset": dataset.info.name, "n_train": len(train), "n_test": len(test), "z_dim": z_test.shape[1],
                   "classifier": "StandardScaler + LogisticRegression(C=1, lbfgs)"}
    return RepresentationReport(mse, mean_mse, acc_f, acc_p, fingerprint)
