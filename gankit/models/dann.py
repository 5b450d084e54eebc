"""Domain-adversarial training of neural networks (DANN; Ganin & Lempitsky 2015, Ganin et al. 2016).

Three networks, the paper's MNIST architecture (Ganin et al. 2016, the MNIST -> MNIST-M network), sized
from the dataset's shape:

- ``F``, the feature extractor: conv 5x5 (32) - ReLU - max-pool 2 - conv 5x5 (48) - ReLU - max-pool 2,
  flattened (48 x 4 x 4 = 768 features on 28 x 28 images);
- ``C``, the label classifier: 100 - ReLU - 100 - ReLU - K logits;
- ``D``, the domain classifier: a gradient reversal layer, then 100 - ReLU - 1 logit (target = 1).

One step minimises, over all three at once (``adversarial = False``: the trainer runs only ``g_step``,
whose optimiser updates every parameter),

    L = CE(C(F(x_s)), y_s) + BCE(D(R_lambda(F(x_s))), 0) + BCE(D(R_lambda(F(x_t))), 1)

(the domain term is the mean over the 2N source and target rows). The gradient reversal layer R_lambda is
the identity forward and multiplies the gradient by -lambda backward, so D descends its loss while F
ascends it (with weight lambda): F learns features that classify the source and that D cannot tell
apart between domains. lambda follows the paper's schedule (Ganin et al. 2016)

    lambda_p = lambda_max * (2 / (1 + exp(-gamma * p)) - 1),   gamma = 10,

with p = (steps done before this one) / (the run's ``train.steps``), clamped at 1. The step count and the
horizon live in buffers of ``nets["progress"]``, so checkpoints carry them and a resumed run is bitwise the
uninterrupted one; a run extended on ``--resume`` keeps the horizon it started with (p stays at 1).

``model.params.mode`` gives the two baselines from the same code and networks:

- ``dann``: the loss above (needs a two-domain dataset, e.g. ``data.name=mnist5k-to-mnistm``);
- ``source-only``: only the cross-entropy on the source (the lower bound; ``x_target`` is never read);
- ``target-only``: the same cross-entropy, on the labelled target domain itself (the upper bound, "trained
  on target"): ``data.name`` is then the target dataset (e.g. ``mnistm``), since a two-domain dataset
  keeps the target's labels out of its training rows.

Options beyond the paper's network (``model.params``): ``domain_hidden`` / ``domain_layers`` (a wider, deeper
domain classifier; the paper's SVHN one is 1024-1024), ``batchnorm`` (batch normalisation in F).

The optimiser is the trainer's: ``train.optimizer=sgd`` with ``train.momentum=0.9``, ``train.lr_g=0.01`` and
``train.lr_decay=inverse`` is the paper's (SGD, mu_p = 0.01 / (1 + 10 p)^0.75); the presets use Adam
(lr 1e-3, betas (0.5, 0.999), 1,200 steps), chosen on MNIST-M's validation split (benchmarks/domains.py;
docs/benchmarks.md, section "domains"). Measured there (seed 0, target validation accuracy): with Adam's usual
beta1 = 0.9 DANN is no better than source only (59.4 % vs 59.8 %), nor with 3,000 steps (57.4 %), the paper's
SGD schedule over 3,000 steps (50.0 %), lambda_max 3 (55.6 %), a 1024-1024 domain classifier (55.8 %) or batch
normalisation (55.2 %); lambda_max 0.3 gave 63.4 %. beta1 = 0.5 (as GANs use) gave 74.0 / 70.6 % against source
only's 61.0 / 61.2 % (seeds 0, 1); beta1 = 0 gave 68.4 %.

Example::

    cfg = load_config(preset="mnist5k-to-mnistm-dann")
    result = train(cfg)       # prints "DANN: target test accuracy ... source test accuracy ..."
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from gankit.config import Strict
from gankit.data.base import DataInfo, Split
from gankit.data.batch import Batch
from gankit.errors import ConfigError
from gankit.models.base import Model, StepResult
from gankit.registry import MODELS
from gankit.validation import parse_params

TARGET_FIELD = "x_target"  # the two-domain datasets' unlabelled target images (gankit.data.domains)


class GradientReversal(torch.autograd.Function):
    """R_lambda: the identity forward; backward, the incoming gradient times -lambda (a 0-dim tensor)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lambd: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(lambd)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (lambd,) = ctx.saved_tensors
        return -lambd * grad, None


def reverse_gradient(x: torch.Tensor, lambd: float | torch.Tensor) -> torch.Tensor:
    """``x`` unchanged, but its gradient multiplied by ``-lambd`` on the way back.

    Example::

        x = torch.ones(3, requires_grad=True)
        reverse_gradient(x, 0.5).sum().backward()   # x.grad == tensor([-0.5, -0.5, -0.5])
    """
    return GradientReversal.apply(x, torch.as_tensor(lambd, dtype=x.dtype, device=x.device))


