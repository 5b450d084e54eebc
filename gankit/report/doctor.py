"""``gankit doctor RUN``: what went wrong in a run, each finding citing the numbers it rests on.

The rules read only what was measured: the logged stats (metrics.jsonl), the quality figure
(quality.json), ``gankit eval``'s results (eval.json), a divergence the trainer recorded
(diverged.json), and the doctor's own measurements (doctor.json, made by :func:`measure` from the
run's checkpoints and cached there): the FID at each kept checkpoint, the digit classifier's class
histogram of G's samples, and whether the newest checkpoint's weights are finite.

Rules (each a pure function of a :class:`~gankit.report.record.RunRecord`):

- ``d_wins``: D's accuracy (mean of real and fake) >= 97 % over a stretch of at least a quarter of the
  logged steps. D wins; with the minimax loss log(1 - D(G(z))) saturates and G's gradients vanish.
- ``non_finite``: a logged loss that is nan or inf, a recorded divergence, non-finite generated samples
  in the quality figure, or non-finite weights in the newest checkpoint.
- ``collapse``: low diversity: fewer than 75 % of a toy mixture's modes (or half of Stacked MNIST's
  real-data modes), fewer than 70 % of the classes holding a quarter of their fair share by the digit
  classifier, or a k-NN entropy at least log 4 nats below the real data's (G spreads over a quarter of
  the data's volume or less).
- ``memorization``: near copies of training images at least 3x as common as among real test images
  (and at least 3 %).
- ``fid_falling``: the FID fell at each of the last kept checkpoints, by at least 5 % at the last one:
  the run stopped while still improving.

Example::

    for f in gankit.doctor("runs/00003-mnist5k-dcgan-nonsaturating"):
        print(f.line())
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from gankit.report.record import RunRecord, as_float, read_run

ACC_PINNED = 0.97  # D's mean accuracy at or above this: D separates real from fake almost perfectly
PINNED_SHARE = 0.25  # ... over at least this share of the logged steps
PINNED_MIN_LOGS = 3
MODES_SHARE = 0.75
STACKED_SHARE = 0.5
CLASS_FAIR_SHARE = 0.25  # a class "is there" when it holds >= a quarter of 1/K of the samples
CLASSES_SHARE = 0.7
ENTROPY_DROP = math.log(4.0)
COPY_FACTOR, COPY_MIN = 3.0, 0.03
FID_DROP = 0.05
CLASS_SAMPLES = 1000  # samples the doctor classifies


@dataclass
class Finding:
    """One diagnosis: the rule that fired, what it means, the measured numbers, and what to try."""

    rule: str
    title: str
    evidence: str
    suggestion: str
    values: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"[{self.rule}] {self.title}: {self.evidence}. Try: {self.suggestion}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cfg(record: RunRecord, dotted: str, default: Any = None) -> Any:
    node: Any = record.config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _results(record: RunRecord) -> dict[str, dict[str, Any]]:
    """Metric values by name from eval.json, with the quality figure's where eval.json has none."""
    out: dict[str, dict[str, Any]] = {}
    if record.quality and record.quality.get("kind") == "modes":
        out["modes"] = record.quality.get("values", {})
    if record.quality and record.quality.get("kind") == "stacked_modes":
        out["stacked_modes"] = record.quality.get("values", {})
    for name, result in ((record.eval or {}).get("results") or {}).items():
        out[name] = result.get("values", {})
    return out


# ---- the rules ------------------------------------------------------------------------------------------


