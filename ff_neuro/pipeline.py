"""Cross-stage orchestration: what needs every stage at once, as functions (the CLI calls these).

  * :func:`model_factory` – builds a model of any kind, under quantisation-aware training when the
    config names a hardware profile (:func:`ff_neuro.hardware.qat.build_model`);
  * :func:`open_run`, :func:`train`, :func:`evaluate_run` – the stage functions with that factory;
  * :func:`compare_run` – rate model, snnTorch, Lava float and Lava fixed point on the same images,
    plus the cost estimate per profile (writes RUN_DIR/compare.json; needs the ``lava`` extra);
  * :func:`demo` – train → spike → deploy → compare → report.

Stage order (tests/test_layering.py): data → ff → spiking → hardware → lava → analysis → pipeline → cli.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def compare_run(
    run_dir,
    samples: int = 10,
    profiles: list[str] | None = None,
    timesteps: int | None = None,
    dataset: Dataset | None = None,
    fixed_profile: str = "loihi2",
    goodness: bool = False,
    write: bool = True,
    exact_grid: bool = False,
) -> dict:
    """Rate, snnTorch, Lava float and Lava fixed-point accuracy on the same ``samples`` test images,
    and the cost estimate per profile. Returns (and writes) RUN_DIR/compare.json.

    The Lava float row runs the unrounded network (``exact_grid=False``) so that its accuracy is that of
    the trained network; its ``spike_count_agreement`` with snnTorch is reported as measured."""
    from .lava.deploy import deploy_run  # the lava extra (lava-nc), imported when used

    run = open_run(run_dir, "cpu", dataset=dataset)
    x, y = run.test_tensors(samples)
    yn = y.numpy()
    model = run.model
    pg = model.predict_goodness(x)
    rows = [
        {
            "model": "rate",
            "acc_linear": float((model.predict_linear(x).cpu() == y).float().mean()),
            "acc_goodness": None if pg is None else float((pg.cpu() == y).float().mean()),
            "samples": len(yn),
        }
    ]
    spec, source = run_spec(run, timesteps)
    snn = SpikingNetwork(spec)
    rows.append(
        {
            "model": "snntorch",
            "acc_linear": float((snn.predict_linear(x) == y).float().mean()),
            "acc_goodness": float((snn.predict_goodness(x) == y).float().mean()),
            "samples": len(yn),
        }
    )
    fl = deploy_run(
        run,
        fixed_profile,
        samples,
        False,
        timesteps,
        goodness,
        None,
        False,
        spec,
        exact_grid=exact_grid,
    )
    fx = deploy_run(run, fixed_profile, samples, True, timesteps, goodness, None, False, spec)
    for name, m in (("lava-float", fl), ("lava-fixed", fx)):
        rows.append(
            {
                "model": name,
                "acc_linear": m["accuracy"]["linear"],
                "acc_goodness": m["accuracy"]["goodness"],
                "samples": m["samples"],
                "spike_count_agreement": m["agreement"]["spike_count_agreement"],
            }
        )
    act = {
        k: fl["cost"][k]
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
        }
    out = {
        "rows": rows,
        "cost_by_profile": costs,
        "samples": len(yn),
        "timesteps": spec.timesteps,
        "fixed_profile": fixed_profile,
        "activity_source": "Lava float run",
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
    spike_samples: int = 1000,
    lava_samples: int = 5,
    profile: str = "loihi2",
    fresh: bool = False,
    timesteps: tuple[int, ...] = (8, 16, 32),
    dataset: Dataset | None = None,
    show: Callable[[str, Any], None] | None = None,
    progress: bool = True,
) -> Path:
    """train → spike (saves the specs) → deploy on Lava → compare → report; returns the report's path.

    Each step reuses what an earlier, interrupted demo already finished (a finished training run).
    ``show(step, result)`` receives each step's result as it finishes (the CLI prints tables)."""
    from .lava.deploy import deploy_run  # the lava extra (lava-nc), imported when used

    show = show or (lambda step, result: None)
    out = Path(out)
    if fresh and out.exists():
        shutil.rmtree(out)
    cfg = load_config(config)
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
    # the deploy and compare steps load the saved spec of the run's own T, so spike always makes it
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
    show("deploy", deploy_run(out, profile, lava_samples, goodness=True, dataset=dataset))
    show(
        "compare",
        compare_run(out, lava_samples, fixed_profile=profile, goodness=True, dataset=dataset),
    )
    index = build_report(out, device=device, dataset=dataset)
    show("report", index)
    return index
