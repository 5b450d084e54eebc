"""Regularisers and training tricks, switched on by the ``reg`` section of the config.

One technique per file (the paper and the equation are in each file's docstring):

- ``reg.gp.*``: gradient penalty, two- or one-sided, at interpolates / real / fake (grad_norm.py, D loss);
- ``reg.r1``, ``reg.r2``: gamma/2 E||grad D||^2 on real / fake samples (grad_norm.py, D loss);
- ``reg.spectral_norm``: W / sigma(W) in every Linear / Conv of D (spectral.py, build time);
- ``reg.ortho_jacobian.*``: ||J^T J - I||_F^2 on random latent axes (ortho_jacobian.py, G loss);
- ``reg.pack``: PacGAN, D judges ``pack`` samples at once (packing.py, build time);
- ``reg.label_smoothing``: real target 1 - alpha (label_smoothing.py, D loss);
- ``reg.feature_matching``: ||E f(real) - E f(fake)||^2 on D's features (feature_matching.py, G loss);
- ``reg.minibatch_discrimination``: o(x_i) = sum_j exp(-||M_i - M_j||_1) before D's head (minibatch.py, build);
- ``reg.diffaugment``: D judges T(x), random differentiable transformations of every image (diffaugment.py, build).

A model family applies them with :func:`apply_to_nets` (build time) and a :class:`Regularizers`
(loss terms, each logged as its own stat: reg_gp, reg_r1, reg_r2, reg_ortho, reg_fm).
:func:`check_config` rejects, with a ConfigError naming the key, the combinations that make no sense.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.regularizers.diffaugment import Augmented
from gankit.regularizers.feature_matching import feature_matching_loss
from gankit.regularizers.grad_norm import gradient_penalty, r1_penalty, r2_penalty
from gankit.regularizers.label_smoothing import supports_label_smoothing
from gankit.regularizers.minibatch import add_minibatch_discrimination
from gankit.regularizers.ortho_jacobian import ortho_jacobian_penalty
from gankit.regularizers.packing import Packed, packed_info
from gankit.regularizers.spectral import spectral_normalize


def switched_on(reg: Any) -> list[str]:  # reg: gankit.config.RegConfig
    """The config keys of the switches that are on, e.g. ["reg.gp", "reg.pack"]."""
    on = {
        "reg.gp": reg.gp.weight > 0,
        "reg.r1": reg.r1 > 0,
        "reg.r2": reg.r2 > 0,
        "reg.spectral_norm": reg.spectral_norm,
        "reg.ortho_jacobian": reg.ortho_jacobian.weight > 0,
        "reg.pack": reg.pack > 1,
        "reg.label_smoothing": reg.label_smoothing > 0,
        "reg.feature_matching": reg.feature_matching > 0,
        "reg.minibatch_discrimination": reg.minibatch_discrimination > 0,
        "reg.diffaugment": bool(reg.diffaugment),
    }
    return [key for key, flag in on.items() if flag]


def _incompatibility(incompatible: dict[str, str], key: str) -> str | None:
    """The reason an objective gives for ``key`` (also matched as "reg.gp.weight" or "reg" prefixes)."""
    for listed, reason in incompatible.items():
        if listed == key or listed.startswith(key + ".") or key.startswith(listed + "."):
            return reason
    return None


def check_config(cfg: Any) -> None:  # cfg: gankit.config.Config
    """Raise a one-line ConfigError naming the reg key for a switch that cannot work with the rest."""
    from gankit.registry import MODELS, OBJECTIVES

    keys = switched_on(cfg.reg)
    if not keys:
        return
    model = MODELS.get(cfg.model.name)
    applies = getattr(model, "applies_reg", False)  # True: every switch; a set of keys: those only
    if not applies:
        raise ConfigError(f"{keys[0]}: model {cfg.model.name!r} does not apply the reg.* switches "
                          f"(model=gan does); switch it off or use model=gan")
    if applies is not True:
        missing = [key for key in keys if key not in applies]
        if missing:
            raise ConfigError(f"{missing[0]}: model {cfg.model.name!r} applies only {', '.join(sorted(applies))}; "
                              f"switch {missing[0]} off or use model=gan")
    objective = OBJECTIVES.get(cfg.objective.name)
    for key in keys:
        reason = _incompatibility(getattr(objective, "incompatible", {}), key)
        if reason:
            raise ConfigError(f"{key}: cannot be used with objective {cfg.objective.name!r}: {reason}; "
                              f"switch {key} off or choose another objective")
    if "reg.label_smoothing" in keys and not supports_label_smoothing(objective):
        raise ConfigError(f"reg.label_smoothing: objective {cfg.objective.name!r} has no real-label target "
                          "to smooth (only sigmoid cross-entropy objectives do: minimax, nonsaturating); "
                          "set reg.label_smoothing=0")
    if cfg.reg.pack > 1 and cfg.train.batch_size % cfg.reg.pack:
        raise ConfigError(f"train.batch_size: {cfg.train.batch_size} is not a multiple of reg.pack={cfg.reg.pack} "
                          "(PacGAN packs consecutive samples); choose a multiple")
    penalties = [k for k in ("reg.gp", "reg.r1", "reg.r2") if k in keys]
    if "reg.minibatch_discrimination" in keys and penalties:
        raise ConfigError(f"{penalties[0]}: a per-sample gradient penalty is undefined with "
                          "reg.minibatch_discrimination (each score depends on the whole batch); switch one off")


def apply_to_nets(cfg: Any, info: Any, G: nn.Module, D: nn.Module) -> tuple[nn.Module, nn.Module]:
    """The build-time switches, in this order: packing (D rebuilt for ``pack x`` channels), minibatch
    discrimination (a new head, judging packs when packed), DiffAugment (D judges T(x)), spectral
    normalisation (every Linear / Conv of D, new head included).

    Example::

        G, D = apply_to_nets(cfg, dataset.info, *build_nets(cfg.net, dataset.info))
    """
    from gankit.nets import build_nets

    reg = cfg.reg
    # Build-time checks that need the nets themselves (e.g. an auto-encoder D has no features / head).
    if reg.feature_matching > 0 and not callable(getattr(D, "features", None)):
        raise ConfigError(f"reg.feature_matching: this D ({type(D).__name__}) exposes no features(x) to match; "
                          "set reg.feature_matching=0")
    if reg.minibatch_discrimination > 0 and not isinstance(getattr(D, "head", None), nn.Linear):
        raise ConfigError(f"reg.minibatch_discrimination: this D ({type(D).__name__}) has no Linear score head "
                          "to widen; set reg.minibatch_discrimination=0")
    if reg.diffaugment and len(info.shape) != 3:
        raise ConfigError(f"reg.diffaugment: it transforms images (C, H, W), this dataset's samples have shape "
                          f"{tuple(info.shape)}; set reg.diffaugment=[]")
    if reg.pack > 1:
        _, D = build_nets(cfg.net, packed_info(info, reg.pack))
    if reg.minibatch_discrimination > 0:  # on the unwrapped D, whose head is a plain attribute
        add_minibatch_discrimination(D, reg.minibatch_discrimination, reg.minibatch_kernel_dim)
    if reg.pack > 1:
        D = Packed(D, reg.pack)
    if reg.diffaugment:  # outermost: each sample is transformed before it is packed
        D = Augmented(D, reg.diffaugment)
    if reg.spectral_norm:
        spectral_normalize(D)
    return G, D


class Regularizers:
    """The loss-time switches of ``cfg.reg``: terms added to D's and G's losses, each returned by name.

    Example::

        reg = Regularizers(cfg.reg, z_dim=cfg.net.z_dim)
        terms = reg.d_terms(D, real, fake)          # {"reg_gp": ..., "reg_r1": ...}
        d_loss = reg.d_loss(objective, D(real), D(fake)) + sum(terms.values())
    """

    def __init__(self, reg: Any = None, z_dim: int | None = None) -> None:  # reg: RegConfig; None: all off
        from gankit.config import RegConfig

        self.cfg, self.z_dim = (reg if reg is not None else RegConfig()), z_dim

    def d_loss(self, objective: Any, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        """The objective's D loss, with one-sided label smoothing when it is switched on."""
        if self.cfg.label_smoothing > 0:
            return objective.d_loss_smoothed(real_out, fake_out, self.cfg.label_smoothing)
        return objective.d_loss(real_out, fake_out)

    def d_terms(self, D: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """Penalties on D: reg_gp, reg_r1, reg_r2 (only those switched on)."""
        reg, terms = self.cfg, {}
        if reg.gp.weight > 0:
            terms["reg_gp"] = gradient_penalty(D, real, fake, reg.gp.weight, reg.gp.center, reg.gp.one_sided, reg.gp.at)
        if reg.r1 > 0:
            terms["reg_r1"] = r1_penalty(D, real, reg.r1)
        if reg.r2 > 0:
            terms["reg_r2"] = r2_penalty(D, fake, reg.r2)
        return terms

    def g_terms(self, G: nn.Module, D: nn.Module, z: torch.Tensor, real: torch.Tensor,
                fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """Terms of G's loss: reg_ortho (needs G's input rows z), reg_fm (only those switched on)."""
        reg, terms = self.cfg, {}
        oj = reg.ortho_jacobian
        if oj.weight > 0:
            terms["reg_ortho"] = ortho_jacobian_penalty(G, z, oj.n_dirs, oj.method, oj.eps, oj.weight,
                                                        n_latent=self.z_dim)
        if reg.feature_matching > 0:
            terms["reg_fm"] = feature_matching_loss(D, real, fake, reg.feature_matching)
        return terms


__all__ = ["Regularizers", "apply_to_nets", "check_config", "switched_on"]