def rule_d_wins(record: RunRecord) -> Finding | None:
    steps, real = record.series("d_acc_real")
    _, fake = record.series("d_acc_fake")
    if len(steps) < PINNED_MIN_LOGS or len(fake) != len(steps):
        return None
    acc = [(r + f) / 2 for r, f in zip(real, fake)]
    stretches, start = [], None  # runs of consecutive pinned logs, as (first, last) indices
    for i, a in enumerate(acc):
        if a >= ACC_PINNED and start is None:
            start = i
        elif a < ACC_PINNED and start is not None:
            stretches.append((start, i - 1))
            start = None
    if start is not None:
        stretches.append((start, len(acc) - 1))
    if not stretches:
        return None
    first, last = max(stretches, key=lambda r: steps[r[1]] - steps[r[0]])
    n_logs = last - first + 1
    if n_logs < PINNED_MIN_LOGS:
        return None
    span = steps[last] - (steps[first - 1] if first > 0 else 0)
    share = span / max(steps[-1], 1)
    if share < PINNED_SHARE:
        return None
    mean_real = sum(real[first:last + 1]) / n_logs
    mean_fake = sum(fake[first:last + 1]) / n_logs
    objective = _cfg(record, "objective.name", "")
    if objective == "minimax":
        hint = ("switch to objective.name=nonsaturating (with minimax, G's gradient log(1 - D(G(z))) vanishes "
                "when D wins), or lower train.lr_d / add reg.r1 or reg.label_smoothing=0.1")
    else:
        hint = ("lower train.lr_d (or raise train.lr_g), keep train.d_steps=1, or add reg.r1, "
                "reg.label_smoothing=0.1 or reg.spectral_norm=true")
    return Finding(
        "d_wins", "D wins: its accuracy is pinned near 100 %",
        f"D's accuracy >= {100 * ACC_PINNED:.0f} % from step {steps[first]} to {steps[last]} ({n_logs} logs, "
        f"{100 * share:.0f} % of the run): real {100 * mean_real:.1f} %, fake {100 * mean_fake:.1f} % on average",
        hint, {"first_step": steps[first], "last_step": steps[last], "share": share,
               "acc_real": mean_real, "acc_fake": mean_fake})


def rule_non_finite(record: RunRecord) -> Finding | None:
    seen: list[str] = []
    values: dict[str, Any] = {}
    for m in record.metrics:
        bad = [k for k, v in m.items() if k not in ("step",) and isinstance(v, (int, float, str))
               and not isinstance(v, bool) and not math.isfinite(as_float(v))]
        if bad:
            seen.append(f"{', '.join(bad)} = {', '.join(str(m[k]) for k in bad)} at step {m['step']}")
            values["first_logged_step"] = m["step"]
            break
    if record.diverged:
        seen.append(f"the run stopped at step {record.diverged.get('step')}: {record.diverged.get('message', '')}")
        values["diverged_step"] = record.diverged.get("step")
    k = as_float(((record.quality or {}).get("values") or {}).get("non_finite_generated", 0))
    if k > 0:
        seen.append(f"{int(k)} generated samples of the quality figure were not finite")
        values["non_finite_generated"] = int(k)
    weights = (record.measurements or {}).get("weights") or {}
    if weights.get("non_finite", 0) > 0:
        seen.append(f"{weights['non_finite']} of {weights['total']} weights in {weights['checkpoint']} are nan or inf")
        values["non_finite_weights"] = weights["non_finite"]
    if not seen:
        return None
    return Finding("non_finite", "losses or weights are not finite", "; ".join(seen),
                   "lower train.lr_g / train.lr_d, add a regulariser (reg.r1, reg.gp), or try train.precision=fp32; "
                   "resume from the last good checkpoint or start again", values)


def rule_collapse(record: RunRecord) -> Finding | None:
    results = _results(record)
    seen: list[str] = []
    values: dict[str, Any] = {}
    modes = results.get("modes")
    if modes and "modes_covered" in modes and "n_modes" in modes:
        covered, k = int(modes["modes_covered"]), int(modes["n_modes"])
        if covered < MODES_SHARE * k:
            true = modes.get("true_modes_covered")
            seen.append(f"{covered} of {k} modes covered" + (f" (real data: {true}/{k})" if true is not None else ""))
            values["modes_covered"], values["n_modes"] = covered, k
    stacked = results.get("stacked_modes")
    if stacked and "modes_covered" in stacked:
        covered, real = int(stacked["modes_covered"]), int(stacked.get("real_modes_covered", stacked["n_modes"]))
        if covered < STACKED_SHARE * real:
            seen.append(f"Stacked MNIST: {covered} of {stacked['n_modes']} modes (real data {real})")
            values["stacked_modes_covered"] = covered
    entropy = results.get("entropy")
    if entropy and "entropy" in entropy and "entropy_real" in entropy:
        gen, real = as_float(entropy["entropy"]), as_float(entropy["entropy_real"])
        if math.isfinite(gen) and math.isfinite(real) and real - gen >= ENTROPY_DROP:
            seen.append(f"k-NN entropy {gen:.2f} nats vs {real:.2f} for real data ({real - gen:.2f} below, "
                        f">= log 4 = {ENTROPY_DROP:.2f})")
            values["entropy"], values["entropy_real"] = gen, real
    classes = (record.measurements or {}).get("classes")
    if classes and classes.get("counts"):
        counts = [int(c) for c in classes["counts"]]
        n, k = sum(counts), len(counts)
        present = sum(c >= CLASS_FAIR_SHARE * n / k for c in counts)
        if present < CLASSES_SHARE * k:
            top = max(range(k), key=lambda i: counts[i])
            seen.append(f"the digit classifier ({classes.get('classifier', '?')}) finds {present} of {k} classes with "
                        f">= {100 * CLASS_FAIR_SHARE / k:.1f} % of {n} samples; class {top} takes "
                        f"{100 * counts[top] / n:.0f} %")
            values["classes_present"], values["classes"] = present, k
    if not seen:
        return None
    return Finding("collapse", "G's samples collapsed (low diversity)", "; ".join(seen),
                   "use a loss less prone to collapse (objective.name=wgan-gp or hinge), add reg.pack=2 (PacGAN) or "
                   "reg.minibatch_discrimination, lower train.lr_g, or keep train.ema on", values)


