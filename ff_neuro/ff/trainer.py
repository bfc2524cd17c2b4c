"""The training loop shared by every model kind (rate, spiking) and method (ff, bp, random).

Per epoch: a seeded shuffle and negative draw (seed, epoch) — so ``resume`` replays exactly —,
optional linear cool-down of the learning rate, validation accuracy, one JSONL line in
``metrics.jsonl``, and an atomic checkpoint. The weights with the best validation accuracy (of the
linear head, or of goodness with ``train.select: goodness``) are kept in ``best.safetensors``; the test
split is evaluated once, at the end, on them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..checkpoint import load_checkpoint, save_checkpoint
from ..config import Config, dump_config, from_dict
from ..data import augment
from ..data.datasets import Dataset, Split
from ..errors import CheckpointError, TrainingDivergedError
from ..io import (
    RunLock,
    append_jsonl,
    atomic_write_bytes,
    atomic_write_json,
    read_jsonl,
    remove_stale_tmp,
    write_jsonl,
)
from ..runtime import hardware_description, keep_freed_memory, resolve_device, seed_everything
from . import distributed, layer_pipeline
from .budget import Budget, decide, replan
from .model import build_model
from .precision import Precision, resolve_precision
from .run import BEST, CHECKPOINT, ModelFactory, config_dataset, open_run

METRICS, JSONL = "metrics.json", "metrics.jsonl"


def cooldown_factor(epoch: int, epochs: int) -> float:
    """lr(e)/lr: 1 in the first half, then 2·(1 + E − e)/E (epochs counted from 1), capped at 1."""
    if epoch <= epochs // 2:
        return 1.0
    return min(1.0, 2.0 * (1 + epochs - epoch) / epochs)


def lr_factor(
    schedule: str,
    epoch: int,
    epochs: int,
    step: int = 0,
    steps: int = 1,
    warmup: float = 0.0,
    plans: Sequence[tuple[int, int]] | None = None,
) -> float:
    """lr/lr₀ at step ``step`` (0-based) of epoch ``epoch`` (1-based) of ``epochs`` × ``steps``.

    cooldown   the paper's :func:`cooldown_factor`, constant within an epoch
    constant   1
    cosine     with S = epochs·steps, s = (epoch − 1)·steps + step and W = ⌈warmup·S⌉ warm-up steps:
               (s + 1)/W for s < W, then ½(1 + cos(π p)) with p = (s − W)/(S − W)  (one-cycle shape
               when W > 0)

    ``plans`` ((0, E₀), (k₁, E₁), …): a budgeted run re-planned after epoch k_j to E_j epochs
    (:func:`.budget.replan`). W = ⌈warmup·E₀·steps⌉ stays the first plan's; from b_j = max(W,
    k_j·steps) on, the rest of the cosine is spread over the steps E_j·steps − b_j left, so lr is
    continuous and reaches its end at the end of the last plan:
               p = p_j + (1 − p_j)(s − b_j)/(E_j·steps − b_j)  for b_j ≤ s < b_{j+1}
    with p_j where the previous piece stood at b_j (p₀ = 0 at b₀ = W: one plan is the plain p).
    """
    if schedule == "cooldown":
        return cooldown_factor(epoch, epochs)
    if schedule == "constant":
        return 1.0
    plans = plans or ((0, epochs),)
    s = (epoch - 1) * steps + step
    w = math.ceil(warmup * (plans[0][1] * steps))
    if s < w:
        return (s + 1) / w
    start, p0, total = w, 0.0, plans[0][1] * steps
    if len(plans) == 1:  # the plain schedule, in the arithmetic it has always had
        return 0.5 * (1.0 + math.cos(math.pi * (s - w) / max(1, total - w)))
    for k, e in plans[1:]:
        b = max(w, k * steps)
        if s < b:
            break
        start, p0, total = b, p0 + (1.0 - p0) * (b - start) / max(1, total - start), e * steps
    p = p0 + (1.0 - p0) * (s - start) / max(1, total - start)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, p)))


def run_lr_factor(
    schedule: str,
    epoch: int,
    epochs: int,
    step: int,
    steps: int,
    warmup: float,
    plans: Sequence[tuple[int, int]] | None = None,
    rate_epochs: int = 0,
    finetune: float = 1.0,
) -> float:
    """lr/lr₀ of a run: :func:`lr_factor`, or for a hybrid run (R = ``rate_epochs`` > 0 leading epochs
    in the rate limit, ``model.rate_epochs``) two schedules. Epochs 1 … R run the schedule over R
    epochs, with the warm-up; epochs R + 1 … E run it again over the E − R epochs after them, scaled by
    ``finetune`` (``model.finetune_lr``) and without warm-up:

        f(e, s) = lr_factor(e, R, s)                              for e ≤ R
        f(e, s) = finetune · lr_factor(e − R, E − R, s; plans − R)  for e > R

    A budget re-plans only the second part (R is fixed, and under a budget it is the R' ≤ R rate epochs
    that fitted, ``budget.rate_epochs_within``); its plans count from epoch R, and those made
    before the first spiking step merge into the first (k − R ≤ 0)."""
    if not rate_epochs:
        return lr_factor(schedule, epoch, epochs, step, steps, warmup, plans)
    if epoch <= rate_epochs:
        return lr_factor(schedule, epoch, rate_epochs, step, steps, warmup)
    shifted = [(max(0, k - rate_epochs), e - rate_epochs) for k, e in plans or ((0, epochs),)]
    later = tuple(
        p
        for i, p in enumerate(shifted)
        if p[0] > 0 or i + 1 == len(shifted) or shifted[i + 1][0] > 0
    )
    return finetune * lr_factor(
        schedule, epoch - rate_epochs, epochs - rate_epochs, step, steps, 0.0, later
    )


def batch_lr_scale(cfg: Config) -> float:
    """lr and head_lr multiplier for ``train.batch_size`` B: 1 | B/B_ref (linear) | √(B/B_ref) (sqrt)."""
    t = cfg.train
    ratio = t.batch_size / t.lr_ref_batch
    return {"none": 1.0, "linear": ratio, "sqrt": math.sqrt(ratio)}[t.lr_scaling]


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def to_images(x: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W) → float (N, 1, H, W) in [0, 1]."""
    return x.unsqueeze(1).float().div_(255.0)