def grl_lambda(p: float, gamma: float = 10.0, lambda_max: float = 1.0) -> float:
    """The paper's schedule of the reversal coefficient: ``lambda_max * (2 / (1 + exp(-gamma p)) - 1)``,
    0 at p = 0, rising to about ``lambda_max`` (tanh(gamma / 2) of it) at p = 1."""
    return lambda_max * (2.0 / (1.0 + math.exp(-gamma * p)) - 1.0)


class FeatureExtractor(nn.Module):
    """images (N, C, S, S) -> features (N, 48 * s * s), s = ((S - 4) // 2 - 4) // 2 (4 for S = 28)."""

    def __init__(self, channels: int, size: int, widths: tuple[int, int] = (32, 48), batchnorm: bool = False) -> None:
        super().__init__()
        side = ((size - 4) // 2 - 4) // 2
        if side < 1:
            raise ConfigError(f"data.name: dann's feature extractor (two 5x5 convolutions and 2x2 poolings) needs "
                              f"images of at least 16 px, got {size}; use e.g. digits28 instead of digits")
        self.dim = widths[1] * side * side
        def norm(c: int) -> list[nn.Module]:
            return [nn.BatchNorm2d(c)] if batchnorm else []

        self.net = nn.Sequential(
            nn.Conv2d(channels, widths[0], 5), *norm(widths[0]), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(widths[0], widths[1], 5), *norm(widths[1]), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class LabelClassifier(nn.Module):
    """features (N, F) -> K class logits (N, K)."""

    def __init__(self, dim: int, num_classes: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, num_classes))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.net(f)


class DomainClassifier(nn.Module):
    """features (N, F), lambda -> one logit per row (N,), "target" when positive; the features first
    pass the gradient reversal layer, so F receives -lambda times D's gradient."""

    def __init__(self, dim: int, hidden: int, layers: int = 1) -> None:
        super().__init__()
        widths = [dim] + [hidden] * layers
        body = [m for a, b in zip(widths, widths[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
        self.net = nn.Sequential(*body, nn.Linear(hidden, 1))

    def forward(self, f: torch.Tensor, lambd: float | torch.Tensor) -> torch.Tensor:
        return self.net(reverse_gradient(f, lambd)).squeeze(1)


class Progress(nn.Module):
    """Steps done and the schedule's horizon, in buffers, so that checkpoints carry them."""

    def __init__(self, total_steps: int) -> None:
        super().__init__()
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))
        self.register_buffer("total", torch.tensor(total_steps, dtype=torch.int64))

    @property
    def p(self) -> float:
        """Training progress in [0, 1]: steps done / horizon."""
        return min(int(self.count) / max(int(self.total), 1), 1.0)


class DANNParams(Strict):
    """``model.params`` of dann."""

    mode: Literal["dann", "source-only", "target-only"] = "dann"
    """dann (domain-adversarial), source-only (lower bound) or target-only (upper bound, on the target dataset)."""
    gamma: float = Field(10.0, gt=0)
    """Steepness of the lambda schedule lambda_max * (2 / (1 + exp(-gamma p)) - 1); 10 in the paper."""
    lambda_max: float = Field(1.0, gt=0)
    """The coefficient the schedule rises to (1 in the paper)."""
    hidden: int = Field(100, ge=1)
    """Width of the label classifier's hidden layers (100 in the paper's MNIST network)."""
    domain_hidden: int = Field(100, ge=1)
    """Width of the domain classifier's hidden layers (100 in the paper's MNIST network)."""
    batchnorm: bool = False
    """Batch normalisation after each of F's convolutions (not in the paper's network). Under dann F sees the
    source and target rows in one batch, so its statistics (and the running ones used at test time) are of
    both domains; under source-only, of the source alone."""
    domain_layers: int = Field(1, ge=1, le=4)
    """Hidden layers of the domain classifier (1 in the paper's MNIST network, 2 of 1024 in its SVHN one)."""


class DANN(Model):
    """Feature extractor F, label classifier C, domain classifier D behind gradient reversal (module docstring).

    Example::

        model = DANN(FeatureExtractor(3, 28), ..., mode="dann", total_steps=3000)
        model.g_step(Batch(x=x_source, y=y_source, x_target=x_target)).loss.backward()
    """

    adversarial = False  # one optimiser step updates F, C and D; the reversal layer makes it a min-max
    generative = False  # no generator: no EMA, grids or FID; the figure is the target accuracy

    def __init__(self, F_net: FeatureExtractor, C: LabelClassifier, D: DomainClassifier, mode: str,
                 total_steps: int, gamma: float = 10.0, lambda_max: float = 1.0) -> None:
        super().__init__({"F": F_net, "C": C, "D": D, "progress": Progress(total_steps)}, None)
        self.mode, self.gamma, self.lambda_max = mode, gamma, lambda_max

    def g_parameters(self) -> list[nn.Parameter]:
        return [p for name in ("F", "C", "D") for p in self.nets[name].parameters()]

    def d_parameters(self) -> list[nn.Parameter]:
        return []

    def lambda_now(self) -> float:
        """lambda of the next step, from the progress buffers."""
        return grl_lambda(self.nets["progress"].p, self.gamma, self.lambda_max)

    def g_step(self, batch: Batch) -> StepResult:
        n = len(batch)
        if self.mode == "dann":
            f = self.net("F")(torch.cat([batch.x, batch[TARGET_FIELD]]))  # (2N, F): source rows, then target rows
            lam = torch.tensor(self.lambda_now(), dtype=torch.float32, device=f.device)  # a tensor: no recompiles
            f_source = f[:n]
            domain_logit = self.net("D")(f, lam)
            is_target = torch.cat([torch.zeros(n, device=f.device), torch.ones(n, device=f.device)])
            domain_loss = F.binary_cross_entropy_with_logits(domain_logit, is_target)
        else:
            f_source = self.net("F")(batch.x)
        logits = self.net("C")(f_source)
        ce = F.cross_entropy(logits, batch.y)
        stats = {"ce": ce.detach(), "acc": (logits.detach().argmax(1) == batch.y).float().mean()}
        loss = ce
        if self.mode == "dann":
            loss = ce + domain_loss
            right = ((domain_logit.detach() > 0).float() == is_target).float()
            stats |= {"domain_loss": domain_loss.detach(), "lambda": lam, "domain_acc": right.mean(),
                      "domain_acc_source": right[:n].mean(), "domain_acc_target": right[n:].mean()}
        self.nets["progress"].count += 1
        return StepResult(loss, stats)

    @torch.no_grad()
    def accuracy(self, split: Split, batch_size: int = 500) -> float:
        """Fraction of ``split`` whose argmax of C(F(x)) is its label (plain nets, eval mode, restored after)."""
        modes = {name: net.training for name, net in self.nets.items()}
        self.eval()
        try:
            device = next(self.nets["C"].parameters()).device
            rows = torch.arange(len(split), device=split.y.device).split(batch_size)
            pred = torch.cat([self.nets["C"](self.nets["F"](split.float_x(idx).to(device))).argmax(1).cpu()
                              for idx in rows])
        finally:
            for name, net in self.nets.items():
                net.train(modes[name])
        return float((pred == split.y.cpu()).float().mean())

    def final_figures(self, dataset, split: str) -> dict:
        """Target ``split`` accuracy (and the source domain's) on a two-domain dataset; on a single domain, its
        ``split`` accuracy (for mode target-only: the target's)."""
        held = dataset.split(split)
        source = getattr(dataset, "source", None)
        what = {"dann": "DANN", "source-only": "source-only", "target-only": "trained on target"}[self.mode]
        fp = {"dataset": dataset.info.name, "split": split, "n": len(held), "mode": self.mode,
              "steps": int(self.nets["progress"].count), "classifier": "C(F(x)), argmax"}
        if source is not None:
            target_acc, source_acc = self.accuracy(held), self.accuracy(source.split(split))
            fp |= {"source": source.info.name, "target": dataset.target.info.name,
                   "n_source": len(source.split(split))}
            line = (f"{what}: target {split} accuracy {100 * target_acc:.2f} %, source {split} accuracy "
                    f"{100 * source_acc:.2f} %  | {dataset.info.name}, N={len(held)} target / "
                    f"{fp['n_source']} source {split} images")
            return {"lines": [line], "values": {"target_accuracy": target_acc, "source_accuracy": source_acc},
                    "fingerprint": fp}
        acc = self.accuracy(held)
        key = "target_accuracy" if self.mode == "target-only" else "accuracy"
        line = f"{what}: {split} accuracy {100 * acc:.2f} %  | {dataset.info.name} {split}, N={len(held)}"
        return {"lines": [line], "values": {key: acc}, "fingerprint": fp}


def check_data(mode: str, info: DataInfo) -> None:
    """A ConfigError naming the key to change when ``mode`` cannot train on data described by ``info``."""
    if info.kind != "image" or info.num_classes < 2:
        raise ConfigError(f"data.name: dann classifies labelled images; {info.name!r} is not a labelled image dataset")
    two_domain = TARGET_FIELD in info.fields
    if mode == "dann" and not two_domain:
        raise ConfigError(f"model.params.mode: dann needs a two-domain dataset (with {TARGET_FIELD}), not "
                          f"{info.name!r}; set data.name=mnist5k-to-mnistm (or digits28-to-mnist5k, "
                          "mnist5k-to-digits28), or mode=source-only")
    if mode == "target-only" and two_domain:
        raise ConfigError(f"model.params.mode: target-only trains on the target's labels, which {info.name!r} keeps "
                          "out of training; set data.name to the target domain itself (e.g. mnistm)")


@MODELS.register("dann", "domain-adversarial training (Ganin et al. 2016): F, label C, domain D behind "
                         "gradient reversal; model.params.mode=dann|source-only|target-only")
def build_dann(cfg, info: DataInfo, device) -> DANN:
    p = parse_params(DANNParams, cfg.model.params, "model 'dann'")
    check_data(p.mode, info)
    F_net = FeatureExtractor(info.channels, info.image_size, batchnorm=p.batchnorm)
    C = LabelClassifier(F_net.dim, info.num_classes, p.hidden)
    D = DomainClassifier(F_net.dim, p.domain_hidden, p.domain_layers)
    return DANN(F_net, C, D, p.mode, cfg.train.steps, p.gamma, p.lambda_max).to(device)