def rule_memorization(record: RunRecord) -> Finding | None:
    mem = _results(record).get("memorization")
    if not mem or "near_copy_share" not in mem:
        return None
    share, test = as_float(mem["near_copy_share"]), as_float(mem.get("test_near_copy_share", 0.0))
    if not (share >= COPY_MIN and share >= COPY_FACTOR * max(test, 0.01)):
        return None
    return Finding("memorization", "near copies of training images",
                   f"{100 * share:.1f} % of generated images are closer to a training image than 99 % of real "
                   f"test images are (real test images: {100 * test:.1f} %); median distance ratio gen/test "
                   f"{as_float(mem.get('ratio')):.3f}",
                   "stop earlier (an earlier checkpoint), train on more data, or add augmentation / reg.r1; look at "
                   "eval/memorization_pairs.png", {"near_copy_share": share, "test_near_copy_share": test})


def rule_fid_falling(record: RunRecord) -> Finding | None:
    trend = ((record.measurements or {}).get("fid_trend") or {}).get("points") or []
    points = [p for p in trend if math.isfinite(as_float(p.get("fid")))]
    if len(points) < 2:
        return None
    fids = [as_float(p["fid"]) for p in points]
    falling = all(b < a for a, b in zip(fids, fids[1:]))
    last_drop = (fids[-2] - fids[-1]) / fids[-2] if fids[-2] > 0 else 0.0
    if not falling or last_drop < FID_DROP:
        return None
    steps = [int(p["step"]) for p in points]
    rr = as_float(points[-1].get("fid_real_vs_real"))
    more = max(int(steps[-1] * 1.5), record.target_steps)
    if record.step < record.target_steps:  # stopped early: finishing it is the first step
        resume = (f"gankit train --resume {record.path} (it stopped at step {record.step} of {record.target_steps}), "
                  f"then longer still if the FID keeps falling")
    elif _cfg(record, "train.lr_decay", "none") == "none":
        resume = f"gankit train --resume {record.path} --set train.steps={more}"
    else:
        resume = f"a new run with train.steps={more} (train.steps cannot change on --resume under train.lr_decay)"
    return Finding("fid_falling", "FID still falling at the last checkpoints",
                   f"FID {' -> '.join(f'{f:.2f}' for f in fids)} at steps {', '.join(map(str, steps))} "
                   f"(last drop {100 * last_drop:.0f} %; real-vs-real {rr:.2f})",
                   f"train longer: {resume}", {"steps": steps, "fid": fids, "last_drop": last_drop})


RULES: dict[str, Callable[[RunRecord], Finding | None]] = {
    "d_wins": rule_d_wins, "non_finite": rule_non_finite, "collapse": rule_collapse,
    "memorization": rule_memorization, "fid_falling": rule_fid_falling,
}


def diagnose(record: RunRecord) -> list[Finding]:
    """Every rule's finding on ``record``, in the order of :data:`RULES` (empty: nothing found)."""
    return [f for rule in RULES.values() if (f := rule(record)) is not None]


# ---- the doctor's own measurements (doctor.json) ----------------------------------------------------------


