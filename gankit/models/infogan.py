"""InfoGAN (Chen et al. 2016): latent codes that G must keep recoverable, learned without labels.

G's input row is ``[z, one_hot(c_cat), c_cont]`` (:class:`InfoGANPrior`): z ~ N(0, I), a uniform
categorical code with K values and C continuous codes ~ U(-1, 1). A head Q on D's features predicts
the codes, and both players add the variational lower bound of the mutual information I(c; G(z, c))
(their Eq. 4-5):

    L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)}[log Q(c | x)] + H(c)  <=  I(c; G(z, c))
    min_{G,Q} max_D  V(D, G) - lambda * L_I(G, Q)

Q is a factored distribution: a softmax over the K categories, and a Gaussian of unit variance per
continuous code (as in the authors' code), so log Q(c | x) = log softmax(l)[c_cat]
+ sum_j (-(c_j - mu_j)^2 / 2 - log(2 pi) / 2). H(c) = log K + C log 2 for these codes.

Who updates what: both losses carry the same -lambda * L_I term, so G, Q and the body Q shares with
D all maximise L_I; the body goes with D's optimiser. Q itself goes with one of the two optimisers
(``model.params.q_with``):

- ``generator`` (default): Q is in ``g_parameters`` (the trainer keeps its gradient during G's step)
  and is updated at G's learning rate, in G's step;
- ``discriminator``: Q is in ``d_parameters`` and is updated in D's step at D's learning rate, as in
  the authors' code (openai/InfoGAN, ``infogan/models/regularized_gan.py``: the encoder layers live in
  the ``d_net`` scope, and the trainer gives every ``d_`` variable to D's optimiser).

V(D, G) is the configured objective. Of the ``reg.*`` switches InfoGAN applies those that keep one D
output per sample (:data:`REG_SWITCHES`): DiffAugment (D, and so Q, judge T(x): Q must read the code off
translated / cut-out images), spectral norm, and D's penalties (gp, r1, r2) and label smoothing; the
others are refused with a one-line config error.

Measured on mnist5k (benchmarks/conditional.py protocol, seed 0, G_ema, 200 images per code): the
categorical code matches the digit classes (Hungarian matching) on 36.5 % after 1,500 steps and 42.2 %
after 3,000 with the mnist5k preset; at 1,500 steps ``q_with=discriminator`` gave 32.1 %,
``continuous_weight=0.1`` 26.1 %, ``info_weight=2`` 30.3 %, ``continuous=0`` 35.3 %, ``train.lr_g=2e-4``
23.0 %, and a paper-style Q (FC 128 + BN) 30.8 %. In every run Q recovered the code on G's samples
(q_cat_acc >= 0.99 by step ~300): G tied the code to stroke style as much as to digit identity.

Why (issue 18; benchmarks/infogan_ablation.py, docs/benchmarks.md section "infogan-ablation"): the
bound L_I saturates at log 10 within ~200 steps whatever the code means, so the MI term alone does not
ask for digits; which partition G picks is decided by the networks' inductive bias. Against the paper
(App. C.1) and openai/InfoGAN, the losses, the H(c) term, the uniform one-hot code, the unit-variance
Gaussian for the continuous codes (weight 1, as the authors' ``fix_std=True``) and the D-step update of
the shared trunk all agree; the networks do not: gankit's DCGAN pair has no FC-1024 layer in G, no BN
in D, and Q reads D's flattened last convolution instead of a shared FC-1024 trunk. The paper's nets
(``net.name: infogan-mnist``, preset ``mnist5k-infogan-long``) raise the matching from 36.5 % to 53.3 %
(raw G 54.5 %; seed 0, 1,500 steps, 853 s) against 50.7 % for k-means on raw pixels; the EMA of G is
not the cause (G and G_ema within about one point; the preset's seed 1: 37.3 %, raw G 37.1 %).

Scale is the rest of it: at the authors' batch of 128 for 4,000 steps (preset ``mnist5k-infogan-long``,
about 40 minutes on one CPU thread) the paper's nets reach 94.4 / 69.5 / 79.5 % for seeds 0 / 1 / 2 (mean
81.1 %; learning curves from the checkpoints: seed 0 64.6 % at 1,500 steps, 87.5 % at 3,000; seeds 1 and 2
settle at 70-80 % by step 1,500 and keep that partition while the MI term stays saturated). The 90 %
target (mean of 3 seeds) is met by one seed: the code is seed-sensitive, as the literature reports.
Not D memorising the 4,000 digits: with DiffAugment (``reg.diffaugment=[translation]``) D's accuracy
stays near 0.7 instead of 0.97-0.99, and seed 1 ends at 75.6 % instead of 69.5 % (its code forms later,
42.8 % at 1,500 steps against 70.1 %).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from gankit.config import Strict
from gankit.data.base import DataInfo
from gankit.data.batch import Batch
from gankit.models.base import Model, StepResult, d_stats
from gankit.nets import build_nets
from gankit.nets.conditional import InfoQHead, feature_dim
from gankit.objectives import Objective, build_objective
from gankit.registry import MODELS
from gankit.regularizers import Regularizers, apply_to_nets
from gankit.sampling import LatentPrior, latent
from gankit.validation import parse_params

LOG_2PI = math.log(2 * math.pi)


class InfoGANPrior(LatentPrior):
    """Rows ``[z, one_hot(c_cat), c_cont]``: z ~ N(0, I_z_dim), c_cat uniform on K, c_cont ~ U(-1, 1)^C.

    ``y`` fixes the categorical code (so ``gankit sample --class k`` shows code k). ``grid`` traverses
    the codes: row k has c_cat = k, and the columns sweep the first continuous code from -1 to 1
    with one z for the whole grid (see :meth:`traversal`).

    Example::

        prior = InfoGANPrior(62, 10, 2)
        rows = prior.sample(4, seed=0)              # (4, 74)
        z, cat, cont = prior.split(rows)            # (4, 62), (4,), (4, 2)
    """

    def __init__(self, z_dim: int, categorical: int = 10, continuous: int = 2) -> None:
        super().__init__(z_dim + categorical + continuous)
        self.z_dim, self.categorical, self.continuous = z_dim, categorical, continuous
        self.num_classes = categorical  # what `--class` picks

    def draw(self, n: int, generator: torch.Generator | None, device: torch.device | str,
             y: torch.Tensor | None) -> torch.Tensor:
        z = torch.randn(n, self.z_dim, generator=generator, device=device)
        if y is None:
            cat = torch.randint(self.categorical, (n,), generator=generator, device=device)
        else:
            cat = torch.as_tensor(y, dtype=torch.long).to(device)
            if cat.shape != (n,) or (n and (int(cat.min()) < 0 or int(cat.max()) >= self.categorical)):
                raise ValueError(f"y must be ({n},) codes in 0..{self.categorical - 1}")
        cont = torch.rand(n, self.continuous, generator=generator, device=device) * 2 - 1
        return self.join(z, cat, cont)

    def join(self, z: torch.Tensor, cat: torch.Tensor, cont: torch.Tensor) -> torch.Tensor:
        return torch.cat([z, F.one_hot(cat, self.categorical).to(z.dtype), cont.to(z.dtype)], dim=1)

    def split(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(z (N, z_dim), c_cat (N,) int64, c_cont (N, C)) of G's input rows."""
        z, onehot, cont = rows.split([self.z_dim, self.categorical, self.continuous], dim=1)
        return z, onehot.argmax(dim=1), cont

    def labels(self, rows: torch.Tensor) -> torch.Tensor:
        """The categorical code of each row."""
        return self.split(rows)[1]

    def entropy(self) -> float:
        """H(c) = log K + C log 2 (uniform categorical, U(-1, 1) continuous codes; differential entropy)."""
        return math.log(self.categorical) + self.continuous * math.log(2.0)

    def traversal(self, code: int | None, seed: int, steps: int | None = None, span: float = 1.0,
                  device: torch.device | str = "cpu") -> torch.Tensor:
        """K rows of ``steps`` (default K) samples: row k has c_cat = k; the columns sweep continuous code
        ``code`` over [-span, span] (others 0) with one z, or, for ``code=None``, show ``steps`` z's at c_cont = 0."""
        k, steps = self.categorical, steps or self.categorical
        cat = torch.arange(k).repeat_interleave(steps)
        cont = torch.zeros(k * steps, self.continuous)
        if code is None:
            z = latent(steps, self.z_dim, seed).repeat(k, 1)
        else:
            if not 0 <= code < self.continuous:
                raise ValueError(f"continuous code {code} does not exist; this prior has {self.continuous}")
            z = latent(1, self.z_dim, seed).expand(k * steps, -1)
            cont[:, code] = torch.linspace(-span, span, steps).repeat(k)
        return self.join(z, cat, cont).to(device)

    def grid(self, n: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """K x K rows (``n`` is not used): categories by row, the first continuous code along each row."""
        return self.traversal(0 if self.continuous else None, seed, device=device)

    def __repr__(self) -> str:
        return f"InfoGANPrior(z_dim={self.z_dim}, categorical={self.categorical}, continuous={self.continuous})"


def mutual_information_bound(cat_logits: torch.Tensor, cat: torch.Tensor, cont_mean: torch.Tensor,
                             cont: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(L_I of the categorical code, L_I of the continuous codes), each E[log Q(c | x)] + H(c) over a batch.

    Categorical: mean of log softmax(cat_logits)[cat] + log K; at most log K (Q certain and right), 0
    for a uniform Q. Continuous: unit-variance Gaussian Q, sum over codes of
    mean(-(c - mu)^2 / 2) - C log(2 pi) / 2 + C log 2.
    """
    k = cat_logits.shape[1]
    l_cat = F.log_softmax(cat_logits, dim=1).gather(1, cat[:, None]).mean() + math.log(k)
    c = cont.shape[1]
    if c == 0:
        return l_cat, cat_logits.new_zeros(())
    log_q = -0.5 * (cont - cont_mean).pow(2) - 0.5 * LOG_2PI  # (N, C)
    l_cont = log_q.sum(dim=1).mean() + c * math.log(2.0)
    return l_cat, l_cont


class InfoGAN(Model):
    """InfoGAN step: D, G and Q with the mutual-information term; ``nets`` = G, D, Q.

    Example::

        model = InfoGAN(G, D, InfoQHead(F, 10, 2), NonSaturating(), InfoGANPrior(62, 10, 2))
        g = model.g_step(Batch(x=real))       # g.stats["mi_cat"] -> log 10 when Q recovers c_cat
    """

    prior: InfoGANPrior

    def __init__(self, G: nn.Module, D: nn.Module, Q: InfoQHead, objective: Objective, prior: InfoGANPrior,
                 info_weight: float = 1.0, continuous_weight: float = 1.0,
                 q_with: Literal["generator", "discriminator"] = "generator", reg: Regularizers | None = None) -> None:
        super().__init__({"G": G, "D": D, "Q": Q}, prior)
        self.objective = objective
        self.reg = reg if reg is not None else Regularizers()  # D's loss-time reg.* switches (REG_SWITCHES)
        self.info_weight, self.continuous_weight = info_weight, continuous_weight
        self.q_with = q_with

    @property
    def Q(self) -> nn.Module:
        return self.net("Q")

    def g_parameters(self) -> list[nn.Parameter]:
        q = list(self.nets["Q"].parameters()) if self.q_with == "generator" else []
        return list(self.nets["G"].parameters()) + q

    def d_parameters(self) -> list[nn.Parameter]:
        q = list(self.nets["Q"].parameters()) if self.q_with == "discriminator" else []
        return list(self.nets["D"].parameters()) + q

    def _info(self, features: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """lambda * (L_cat + w L_cont) for fakes with D features ``features`` made from ``rows``."""
        _, cat, cont = self.prior.split(rows)
        cat_logits, cont_mean = self.Q(features)
        l_cat, l_cont = mutual_information_bound(cat_logits, cat, cont_mean, cont)
        stats = {"mi_cat": l_cat.detach(), "mi_cont": l_cont.detach(),
                 "q_cat_acc": (cat_logits.detach().argmax(1) == cat).float().mean()}
        return self.info_weight * (l_cat + self.continuous_weight * l_cont), stats

    def d_step(self, batch: Batch) -> StepResult:
        real = batch.x
        rows = self.sample_z(len(real), real.device)
        with torch.no_grad():  # D's step needs no gradient through G
            fake = self.G(rows)
        real_out = self.D(real)
        fake_out, f_fake = self.D(fake, with_features=True)
        adversarial = self.reg.d_loss(self.objective, real_out, fake_out)  # (label smoothing, if on)
        terms = self.reg.d_terms(self.D, real, fake)  # gradient penalty, R1, R2 (reg_gp, reg_r1, reg_r2)
        info, _ = self._info(f_fake, rows)
        loss = adversarial + sum(terms.values()) - info
        return StepResult(loss, d_stats(self.objective, loss, real_out, fake_out) | {"d_adv_loss": adversarial.detach()}
                          | {name: value.detach() for name, value in terms.items()})

    def g_step(self, batch: Batch) -> StepResult:
        rows = self.sample_z(len(batch), batch.device)
        fake_out, f_fake = self.D(self.G(rows), with_features=True)
        adversarial = self.objective.g_loss(fake_out)
        info, stats = self._info(f_fake, rows)
        loss = adversarial - info
        return StepResult(loss, {"g_loss": loss.detach(), "g_adv_loss": adversarial.detach(), **stats})


def code_class_matching(codes: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor,
                        k: int) -> tuple[float, np.ndarray]:
    """Accuracy of categorical codes as class labels after the best one-to-one code -> class matching.

    Builds the K x K count matrix M[code, label] and picks the permutation that maximises the matched
    counts (Hungarian algorithm, ``scipy.optimize.linear_sum_assignment``). Returns (accuracy,
    mapping) where ``mapping[code]`` is the class matched to that code.
    """
    from scipy.optimize import linear_sum_assignment

    codes, labels = np.asarray(codes, dtype=np.int64), np.asarray(labels, dtype=np.int64)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (codes, labels), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    mapping = np.empty(k, dtype=np.int64)
    mapping[rows] = cols
    return float(counts[rows, cols].sum()) / max(len(codes), 1), mapping


class InfoGANParams(Strict):
    categorical: int = Field(10, ge=2)
    """Values of the categorical code (10 for MNIST digits in the paper)."""
    continuous: int = Field(2, ge=0)
    """Number of continuous codes, each U(-1, 1) (2 in the paper: rotation and width on MNIST)."""
    info_weight: float = Field(1.0, ge=0)
    """lambda, the weight of L_I (1 in the paper for discrete codes)."""
    continuous_weight: float = Field(1.0, ge=0)
    """Extra weight of the continuous part of L_I relative to the categorical one."""
    q_with: Literal["generator", "discriminator"] = "generator"
    """Which optimiser updates the Q head: G's (in G's step) or D's (in D's step, as the authors' code)."""


@MODELS.register("infogan", "InfoGAN: categorical + continuous codes recovered by a Q head on D (no labels)")
def build_infogan(cfg, info: DataInfo, device) -> InfoGAN:
    params = parse_params(InfoGANParams, cfg.model.params, "model 'infogan'")
    prior = InfoGANPrior(cfg.net.z_dim, params.categorical, params.continuous)
    G, D = build_nets(cfg.net.model_copy(update={"z_dim": prior.dim}), info)
    Q = InfoQHead(feature_dim(D), params.categorical, params.continuous)
    G, D = apply_to_nets(cfg, info, G, D)  # DiffAugment (Q reads the features of T(x) too), spectral norm
    return InfoGAN(G.to(device), D.to(device), Q.to(device), build_objective(cfg.objective), prior,
                   params.info_weight, params.continuous_weight, params.q_with, Regularizers(cfg.reg))


# The reg.* switches InfoGAN applies (gankit.regularizers.check_config reads them). Left out: the ones that
# change what one D output is (reg.pack, reg.minibatch_discrimination: Q needs one sample's features) and
# the G-loss terms written for G(z) (reg.ortho_jacobian, reg.feature_matching).
REG_SWITCHES = frozenset({"reg.diffaugment", "reg.spectral_norm", "reg.gp", "reg.r1", "reg.r2", "reg.label_smoothing"})
build_infogan.applies_reg = REG_SWITCHES  # type: ignore[attr-defined]
