"""Cross-stage orchestration: what needs every stage at once, as functions (the CLI calls these).

  * :func:`model_factory` – builds a model of any kind, under quantisation-aware training when the
    config names a hardware profile (:func:`ff_neuro.hardware.qat.build_model`);
  * :func:`open_run`, :func:`train`, :func:`evaluate_run` – the stage functions with that factory;
  * :func:`compare_run` – rate model, snnTorch, Lava float and Lava fixed point on the same images:
    accuracies, their gap to the rate model and agreement with it, spike-count agreement, both Lava
    deployments' metrics, the cost estimate per profile (writes RUN_DIR/compare.json; needs the
    ``lava`` extra);
  * :func:`demo` – train → spike → Lava float and fixed point, compared → report.

Stage order (tests/test_layering.py): data → ff → spiking → hardware → lava → analysis → pipeline → cli.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .analysis.report import build_report
from .config import load_config
from .data.datasets import Dataset
from .ff import run as ff_run
from .ff import trainer
from .hardware.cost import cost_report
from .hardware.profiles import available_profiles
from .hardware.qat import build_model as model_factory
from .io import atomic_write_json
from .spiking import SpikingNetwork
from .spiking.evaluate import spike_run
from .spiking.store import run_spec

COMPARE = "compare.json"
# the demo's training wall clock on any CPU: with the install and the spiking, Lava and report steps
# (about 7 minutes on a 2-core CPU, docs/RESULTS.md) the demo stays near 15 minutes
DEMO_TRAIN_MINUTES = 6.0
__all__ = ["COMPARE", "compare_run", "demo", "evaluate_run", "model_factory", "open_run", "train"]


def open_run(
    run_dir, device="cpu", which: str | None = ff_run.BEST, dataset: Dataset | None = None
):
    """:func:`ff_neuro.ff.run.open_run` with the factory of every model kind."""
    return ff_run.open_run(run_dir, device, which, model_factory, dataset)


def train(
    cfg, out, device: str = "auto", resume: bool = False, kind: str = "rate", **kwargs
) -> dict:
    """:func:`ff_neuro.ff.trainer.train` for any model kind and hardware profile (``ff-neuro train``)."""
    return trainer.train(cfg, out, device, resume, kind, factory=model_factory, **kwargs)


def evaluate_run(
    run_dir, split: str = "test", device: str = "auto", dataset: Dataset | None = None
) -> dict:
    """:func:`ff_neuro.ff.trainer.evaluate_run` for any model kind (``ff-neuro evaluate``)."""
    return trainer.evaluate_run(run_dir, split, device, dataset, factory=model_factory)


def versus(pred, ref_pred, y) -> dict[str, float | None]:
    """Accuracy of per-image predictions ``pred`` on labels ``y``, and against a reference model's
    predictions ``ref_pred`` on the same images: the gap in percentage points (acc − reference acc)
    and the agreement (fraction of images given the same class). None where either is missing."""
    if pred is None:
        return {"acc": None, "gap_pp": None, "agreement": None}
    pred, y = np.asarray(pred), np.asarray(y)[: len(pred)]
    acc = float((pred == y).mean())
    if ref_pred is None:
        return {"acc": acc, "gap_pp": None, "agreement": None}
    ref = np.asarray(ref_pred)[: len(pred)]
    return {
        "acc": acc,
        "gap_pp": 100 * (acc - float((ref == y).mean())),
        "agreement": float((pred == ref).mean()),
    }


def comparison_row(model: str, pred: dict, ref: dict, y, **extra) -> dict:
    """One row of compare.json: ``pred`` = {"linear": classes, "goodness": classes or None} of
    ``model`` and ``ref`` those of the rate model, on the test labels ``y``."""
    lin, good = (versus(pred[k], ref[k], y) for k in ("linear", "goodness"))
    return {
        "model": model,
        "samples": len(pred["linear"]),
        "acc_linear": lin["acc"],
        "acc_goodness": good["acc"],
        "gap_linear_pp": lin["gap_pp"],
        "gap_goodness_pp": good["gap_pp"],
        "agreement_linear": lin["agreement"],
        "agreement_goodness": good["agreement"],
        "goodness_samples": None if pred["goodness"] is None else len(pred["goodness"]),
        **extra,
    }


def predicted_classes(predict, x, batch: int = 100) -> list[int] | None:
    """``predict(x)`` (classes per image, or None) as a list, ``batch`` images at a time (goodness runs
    every label of an image: memory grows with the images of a call)."""
    out = []
    for i in range(0, len(x), batch):
        p = predict(x[i : i + batch])
        if p is None:
            return None
        out += p.cpu().tolist()
    return out


def compare_run(
    run_dir,
    samples: int = 100,
    profiles: list[str] | None = None,
    timesteps: int | None = None,
    dataset: Dataset | None = None,
    fixed_profile: str = "loihi2",
    goodness: bool = True,
    write: bool = True,
    exact_grid: bool = False,
    progress: bool = False,
) -> dict:
    """Rate model, snnTorch, Lava float and Lava fixed point on the same first ``samples`` test images,
    and the cost estimate per profile. Returns (and writes) RUN_DIR/compare.json.

    Every row has both accuracies (goodness on Lava only with ``goodness``: 10× the Lava work), their
    gap to the rate model in percentage points and the share of images classified as the rate model
    does; the Lava rows add the per-neuron spike-count agreement with their reference simulation
    (snnTorch for float, the integer emulation for fixed point). ``lava`` holds both deployments'
    metrics (ms per Lava step, activity, cost), which the report's Lava table shows. The Lava float
    row runs the unrounded network (``exact_grid=False``), so its accuracy is that of the trained
    network. ``progress`` shows a bar over the Lava steps of each deployment."""
    from .lava.deploy import ProgressBar, deploy_run  # the lava extra (lava-nc), imported when used

    run = open_run(run_dir, "cpu", dataset=dataset)
    x, y = run.test_tensors(samples)
    model = run.model
    rate = {
        "linear": predicted_classes(model.predict_linear, x),
        "goodness": predicted_classes(model.predict_goodness, x),
    }
    spec, source = run_spec(run, timesteps)
    snn = SpikingNetwork(spec)
    rows = [
        comparison_row("rate", rate, rate, y),
        comparison_row(
            "snntorch",
            {
                "linear": predicted_classes(snn.predict_linear, x),
                "goodness": predicted_classes(snn.predict_goodness, x),
            },
            rate,
            y,
        ),
    ]
    lava = {}
    for name, fixed in (("lava-float", False), ("lava-fixed", True)):
        bar = ProgressBar(f"{name} ({len(y)} images)") if progress else None
        try:
            m = deploy_run(
                run,
                fixed_profile,
                samples,
                fixed,
                goodness=goodness,
                write=False,
                spec=spec,
                progress=bar,
                exact_grid=exact_grid and not fixed,
                predictions=True,
            )
        finally:
            if bar is not None:
                bar.close()
        pred = m.pop("predictions")
        a = m["agreement"]
        rows.append(
            comparison_row(
                name,
                {"linear": pred["linear"], "goodness": pred["goodness"] if goodness else None},
                rate,
                y,
                spike_count_agreement=a["spike_count_agreement"],
                goodness_spike_count_agreement=a["goodness_spike_count_agreement"],
                reference="integer emulation" if fixed else "snnTorch",
            )
        )
        lava[name] = m
    act = {
        k: lava["lava-float"]["cost"][k]
        for k in (
            "spikes_per_inference",
            "synops_per_inference",
            "neuron_updates_per_inference",
            "input_events_per_inference",
        )
    }
    costs = {}
    for p in profiles or available_profiles():
        c = cost_report(spec.layers, p, act, spec.timesteps)
        costs[p] = {
            "energy_per_inference_j": c["energy_per_inference_j"],
            "latency_per_inference_s": c["latency_per_inference_s"],
            "cores_used": c["cores_used"],
            "fits": c["fits"],
            "reasons": c["reasons"],
            "energy_terms_missing": c["energy_terms_missing"],
            "latency_model": c["latency_model"],
        }
    out = {
        "rows": rows,
        "lava": lava,
        "cost_by_profile": costs,
        "samples": len(y),
        "timesteps": spec.timesteps,
        "fixed_profile": fixed_profile,
        "activity": act,
        "activity_source": "Lava float run (neutral label)",
        "spike_spec": source,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if write:
        atomic_write_json(run.run_dir / COMPARE, out)
    return out


def demo(
    out: str | Path = "runs/demo",
    config: str = "mnist-quick",
    device: str = "auto",
    spike_samples: int = 500,
    lava_samples: int = 100,
    profile: str = "loihi2",
    fresh: bool = False,
    timesteps: tuple[int, ...] = (8, 16, 32),
    dataset: Dataset | None = None,
    show: Callable[[str, Any], None] | None = None,
    progress: bool = True,
    train_minutes: float | None = DEMO_TRAIN_MINUTES,
) -> Path:
    """train → spike (saves the specs) → Lava float and fixed point, compared with the rate model and
    snnTorch on the same ``lava_samples`` test images (:func:`compare_run`, goodness included) →
    report; returns the report's path.

    Training gets ``train_minutes`` of wall clock (``train.budget_minutes``: as many of the config's
    epochs as fit, measured on this machine, with the schedule over them; None or 0: all of them), so that
    the demo stays near a quarter of an hour on any 2-core CPU. Each step reuses what an earlier,
    interrupted demo already finished (a finished training run).
    ``show(step, result)`` receives each step's result as it finishes (the CLI prints tables): "train"
    or "train-reused", "spike", "lava" (both deployments' metrics), "compare", "report"."""
    show = show or (lambda step, result: None)
    out = Path(out)
    if fresh and out.exists():
        shutil.rmtree(out)
    cfg = load_config(config)
    if train_minutes:
        cfg = cfg.replace(train={"budget_minutes": float(train_minutes)})
    if (out / trainer.METRICS).exists():
        m = json.loads((out / trainer.METRICS).read_text())
        show("train-reused", m)
    else:
        m = train(
            cfg,
            out,
            device,
            resume=(out / ff_run.CHECKPOINT).exists(),
            dataset=dataset,
            progress=progress,
        )
        show("train", m)
    # the compare step loads the saved spec of the run's own T, so spike always makes it
    ts = sorted({*timesteps, load_config(out / "config.yaml").spiking.timesteps})
    show(
        "spike",
        spike_run(
            open_run(out, device, dataset=dataset),
            ts,
            ("current",),
            spike_samples,
            ("static",),
            device,
        ),
    )
    cmp = compare_run(
        out, lava_samples, fixed_profile=profile, goodness=True, dataset=dataset, progress=progress
    )
    show("lava", cmp["lava"])
    show("compare", cmp)
    index = build_report(out, device=device, dataset=dataset)
    show("report", index)
    return index