def measure(record: RunRecord, device: str = "cpu", log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure what the rules need beyond the run's own files and cache it in RUN/doctor.json: the FID at
    every kept checkpoint (images with a shipped extractor), the class histogram of the newest G's samples
    by the digit classifier (digit datasets), and the newest checkpoint's count of non-finite weights.
    Entries already measured for the same checkpoints are kept."""
    import torch

    from gankit.api import load_run
    from gankit.data import build_dataset
    from gankit.engine.checkpoint import load_checkpoint
    from gankit.errors import GankitError
    from gankit.progress import track

    cached = dict(record.measurements or {})
    names = [c.name for c in record.checkpoints]
    if not names:
        return cached
    if cached.get("checkpoints") == names:
        return cached
    out: dict[str, Any] = {"checkpoints": names}
    cfg, model, ckpt = load_run(record.path, device)
    G = model.nets["G"] if "G" in model.nets else None
    weights = [t for k, t in ckpt.tensors.items() if not k.startswith(("opt_", "rng"))]
    bad = sum(int((~torch.isfinite(t)).sum()) for t in weights if t.is_floating_point())
    out["weights"] = {"checkpoint": ckpt.path.name, "non_finite": bad,
                      "total": sum(t.numel() for t in weights if t.is_floating_point())}
    if G is None or bad or not model.generative:
        return _save(record, out)
    dataset = build_dataset(cfg.data)
    which = "G_ema" if ckpt.prefixed("G_ema") else "G"
    if dataset.info.kind == "image" and getattr(model.source, "latent", True):
        from gankit.metrics.extractor import extractor_for
        from gankit.metrics.quality import evaluate_generator

        try:
            points = []
            for info in track(record.checkpoints, "doctor: FID per checkpoint", unit="ckpt"):
                c = ckpt if info.name == ckpt.path.name else load_checkpoint(record.path / "checkpoints" / info.name)
                G.load_state_dict(c.prefixed(which))
                q = evaluate_generator(G.eval(), model.prior, dataset, split=cfg.eval.split, n=cfg.eval.n,
                                       seed=cfg.seed, device=device)
                if q.kind != "fid_kid":
                    break
                points.append({"step": int(c.meta["step"]), "fid": q.values["fid"],
                               "fid_real_vs_real": q.values["fid_real_vs_real"]})
                if log is not None:
                    log(f"doctor: step {points[-1]['step']}: FID {q.values['fid']:.2f}")
            if points:
                out["fid_trend"] = {"generator": which, "split": cfg.eval.split, "n": cfg.eval.n, "seed": cfg.seed,
                                    "points": points}
        except GankitError as e:
            out["fid_trend"] = {"skipped": str(e)}
        G.load_state_dict(ckpt.prefixed(which))
        extractor = extractor_for(dataset.info, device)
        classes = dataset.info.num_classes or 0
        if extractor is not None and classes >= 2:
            with torch.no_grad():
                x = model.sample(CLASS_SAMPLES, cfg.seed, device, G=G.eval())
                labels = extractor.classify(x.float())
            counts = torch.bincount(labels.cpu(), minlength=classes)[:classes]
            out["classes"] = {"counts": [int(c) for c in counts], "classifier": extractor.name, "n": CLASS_SAMPLES,
                              "generator": which, "seed": cfg.seed, "step": int(ckpt.meta["step"])}
    return _save(record, out)


def _save(record: RunRecord, out: dict[str, Any]) -> dict[str, Any]:
    path = record.path / "doctor.json"
    tmp = path.with_name(f"doctor.json.tmp{os.getpid()}")
    tmp.write_text(json.dumps(out, indent=1, default=str) + "\n")
    os.replace(tmp, path)
    record.measurements = out
    return out


def doctor(run_dir: str | Path, measure_checkpoints: bool = True, device: str = "cpu") -> list[Finding]:
    """The findings on a run folder (the twin of ``gankit doctor``); ``measure_checkpoints=False`` skips
    the measurements made from checkpoints (FID per checkpoint, classes) and uses only doctor.json's."""
    record = read_run(run_dir)
    if measure_checkpoints and record.checkpoints:
        measure(record, device)
    return diagnose(record)


def print_findings(findings: list[Finding], record_name: str) -> list[str]:
    if not findings:
        return [f"{record_name}: no problem found by the rules ({', '.join(RULES)})"]
    return [f"{record_name}: {len(findings)} finding{'s' if len(findings) != 1 else ''}"] + [
        f"- {f.title}\n  measured: {f.evidence}\n  try: {f.suggestion}" for f in findings]


__all__ = ["RULES", "Finding", "diagnose", "doctor", "measure", "print_findings"]