@torch.no_grad()
def evaluate(
    model,
    split: Split,
    batch_size: int = 1000,
    goodness: bool = True,
    linear: bool = True,
    device: torch.device | None = None,
) -> dict[str, float | None]:
    """Accuracy of the linear head and (when the model has one) of goodness classification."""
    device = device or model.device
    xs = torch.from_numpy(split.x)
    ys = torch.from_numpy(split.y)
    hit_lin, hit_good, has_good = 0, 0, goodness
    for i in range(0, len(ys), batch_size):
        x = to_images(xs[i : i + batch_size].to(device))
        y = ys[i : i + batch_size].to(device)
        if linear:
            hit_lin += int((model.predict_linear(x) == y).sum())
        if has_good:
            # goodness runs every image under every label: keep N·C per pass near batch_size
            step = max(1, batch_size // model.num_classes)
            preds = [model.predict_goodness(x[j : j + step]) for j in range(0, len(y), step)]
            if preds[0] is None:
                has_good = False
            else:
                hit_good += int((torch.cat(preds) == y).sum())
    n = max(len(ys), 1)
    return {
        "acc_linear": hit_lin / n if linear else None,
        "acc_goodness": hit_good / n if has_good else None,
    }


def improves(val: dict, best: dict, select: str) -> bool:
    """True when validation accuracies ``val`` beat the best so far on ``select`` (linear | goodness);
    goodness falls back to linear when it was not measured; ties go to the earlier epoch."""
    key = (
        "acc_goodness"
        if select == "goodness" and val.get("acc_goodness") is not None
        else "acc_linear"
    )
    return best.get(key) is None or val[key] > best[key]


def _check_finite(losses: dict[str, torch.Tensor], epoch: int, step: int, run_dir: Path) -> None:
    bad = [k for k, v in losses.items() if not bool(torch.isfinite(v).all())]
    if bad:
        where = f"non-finite loss ({', '.join(bad)}) at epoch {epoch}, step {step}"
        if (run_dir / CHECKPOINT).is_file():
            raise TrainingDivergedError(
                f"{where}; the last good checkpoint (end of epoch {epoch - 1}) is kept in {run_dir / CHECKPOINT}: "
                f"continue from it with a lower rate (--resume --set train.lr=... or train.head_lr=...) or retrain"
            )
        raise TrainingDivergedError(
            f"{where}; no checkpoint was written yet, so there is nothing to resume: lower train.lr or "
            f"train.head_lr and train again (the same --out may be reused)"
        )


# Keys that ``--resume`` may change (after a divergence): the new values apply from the next epoch and the
# first resumed epoch's record in metrics.jsonl lists them under "changed".
RESUME_MAY_CHANGE = (("train", "epochs"), ("train", "lr"), ("train", "head_lr"))


def train(
    cfg: Config,
    out: str | Path,
    device: str = "auto",
    resume: bool = False,
    kind: str = "rate",
    dataset: Dataset | None = None,
    progress: bool = True,
    verbose: bool = True,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    test: bool = True,
    factory: ModelFactory | None = None,
    parallel: str = "data",
    stages: list[int] | None = None,
) -> dict[str, Any]:
    """Train ``cfg`` into run directory ``out``; returns (and writes) ``metrics.json``.

    ``factory(cfg, in_shape, num_classes, device, kind)`` builds the untrained model (default: this
    stage's rate models; ``ff_neuro.pipeline.train`` passes the factory of every kind and of
    quantisation-aware training).

    ``progress`` shows a bar per epoch, ``verbose`` prints one summary line per epoch; ``test=False``
    skips the test split (recipe studies that compare on validation only: test accuracies are null).
    One process at a time writes ``out`` (``out/.lock`` holds its PID; a lock left by a killed process
    is taken over); a resume removes the temporary files of writes a kill interrupted.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) this is one rank of a job: data-parallel (``parallel``
    "data", ``ff.distributed``) or layer-pipelined ("layers", ``ff.layer_pipeline``; ``stages``: the
    first layer of each rank's block). Rank 0 writes the run and returns the metrics, the other ranks
    return ``{"rank", "world_size"}``.
    """
    if parallel not in ("data", "layers"):
        raise ValueError(f"parallel must be 'data' or 'layers', got {parallel!r}")
    started = time.perf_counter()  # train.budget_minutes counts from here
    out = Path(out)
    d = distributed.init(resolve_device(device))  # under torchrun: this rank (ff.distributed)
    try:
        # a pipeline needs ranks to split over: one process trains as always
        pipelined = parallel == "layers" and d.active
        stage = layer_pipeline.plan(cfg, d, stages, kind) if pipelined else None
        if stage is None:
            distributed.check_batch(d, cfg.train.batch_size)
        if resume and not (out / CHECKPOINT).is_file():
            load_checkpoint(
                out / CHECKPOINT
            )  # the clear "no checkpoint" error, before anything exists
        if d.main:
            out.mkdir(parents=True, exist_ok=True)
        with RunLock(out) if d.main else contextlib.nullcontext():
            return _train(
                cfg,
                out,
                device,
                resume,
                kind,
                dataset,
                progress and d.main,
                verbose and d.main,
                on_epoch,
                test,
                factory or build_model,
                started,
                d,
                stage,
            )
    finally:
        distributed.shutdown(d)


def _train(
    cfg: Config,
    out: Path,
    device: str,
    resume: bool,
    kind: str,
    dataset: Dataset | None,
    progress: bool,
    verbose: bool,
    on_epoch: Callable[[dict[str, Any]], None] | None,
    test: bool,
    factory: ModelFactory,
    started: float,
    d: distributed.Dist = distributed.SINGLE,
    stage: layer_pipeline.Stage | None = None,
) -> dict[str, Any]:
    dev = resolve_device(device)
    # the ranks of a pipelined job each train the whole batch: no sharding, no gradient all-reduce
    dd = d if stage is None else distributed.SINGLE
    link = layer_pipeline.Link(stage) if stage is not None else None
    keep_freed_memory()
    t = cfg.train
    changed: dict[str, list] = {}
    if resume:
        tensors, meta = load_checkpoint(out / CHECKPOINT)
        saved = from_dict(meta["config"])
        free: dict[str, dict] = {}
        for sec, k in RESUME_MAY_CHANGE:
            free.setdefault(sec, {})[k] = getattr(getattr(cfg, sec), k)
        if meta.get("budget", {}).get("requested_rate_epochs") == cfg.spiking.rate_epochs:
            free["spiking"] = {"rate_epochs": cfg.spiking.rate_epochs}  # R' of them fitted
        if saved.replace(**free).to_dict() != cfg.to_dict() or meta.get("kind", "rate") != kind:
            raise CheckpointError(
                f"{out / CHECKPOINT} was written by another config or model kind; "
                f"resume with the same --config/--model (only "
                f"{', '.join('.'.join(k) for k in RESUME_MAY_CHANGE)} may change) "
                f"or use another --out"
            )
        if t.epochs < meta["epoch"]:
            raise CheckpointError(
                f"{out} has already trained {meta['epoch']} epochs; --resume with "
                f"{t.epochs} epochs would shorten it: pass --epochs {meta['epoch']} or more"
            )
        if "optimizers" not in meta:
            raise CheckpointError(
                f"{out / CHECKPOINT} holds no optimiser state (not written by the trainer); "
                f"it cannot be resumed"
            )
        changed = {
            f"{sec}.{k}": [getattr(getattr(saved, sec), k), getattr(getattr(cfg, sec), k)]
            for sec, k in RESUME_MAY_CHANGE[1:]
            if getattr(getattr(saved, sec), k) != getattr(getattr(cfg, sec), k)
        }
    elif (out / CHECKPOINT).exists():
        raise CheckpointError(
            f"{out} already holds a run; pass --resume to continue it or choose another --out"
        )
    if d.main:
        remove_stale_tmp(out)
    seed_everything(t.seed)
    data = dataset or config_dataset(cfg)
    train_split = data.train.subset(cfg.data.train_subset, seed=cfg.data.split_seed)
    in_shape, classes = (1, *data.image_shape), data.num_classes
    model = factory(cfg, in_shape, classes, dev, kind)
    xs, ys = torch.from_numpy(train_split.x).to(dev), torch.from_numpy(train_split.y).to(dev)
    b_rank = t.batch_size // dd.world
    if resume and "precision" in meta:  # the arithmetic the run started with, not a new measurement
        precision = Precision.from_record(meta["precision"])
    elif d.main:  # rank 0 measures; every rank trains with its choice
        first = (to_images(xs[:b_rank]), ys[:b_rank])
        precision = resolve_precision(t.precision, model, first, t.channels_last)
    else:
        precision = None
    precision = distributed.broadcast_object(precision, d)
    model.set_precision(precision)
    model.dist = dd
    if verbose and t.precision != "fp32":
        tqdm.write(f"precision: {precision.mode}, {precision.reason}")
    n, bs = len(ys), t.batch_size
    steps = n // bs if n >= bs else 1  # one pass over the split (a rate epoch)
    spike_steps = model.epoch_steps(steps, bs)  # a spiking epoch (spiking.epoch_images)
    val_g = data.val.subset(t.val_goodness_subset, seed=cfg.data.split_seed)  # goodness each epoch

    budget = None
    if t.budget_minutes is not None:
        if resume and "budget" in meta:  # the epochs the run started with, not a new measurement
            budget = Budget.from_record(meta["budget"])
        elif d.main:
            budget = decide(
                t.budget_minutes,
                t.epochs,
                model,
                (to_images(xs[:b_rank]), ys[:b_rank]),
                spike_steps,
                [(data.val, False, True)] + ([(val_g, True, False)] if t.val_goodness else []),
                data.test if test else None,
                t.eval_batch_size,
                started,
                rate_steps=steps,
            )
        budget = distributed.broadcast_object(budget, d)
        fitted = {"spiking": {"rate_epochs": budget.rate_epochs}} if budget.rate_requested else {}
        cfg = cfg.replace(train={"epochs": budget.epochs}, **fitted)  # R' ≤ R rate epochs fitted
        if budget.rate_requested:
            model.rate_epochs = budget.rate_epochs
        t = cfg.train
        if verbose:
            tqdm.write(budget.summary())
    if d.main:
        atomic_write_bytes(out / "config.yaml", dump_config(cfg).encode())

    start, best, history, seconds = (
        1,
        {"acc_linear": -1.0, "acc_goodness": None, "epoch": 0},
        [],
        0.0,
    )
    if resume:
        model.load_training_state({k: v.to(dev) for k, v in tensors.items()}, meta["optimizers"])
        start, best, seconds = meta["epoch"] + 1, meta["best"], meta["train_seconds"]
        if (
            out / JSONL
        ).exists():  # drop a torn last line and lines of an epoch logged but not checkpointed
            history = [
                r
                for r in read_jsonl(out / JSONL)
                if isinstance(r.get("epoch"), int) and r["epoch"] < start
            ]
            write_jsonl(out / JSONL, history)  # atomic: a kill here leaves the old or the new log
    elif (out / JSONL).exists() and d.main:
        (out / JSONL).unlink()

    scale = batch_lr_scale(cfg)
    if link is None:
        step_fn, combine = model.train_step, lambda v: distributed.mean_over_ranks(v, d)
    else:
        keys = layer_pipeline.loss_keys(cfg)

        def step_fn(x, y, gen):
            return layer_pipeline.step(model, x, y, gen, stage, link)

        def combine(v):
            return layer_pipeline.sum_over_stages(v, keys, d)

    # a budget is re-planned after every epoch but the last (budget.replan); a resumed run keeps
    # the plan it was stopped with
    replanning = budget is not None and not resume
    plans = None if budget is None else budget.plans
    epoch = start - 1
    while epoch < t.epochs:  # a re-planned budget changes t.epochs
        epoch += 1
        model.begin_epoch(epoch)
        ep_steps = model.epoch_steps(steps, bs)
        phases = (model.rate_epochs, model.finetune_lr)
        factor = run_lr_factor(t.schedule, epoch, t.epochs, 0, ep_steps, t.warmup, plans, *phases)
        gen = epoch_generator(t.seed, epoch)
        perm = torch.randperm(n, generator=gen).to(dev)
        sums: dict[str, torch.Tensor] = {}
        t0 = time.perf_counter()
        bar = tqdm(
            range(ep_steps),
            desc=f"epoch {epoch}/{t.epochs}",
            disable=not progress,
            leave=False,
            mininterval=1.0,
        )
        for step in bar:
            model.set_lr_factor(
                scale
                * run_lr_factor(
                    t.schedule, epoch, t.epochs, step, ep_steps, t.warmup, plans, *phases
                )
            )
            rows = perm[step * bs : (step + 1) * bs]
            idx = distributed.shard(rows, dd)
            x = to_images(xs[idx])
            if t.augment_shift or t.augment_flip:  # drawn for the global batch: every world
                # size sees the same draws
                d_aug = augment.draw(len(rows), t.augment_shift, t.augment_flip, gen)
                x = augment.apply(
                    x, augment.Draw(*(v if v is None else distributed.shard(v, dd) for v in d_aug))
                )
            losses = step_fn(x, ys[idx], gen)
            for k, v in losses.items():
                sums[k] = sums.get(k, 0) + v
            if (step + 1) % t.nan_check_every == 0:
                _check_finite(combine(losses), epoch, step + 1, out)
        if link is not None:  # the last sends, then every rank gets the whole model
            link.flush()
            layer_pipeline.sync(model, stage, d)
        sums = combine(sums)
        _check_finite(sums, epoch, ep_steps, out)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        epoch_seconds = time.perf_counter() - t0
        seconds += epoch_seconds
        if not d.main:  # rank 0 alone evaluates and writes; the others wait for it
            if replanning and epoch < t.epochs:
                budget = distributed.broadcast_object(None, d)
                cfg, t, plans = _replanned(cfg, budget)
            distributed.barrier(d)
            continue
        val = evaluate(model, data.val, t.eval_batch_size, goodness=False)
        if t.val_goodness:
            val["acc_goodness"] = evaluate(model, val_g, t.eval_batch_size, linear=False)[
                "acc_goodness"
            ]
        record = {
            "epoch": epoch,
            "lr_factor": factor,
            "loss": {k: float(v) / ep_steps for k, v in sums.items()},
            "val_acc_linear": val["acc_linear"],
            "val_acc_goodness": val["acc_goodness"],
            "epoch_seconds": round(epoch_seconds, 3),
            "train_seconds": round(seconds, 3),
        }
        if model.phase is not None:
            record["phase"] = model.phase
        if ep_steps != steps:  # a spiking epoch of spiking.epoch_images
            record["images"] = ep_steps * bs
        if changed and epoch == start:
            record["changed"] = changed  # resumed with another learning rate: [old, new]
        if replanning and epoch < t.epochs:  # before this epoch's checkpoint: resume keeps it
            was = t.epochs
            budget = distributed.broadcast_object(
                replan(budget, epoch, time.perf_counter() - started), d
            )
            cfg, t, plans = _replanned(cfg, budget)
            if t.epochs != was:
                record["replanned"] = [was, t.epochs]
                atomic_write_bytes(out / "config.yaml", dump_config(cfg).encode())
                if verbose:
                    tqdm.write(budget.replan_summary(epoch, was))
        if model.phase != "rate" and improves(val, best, t.select):  # spike counts only
            best = {
                "acc_linear": val["acc_linear"],
                "acc_goodness": val["acc_goodness"],
                "epoch": epoch,
            }
            save_checkpoint(
                out / BEST,
                model.weights(),
                _meta(cfg, kind, epoch, best, seconds, in_shape, classes, precision, budget),
            )
        history.append(record)
        append_jsonl(out / JSONL, record)
        tensors, opt_meta = model.training_state()
        meta = _meta(cfg, kind, epoch, best, seconds, in_shape, classes, precision, budget)
        save_checkpoint(out / CHECKPOINT, tensors, {**meta, "optimizers": opt_meta})
        if verbose:
            g = record["val_acc_goodness"]
            tqdm.write(
                f"epoch {epoch}: loss {record['loss']['total']:.4f}  val linear {val['acc_linear']:.4f}"
                + (f"  goodness {g:.4f}" if g is not None else "")
                + f"  ({epoch_seconds:.1f} s)"
            )
        if on_epoch:
            on_epoch(record)
        distributed.barrier(d)

    if not d.main:
        distributed.barrier(d)  # rank 0 evaluates the test split and writes metrics.json
        return {"rank": d.rank, "world_size": d.world}
    metrics = finish(
        out, model, data, cfg, kind, dev, seconds, best, history, test, d, stage, budget, started
    )
    distributed.barrier(d)
    return metrics


def _replanned(cfg: Config, budget: Budget) -> tuple[Config, Any, tuple | None]:
    """The config with the budget's (re-planned) epochs, its train section, and the plans."""
    cfg = cfg.replace(train={"epochs": budget.epochs})
    return cfg, cfg.train, budget.plans


def _meta(
    cfg: Config,
    kind: str,
    epoch: int,
    best: dict,
    seconds: float,
    in_shape: tuple,
    classes: int,
    precision: Precision,
    budget: Budget | None = None,
) -> dict[str, Any]:
    extra = {"budget": budget.record()} if budget is not None else {}
    return {
        **extra,
        "config": cfg.to_dict(),
        "kind": kind,
        "epoch": epoch,
        "best": best,
        "train_seconds": seconds,
        "in_shape": [int(v) for v in in_shape],
        "num_classes": int(classes),
        "torch": torch.__version__,
        "precision": precision.record(),
    }


def finish(
    out: Path,
    model,
    data: Dataset,
    cfg: Config,
    kind: str,
    dev: torch.device,
    seconds: float,
    best: dict,
    history: list[dict],
    run_test: bool = True,
    d: distributed.Dist = distributed.SINGLE,
    stage: layer_pipeline.Stage | None = None,
    budget: Budget | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Load the best-validation weights, evaluate the test split once, write metrics.json (with
    ``budget``: its decision and this process's wall clock from ``started``, the run's
    ``time.perf_counter()`` at its beginning, to the end)."""
    tensors, _ = load_checkpoint(out / BEST)
    model.load_weights({k: v.to(dev) for k, v in tensors.items()})
    test = (
        evaluate(model, data.test, cfg.train.eval_batch_size, goodness=True)
        if run_test
        else {"acc_linear": None, "acc_goodness": None}
    )
    metrics = {
        "test_acc_linear": test["acc_linear"],
        "test_acc_goodness": test["acc_goodness"],
        "best_val_acc_linear": best["acc_linear"],
        "best_val_acc_goodness": best["acc_goodness"],
        "best_epoch": best["epoch"],
        "epochs": cfg.train.epochs,
        "budget": None,
        "method": cfg.train.method,
        "kind": kind,
        "train_seconds": round(seconds, 2),
        "device": str(dev),
        "hardware": hardware_description(dev),
        "precision": model.precision.record(),
        "lr_batch_scale": batch_lr_scale(cfg),
        "world_size": d.world,
        "parallel": (
            {"mode": "layers", "stages": list(stage.starts)}
            if stage is not None
            else {"mode": "data" if d.active else "none"}
        ),
        "train_size": len(data.train.subset(cfg.data.train_subset, seed=cfg.data.split_seed)),
        "val_size": len(data.val),
        "test_size": len(data.test),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "config": cfg.to_dict(),
        "history": history,
    }
    if budget is not None:
        metrics["budget"] = {**budget.record(), "wall_s": round(time.perf_counter() - started, 1)}
    if run_test and not math.isfinite(test["acc_linear"]):
        raise TrainingDivergedError("test accuracy is not finite; the checkpoint is broken")
    atomic_write_json(out / METRICS, metrics)
    return metrics


def evaluate_run(
    run_dir,
    split: str = "test",
    device: str = "auto",
    dataset: Dataset | None = None,
    factory: ModelFactory | None = None,
) -> dict[str, Any]:
    """Recompute the accuracies of a run's best checkpoint on ``split`` ('val' or 'test');
    ``run_dir`` may be an open :class:`~ff_neuro.ff.run.Run`."""
    if split not in ("val", "test"):
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    run = open_run(run_dir, device, factory=factory, dataset=dataset)
    res = evaluate(run.model, getattr(run.dataset, split), run.cfg.train.eval_batch_size)
    return {
        f"{split}_acc_linear": res["acc_linear"],
        f"{split}_acc_goodness": res["acc_goodness"],
        "epoch": run.meta["epoch"],
        "kind": run.kind,
        "device": str(run.model.device),
    }
