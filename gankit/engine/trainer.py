"""The training loop. Read it top to bottom: set-up, (resume), loop, finish.

Each generator step is preceded by ``train.d_steps`` discriminator steps (the k of Goodfellow et al.
2014, Algorithm 1), each on a fresh real batch from a resumable sampler. What a step computes belongs
to the model (``gankit.models``); the loop only runs backward and the optimisers, keeps the EMA of G,
logs, draws sample grids and writes checkpoints.

A first Ctrl-C (SIGINT) or a SIGTERM (a scheduler pre-empting the job) finishes the current step,
writes a checkpoint and stops cleanly; a second Ctrl-C stops at once. ``gankit train --resume RUN_DIR``
then continues exactly where it stopped. A loss or weight that turns nan or inf stops the run before
anything of it is saved (:mod:`gankit.engine.faults`).

Under ``torchrun`` every process runs this same loop on its share of each global batch, the gradients
are averaged over the processes after each backward, and rank 0 alone writes the run folder
(:mod:`gankit.engine.distributed`). ``train.precision`` wraps the steps in autocast
(:mod:`gankit.engine.precision`), ``train.compile`` the networks in ``torch.compile``.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from gankit.config import Config, parse_override
from gankit.data import BatchStream, Dataset, build_dataset, make_batch_stream
from gankit.drs import DRSRejectedError, check_drs_config, sampler_for
from gankit.engine import distributed
from gankit.engine.checkpoint import (
    Checkpoint,
    checkpoint_name,
    list_checkpoints,
    load_latest,
    newest_good_checkpoint,
    optimizer_from_flat,
    optimizer_to_flat,
    prune_checkpoints,
    save_checkpoint,
)
from gankit.engine.compile import CompiledOrEager
from gankit.engine.distributed import Dist
from gankit.engine.ema import EMA
from gankit.engine.faults import NonFiniteWatch, TrainingDiverged
from gankit.engine.precision import Precision
from gankit.engine.preflight import preflight
from gankit.engine.rundir import RunDir
from gankit.engine.schedule import lr_factor, make_optimizer, set_lr
from gankit.engine.seed import rng_state, seed_everything, set_rng_state
from gankit.errors import CheckpointError, ConfigError, GankitError
from gankit.models import Model, build_model
from gankit.plugins import load_config
from gankit.version import __version__
from gankit.viz import save_samples

# Keys a resumed run may change: they alter what is logged and saved, and for how long it runs,
# never what a step computes, so the resumed run stays bitwise identical to an uninterrupted one.
RESUMABLE_KEYS = {"train.steps", "train.checkpoint_every", "train.keep_checkpoints", "train.sample_every",
                  "train.log_every", "train.tensorboard", "train.device", "train.report"}
RESUMABLE_SECTIONS = {"eval"}  # every key under these: what is scored after training, never a step
FIXED_Z_SEED = 12345  # the sample grids use the same z in every run and after every resume


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    model: Model
    G_ema: nn.Module | None
    quality: Any = None  # gankit.metrics.quality.QualityReport, or None
    interrupted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    quality_drs: Any = None  # the quality figure of the samples DRS keeps (eval.drs.enabled), or None


def train(
    config: Config | dict | None = None,
    run_dir: str | Path | None = None,
    resume: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    runs_root: str | Path = "runs",
    on_step: Callable[[int], bool] | None = None,
    progress: bool | None = None,
) -> TrainResult:
    """Train a GAN; the Python twin of ``gankit train``.

    ``config`` is a Config (or a dict of its keys; None means the defaults). ``run_dir`` writes into that
    exact folder, otherwise a new numbered folder is made under ``runs_root``. ``resume`` continues the
    run in that folder from its newest readable checkpoint (``overrides`` may then change only the
    schedule keys in ``RESUMABLE_KEYS``, e.g. ``train.steps`` to train longer). ``on_step(step)``, called
    after each generator step, may return True to stop as a Ctrl-C would (checkpoint, then return).

    Example::

        import gankit
        result = gankit.train(gankit.load_config(preset="ring8"))
        print(result.quality.lines())
    """
    # ---- config, processes and run folder ------------------------------------------------------------
    ckpt: Checkpoint | None = None
    run: RunDir | None = None
    if resume is not None:
        run = RunDir.open(resume)
        ckpt, cfg = resume_point(run, overrides)
    else:
        cfg = load_config(base=config.to_dict() if isinstance(config, Config) else dict(config or {}),
                          overrides=list(overrides))
    dist, own_group = distributed.init(cfg.train.device)  # torchrun: one process per rank; else Dist()

    # ---- set-up: data decides the shapes, the model owns the nets ------------------------------------
    device = distributed.device_for(dist, cfg.train.device)
    seed_everything(cfg.seed, cfg.deterministic)
    dataset = build_dataset(cfg.data)
    preflight(cfg, dataset)  # eval.n against the splits, memory against the machine: before anything is built
    stream = make_batch_stream(dataset.train, cfg.train.batch_size, cfg.seed, device, dist.rank, dist.world,
                               name=cfg.data.name, workers=cfg.data.workers)  # this process's share of every global batch
    model = build_model(cfg, dataset.info, device)
    model.shard = (dist.rank, dist.world)
    if cfg.train.compile:
        model.wrap_nets(CompiledOrEager)
    if cfg.eval.drs.enabled:
        check_drs_config(cfg)  # before the run folder exists: a config that cannot be scored trains nothing
    if run is None:  # only now, so that a config that cannot train leaves no empty run folder behind
        path = RunDir.create(runs_root, _run_name(cfg), run_dir).path if dist.is_main else None
        run = RunDir(dist.broadcast_object(path))
    cleanup = contextlib.ExitStack()
    if dist.is_main:
        run.lock()  # one writer per run folder
        cleanup.callback(run.unlock)
        if ckpt is None and (resume is not None or run.reused):  # a run that died before its first checkpoint
            run.truncate_metrics(after_step=0)
        try:
            run.write_json("config.json", cfg.to_dict())
        except OSError as e:
            raise RunWriteError(_write_failure(run, e)) from None
    if own_group:
        cleanup.callback(distributed.shutdown)
    with cleanup:
        g_params, d_params = model.g_parameters(), model.d_parameters()
        opt_g = make_optimizer(cfg.train, g_params, cfg.train.lr_g)
        opt_d = make_optimizer(cfg.train, d_params, cfg.train.lr_d) if model.adversarial else None
        ema = (EMA(model.nets["G"], cfg.train.ema.half_life_images, cfg.train.ema.rampup)
               if cfg.train.ema.enabled and model.generative else None)
        amp = Precision(cfg.train.precision, device)
        step, images_seen = 0, 0
        if ckpt is not None:
            step, images_seen = _restore(ckpt, cfg, model, ema, opt_g, opt_d, stream, amp)
            if dist.is_main:
                run.truncate_metrics(after_step=step)
                print(f"resumed {run.path} at step {step} from {ckpt.path.name}", flush=True)
        n_fixed = 2500 if dataset.info.kind == "vector" else cfg.train.grid_size  # plots want many points
        writer = _tensorboard(run, cfg) if dist.is_main else None
        if writer is not None:
            cleanup.callback(writer.close)
        bar = _progress(cfg.train.steps, step, progress if dist.is_main else False)
        cleanup.callback(bar.close)
        stop = _StopFlag()
        watch = NonFiniteWatch(device)

        # ---- the loop --------------------------------------------------------------------------------
        sums: dict[str, torch.Tensor] = {}  # per-step stats summed since the last log
        last_log = step
        t0 = time.perf_counter()
        interrupted = False
        with stop.catch_signals(), _disk_errors(run), \
                _record_divergence(run if dist.is_main else None, lambda: step):
            while step < cfg.train.steps:
                if cfg.train.lr_decay != "none":
                    _set_lr(cfg, opt_g, opt_d, step)
                for _ in range(cfg.train.d_steps if model.adversarial else 0):
                    batch = stream.next()
                    with amp.autocast():
                        d = model.d_step(batch)
                    # A skipped D step (StepResult.skip): only when every process skips, so replicas stay equal.
                    if not (model.skips_d_steps and not dist.any(not d.skip, device)):
                        _update(opt_d, d_params, d.loss, "d", amp, dist)
                        model.after_d_step()
                    watch.add("d_loss", d.loss, step + 1)
                    _accumulate(sums, d.stats, 1.0 / cfg.train.d_steps)

                if not model.adversarial:
                    batch = stream.next()
                frozen = _freeze(model) if model.adversarial else []  # G's step: no gradients for D's weights
                with amp.autocast():
                    g = model.g_step(batch)
                _update(opt_g, g_params, g.loss, "g", amp, dist)
                _unfreeze(frozen)
                watch.add("g_loss", g.loss, step + 1)
                _accumulate(sums, g.stats, 1.0)

                step += 1
                images_seen += cfg.train.batch_size
                dist.broadcast_buffers(model.nets.values())  # BatchNorm statistics: rank 0's everywhere
                if ema is not None:
                    ema.update(model.nets["G"], cfg.train.batch_size, images_seen)

                if on_step is not None and on_step(step):
                    stop.set()
                # Read the flag once per step: a signal may set it at any moment, and every process must
                # agree on this step's decision (the rest of the step runs collectives).
                stopping = dist.any(stop.is_set(), device)
                if step % cfg.train.log_every == 0 or step == cfg.train.steps:
                    watch.check(dist, run)
                    _log(run if dist.is_main else None, writer, bar, _mean_over(dist, sums), step - last_log, step,
                         images_seen, time.perf_counter() - t0, (step - last_log) * cfg.train.batch_size)
                    sums, last_log = {}, step
                bar.update(1)
                if dist.is_main and model.generative and (_due(step, cfg.train.sample_every, cfg.train.steps)
                                                          or stopping):
                    _save_grid(run, dataset, model, ema.G_ema if ema else model.nets["G"], n_fixed, device, step,
                               cfg.objective.name)
                if _due(step, cfg.train.checkpoint_every, cfg.train.steps) or stopping:
                    watch.check(dist, run, model)  # never a checkpoint of non-finite weights
                    if dist.is_main:
                        _checkpoint(run, cfg, model, ema, opt_g, opt_d, stream, amp, step, images_seen)
                    dist.barrier()
                if stopping:
                    interrupted = step < cfg.train.steps
                    break

        # ---- finish: the quality figure (rank 0) ----------------------------------------------------------
        G_final = ema.G_ema if ema is not None else model.nets["G"] if model.generative else None
        quality = quality_drs = None
        if interrupted:
            if dist.is_main:
                print(f"stopped at step {step}; continue with: gankit train --resume {run.path}", flush=True)
        elif cfg.eval.at_end and dist.is_main:
            if model.generative:
                quality = _quality(cfg, dataset, G_final, model.prior, device, "G_ema" if ema else "G")
                run.write_json("quality.json", quality.to_dict())
                for line in quality.lines():
                    print(line, flush=True)
                if cfg.eval.drs.enabled:
                    quality_drs = _quality_drs(cfg, dataset, G_final, model, stream.split, device, "G_ema" if ema else "G")
                    run.write_json("quality_drs.json", quality_drs.to_dict())
                    for line in quality_drs.lines():
                        print(f"with DRS: {line}", flush=True)
            figures = model.final_figures(dataset, cfg.eval.split)
            if figures:
                run.write_json("model_figures.json", figures)
                for line in figures["lines"]:
                    print(line, flush=True)
        if cfg.train.report and dist.is_main and not interrupted:
            _write_report(run)
    return TrainResult(run.path, step, model, ema.G_ema if ema else None, quality, interrupted,
                       run.read_metrics() if dist.is_main else [], quality_drs)


# ------------------------------------------------------------------------------------------------
# Helpers of the loop, in the order the loop uses them.


def check_config(cfg: Config, run_dir: str | Path | None = None, runs_root: str | Path | None = None) -> None:
    """Everything :func:`train` checks at start-up, without training or writing anything: the device, the
    dataset (loaded, so its sizes are known), eval.n against its splits, memory against the machine,
    the batch size, the model (built), DRS, and the target folder. ``gankit train --dry-run`` runs it."""
    from gankit.data.sampler import check_batch
    from gankit.devices import resolve_device

    device = resolve_device(cfg.train.device, "train.device")
    dataset = build_dataset(cfg.data)
    preflight(cfg, dataset)
    check_batch(dataset.train, cfg.train.batch_size, 1, cfg.data.name)
    build_model(cfg, dataset.info, device)
    if cfg.eval.drs.enabled:
        check_drs_config(cfg)
    if run_dir is not None:
        RunDir.check_new(run_dir)


class RunWriteError(GankitError):
    """A file of the run could not be written (a full disk, a removed folder); names the newest good checkpoint."""


def _write_failure(run: RunDir, e: OSError) -> str:
    what = e.strerror or type(e).__name__
    where = f" {e.filename}" if e.filename else ""
    return f"{run.path}: cannot write{where} ({what}); the run stopped. {newest_good_checkpoint(run.checkpoints, run.path)}"


@contextlib.contextmanager
def _disk_errors(run: RunDir):
    """An OSError while the loop writes (checkpoint, metrics, grids, TensorBoard) ends the run with one line
    naming the newest good checkpoint; the atomic checkpoint writes leave the previous one intact."""
    try:
        yield
    except OSError as e:
        raise RunWriteError(_write_failure(run, e)) from None


def resume_point(run: RunDir, overrides) -> tuple[Checkpoint | None, Config]:
    """(newest usable checkpoint, config) to continue ``run`` from. A run stopped before its first checkpoint
    (config.json, no checkpoint) starts again from step 0 with its saved config, and says so."""
    if list_checkpoints(run.checkpoints):
        ckpt = load_latest(run.checkpoints)
        return ckpt, resumed_config(ckpt, overrides)
    saved = run.read_config()
    _check_resumable(overrides, saved)
    cfg = load_config(base=saved, overrides=list(overrides))
    print(f"note: {run.path} holds no checkpoint (the run stopped before its first one); starting it again from "
          "step 0 with its saved config.json", flush=True)
    return None, cfg


def resumed_config(ckpt: Checkpoint, overrides) -> Config:
    _check_resumable(overrides, ckpt.meta["config"])
    return load_config(base=ckpt.meta["config"], overrides=list(overrides))


def _check_resumable(overrides, config: dict[str, Any]) -> None:
    train = config.get("train") if isinstance(config, dict) else None
    decay = train.get("lr_decay", "none") if isinstance(train, dict) else "none"
    for text in overrides:
        path = parse_override(text)[0]
        key = ".".join(path)
        if key not in RESUMABLE_KEYS and path[0] not in RESUMABLE_SECTIONS:
            allowed = sorted(RESUMABLE_KEYS) + [f"{section}.*" for section in sorted(RESUMABLE_SECTIONS)]
            raise ConfigError(f"--set {key}: cannot change on --resume (it would change what the run computes); "
                              f"allowed: {', '.join(allowed)}")
        if key == "train.steps" and decay != "none":
            raise ConfigError(f"--set train.steps: cannot change on --resume while train.lr_decay={decay} (the decay "
                              "is spread over the run's train.steps); start a new run with the longer train.steps")


def _run_name(cfg: Config) -> str:
    """e.g. ``mnist5k-dcgan-nonsaturating``; a model other than the plain GAN leads: ``mnist5k-acgan-dcgan-...``."""
    model = "" if cfg.model.name == "gan" else f"{cfg.model.name}-"
    return f"{cfg.data.name}-{model}{cfg.net.name}-{cfg.objective.name}"


def _update(opt: torch.optim.Optimizer, params: list[nn.Parameter], loss: torch.Tensor, side: str,
            amp: Precision, dist: Dist) -> None:
    """One optimiser step of one player: backward (loss-scaled under fp16), the gradients averaged over
    the processes (data-parallel), then the step (unscaled, skipped on overflow under fp16)."""
    opt.zero_grad(set_to_none=True)
    amp.backward(loss, side)
    dist.average_gradients(params)
    amp.step(opt, side)


def _freeze(model: Model) -> list[nn.Parameter]:
    """Switch off gradients of D's parameters that G's step does not update; returns those switched.

    A parameter that both optimisers update (e.g. InfoGAN's Q head) keeps its gradient."""
    shared = {id(p) for p in model.g_parameters()}
    frozen = [p for p in model.d_parameters() if p.requires_grad and id(p) not in shared]
    for p in frozen:
        p.requires_grad_(False)
    return frozen


def _unfreeze(params: list[nn.Parameter]) -> None:
    for p in params:
        p.requires_grad_(True)


def _restore(ckpt: Checkpoint, cfg: Config, model: Model, ema: EMA | None, opt_g, opt_d, stream: BatchStream,
             amp: Precision) -> tuple[int, int]:
    meta = ckpt.meta
    if meta.get("lr_decay", NO_DECAY) != _lr_schedule(cfg):
        raise CheckpointError(f"{ckpt.path}: its learning-rate schedule {meta.get('lr_decay')} differs from the "
                              f"config's {_lr_schedule(cfg)}")
    try:
        for name, net in model.nets.items():
            net.load_state_dict(ckpt.prefixed(name))
        if ema is not None:
            ema.G_ema.load_state_dict(ckpt.prefixed("G_ema"))
        optimizer_from_flat(opt_g, ckpt.prefixed("opt_g"), meta["opt_g"])
        if opt_d is not None:
            optimizer_from_flat(opt_d, ckpt.prefixed("opt_d"), meta["opt_d"])
        stream.load_state_dict(meta["sampler"])
        amp.load_state_dict(meta.get("precision", {}))
        set_rng_state(ckpt.tensors, meta["rng"])
        return int(meta["step"]), int(meta["images_seen"])
    except (KeyError, RuntimeError, ValueError, TypeError, IndexError, AttributeError) as e:
        raise CheckpointError(f"{ckpt.path}: does not match this model ({str(e).splitlines()[0][:160]})") from None


NO_DECAY = {"kind": "none", "total_steps": None}  # the schedule of checkpoints written before train.lr_decay


def _set_lr(cfg: Config, opt_g, opt_d, done: int) -> None:
    """The learning rates of the next step (its D steps and its G step) under ``train.lr_decay``."""
    factor = lr_factor(cfg.train.lr_decay, done, cfg.train.steps)
    set_lr(opt_g, cfg.train.lr_g, factor)
    set_lr(opt_d, cfg.train.lr_d, factor)


def _lr_schedule(cfg: Config) -> dict[str, Any]:
    """What a checkpoint stores of the schedule: its kind and horizon (the lr itself is in the optimisers)."""
    if cfg.train.lr_decay == "none":
        return dict(NO_DECAY)
    return {"kind": cfg.train.lr_decay, "total_steps": cfg.train.steps}


def _tensorboard(run: RunDir, cfg: Config):
    if not cfg.train.tensorboard:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        print("note: tensorboard is not installed; set train.tensorboard=false to silence this", flush=True)
        return None
    return SummaryWriter(str(run.path / "tensorboard"))


def _progress(total: int, initial: int, show: bool | None):
    """The training bar on stderr: step / total, steps/s and the ETA (tqdm's), and at each log step images/s,
    D's accuracy on real and fake and the losses (its postfix); off when stderr is no TTY or under
    ``gankit --quiet`` (:mod:`gankit.progress`)."""
    from gankit.progress import progress_bar

    return progress_bar(total, "train", unit="step", show=show, initial=initial, leave=True)


@contextlib.contextmanager
def _record_divergence(run: RunDir | None, step: Callable[[], int]):
    """A run that diverges leaves RUN/diverged.json (its step and message) for ``gankit doctor``."""
    try:
        yield
    except TrainingDiverged as e:
        if run is not None:
            run.write_json("diverged.json", {"step": step(), "message": str(e)})
        raise


def _write_report(run: RunDir) -> None:
    """RUN/report.html at the end of a run (``train.report``); a report that fails never fails the run."""
    from gankit.report.run import write_report

    try:
        path = write_report(run.path, measure=False)
    except Exception as e:  # noqa: BLE001 - the run is complete and saved; the page can be made later
        print(f"note: no report written ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
              f"make it with: gankit report {run.path}", flush=True)
        return
    print(f"report: {path}", flush=True)


class _StopFlag:
    """Set by the first Ctrl-C or SIGTERM (what Slurm and other schedulers send before pre-empting a job),
    or by on_step; the loop checkpoints and stops at the end of the step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @contextlib.contextmanager
    def catch_signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if signum == signal.SIGTERM:  # a scheduler (and torchrun, forwarding it) may send it twice: never abort
                if not self.is_set():
                    print("\nSIGTERM: finishing this step and writing a checkpoint", flush=True)
                self.set()
                return
            if self.is_set():
                raise KeyboardInterrupt
            print("\ninterrupt: finishing this step and writing a checkpoint (Ctrl-C again to abort)", flush=True)
            self.set()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)


def _accumulate(sums: dict[str, torch.Tensor], stats: dict[str, torch.Tensor], weight: float) -> None:
    # Tensors are summed on the device; nothing synchronises until a log step.
    for k, v in stats.items():
        sums[k] = sums[k] + v * weight if k in sums else v * weight


def _mean_over(dist: Dist, sums: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The stats summed since the last log, averaged over the processes (one all-reduce)."""
    if not dist.enabled or not sums:
        return sums
    names = sorted(sums)
    mean = dist.mean(torch.stack([sums[k].detach().float() for k in names]))
    return dict(zip(names, mean))


def _log(run: RunDir | None, writer, bar, sums, n_steps: int, step: int, images_seen: int, seconds: float,
         images: int = 0) -> None:
    """Write the mean of each stat over the last ``n_steps`` generator steps (``run`` None: not rank 0)."""
    if run is None:
        return
    stats = {k: float(v) / max(n_steps, 1) for k, v in sums.items()}
    previous, bar.last_log_time = getattr(bar, "last_log_time", 0.0), seconds
    run.append_metrics({"step": step, "images_seen": images_seen, "time_s": round(seconds, 3), **stats})
    if writer is not None:
        for k, v in stats.items():
            writer.add_scalar(k, v, step)
    if bar.disable:
        shown = "  ".join(f"{k} {v:.3f}" for k, v in stats.items())
        print(f"step {step}  {shown}  ({seconds:.0f}s)", flush=True)
    else:
        shown = {"img/s": f"{images / max(seconds - previous, 1e-9):.0f}"}
        if "d_acc_real" in stats and "d_acc_fake" in stats:
            shown["D acc real/fake"] = f"{stats['d_acc_real']:.2f}/{stats['d_acc_fake']:.2f}"
        shown.update({k: f"{v:.3f}" for k, v in stats.items() if not k.startswith("d_acc")})
        bar.set_postfix(shown, refresh=False)


def _due(step: int, every: int, last: int) -> bool:
    return step == last or (every > 0 and step % every == 0)


def _save_grid(run: RunDir, dataset: Dataset, model: Model, G: nn.Module, n: int, device, step: int,
               objective: str = "") -> None:
    """The family's grid (:meth:`Model.sample_grid`, e.g. input | output | target for pix2pix) from the
    same seeded inputs at every step and after every resume. On 2D data also the game itself at this
    step (``samples/step-N.npz``: G's samples and D's output over the plane; :mod:`gankit.report.toy`),
    saved now because the report cannot recompute it later: only the last few checkpoints are kept."""
    samples = model.sample_grid(n, FIXED_Z_SEED, device, G=G)
    save_samples(samples, run.samples / f"step-{step:07d}.png", dataset, title=f"step {step}")
    if samples.dim() == 2 and samples.shape[1] == 2:
        from gankit.report.toy import save_toy_frame

        save_toy_frame(run.samples / f"step-{step:07d}.npz", samples, model.nets["D"] if "D" in model.nets else None,
                       dataset, objective, step)


def _checkpoint(run: RunDir, cfg: Config, model: Model, ema: EMA | None, opt_g, opt_d, stream: BatchStream,
                amp: Precision, step: int, images_seen: int) -> None:
    tensors: dict[str, torch.Tensor] = {}
    for name, net in model.nets.items():
        tensors.update({f"{name}.{k}": v for k, v in net.state_dict().items()})
    if ema is not None:
        tensors.update({f"G_ema.{k}": v for k, v in ema.G_ema.state_dict().items()})
    og_t, og_meta = optimizer_to_flat(opt_g, "opt_g")
    od_t, od_meta = optimizer_to_flat(opt_d, "opt_d") if opt_d is not None else ({}, None)
    rng_t, rng_meta = rng_state()
    tensors.update(og_t | od_t | rng_t)
    meta = {
        "step": step,
        "images_seen": images_seen,
        "config": cfg.to_dict(),
        "opt_g": og_meta,
        "opt_d": od_meta,
        "sampler": stream.state_dict(),
        "precision": amp.state_dict(),
        "lr_decay": _lr_schedule(cfg),
        "rng": rng_meta,
        "nets": sorted(model.nets) + (["G_ema"] if ema is not None else []),
        "gankit_version": __version__,
        "torch_version": torch.__version__,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    save_checkpoint(run.checkpoints / checkpoint_name(step), tensors, meta)
    prune_checkpoints(run.checkpoints, cfg.train.keep_checkpoints)


def _quality(cfg: Config, dataset: Dataset, G: nn.Module, prior, device, which: str):
    from gankit.metrics.quality import evaluate_generator

    report = evaluate_generator(G, prior, dataset, split=cfg.eval.split, n=cfg.eval.n, seed=cfg.seed, device=device)
    report.fingerprint["generator"] = which
    return report


def _quality_drs(cfg: Config, dataset: Dataset, G: nn.Module, model: Model, train_x, device, which: str):
    """The quality figure of the samples that discriminator rejection sampling keeps (gankit.drs); kind
    "none", with the reason and what DRS drew, when D rejects nearly all of G's samples (a collapsed or
    diverged G): the run keeps its plain figure instead of ending in an error."""
    from gankit.metrics.result import QualityReport

    sampler = sampler_for(cfg, model, G, train_x)
    try:
        return _quality(cfg, dataset, sampler, model.prior, device, which)
    except DRSRejectedError as e:
        fp = {"dataset": dataset.info.name, "split": cfg.eval.split, "seed": cfg.seed, "generator": which,
              "sampler": sampler.fingerprint(), "reason": f"no samples to score: {e}"}
        return QualityReport("none", {}, fp)
