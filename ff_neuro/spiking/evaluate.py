"""``spike_run``: accuracy, spike counts and time of a run's spiking network for several T, encodings
and variants, written to ``RUN_DIR/spike_metrics.json``.

Per (variant, encoding, T), on the first ``samples`` test images:
  * acc_linear   – the run's linear head on rms_norm(count/T) of the neutral-label input;
  * acc_goodness – argmax over labels of Σ_l λ_l² Σ(count_l/T)² (all N·C labelled inputs batched);
                   null when the run has no goodness classifier (method ≠ ff) or goodness=False;
                   (``measure: mean`` divides each layer's term by its number of units n_l);
  * goodness_predictions_per_class – how many images goodness assigned to each class (a bias of the
                   conversion piles them onto a few classes);
  * spikes_per_inference – mean spikes of each layer per neutral-label inference (T steps);
  * seconds      – wall time of the evaluation (conversion/calibration excluded).
"rate" holds the reference: the rate model (ReLU network) for a rate run, and the trained network
as it was trained (its own T, encoding and normalisation) for a directly trained spiking run.
``firing_rates`` = mean spikes per neuron per step of every layer for the default variant
("static" if asked, else the first) and encoding (the first asked) at the largest T.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data.datasets import Dataset
from ..ff.classify import goodness_scores
from ..ff.run import Run, open_run
from ..io import atomic_write_json
from .convert import check_variant, convert
from .encoding import check_encoding, check_timesteps
from .errors import VariantError
from .model import build_model
from .network import SpikingNetwork
from .readout import spike_features
from .store import save_spec, spec_path

METRICS_FILE = "spike_metrics.json"
RATE_BATCH = 25  # images per rate-model pass in rate_reference


@torch.no_grad()
def evaluate_network(
    sn: SpikingNetwork, x: torch.Tensor, y: torch.Tensor, goodness: bool, batch: int = 100
) -> dict[str, Any]:
    """Accuracies, spikes per inference and firing rates of a spiking network on (x, y)."""
    t0 = time.perf_counter()
    hit_lin, hit_good, spikes = 0, 0, None
    per_class = np.zeros(sn.num_classes, dtype=np.int64)  # goodness predictions per class
    bar = tqdm(
        total=len(y),
        desc=f"T={sn.T}{' + goodness' if goodness else ''}",
        unit="img",
        leave=False,
        smoothing=0.05,
    )
    for i in range(0, len(y), batch):
        xb, yb = x[i : i + batch], y[i : i + batch]
        counts = sn.spike_counts(sn.labels.neutral(xb))
        hit_lin += int(
            (sn.head(spike_features(counts, sn.T, sn.spec.readout_layers)).argmax(1) == yb).sum()
        )
        per = np.array([float(c.flatten(1).sum(1).sum()) for c in counts])
        spikes = per if spikes is None else spikes + per
        if goodness:
            pred = sn.predict_goodness(xb)
            hit_good += int((pred == yb).sum())
            per_class += np.bincount(pred.cpu().numpy(), minlength=sn.num_classes)
        bar.update(len(yb))
    bar.close()
    n = len(y)
    sizes = [float(np.prod(layer.out_shape)) for layer in sn.spec.layers]
    spikes = spikes / n
    return {
        "acc_linear": hit_lin / n,
        "acc_goodness": hit_good / n if goodness else None,
        "goodness_predictions_per_class": per_class.tolist() if goodness else None,
        "spikes_per_inference": {f"layer{i}": float(s) for i, s in enumerate(spikes)},
        "spikes_total": float(spikes.sum()),
        "seconds": round(time.perf_counter() - t0, 3),
        "firing_rates": {f"layer{i}": float(s / (sizes[i] * sn.T)) for i, s in enumerate(spikes)},
    }


@torch.no_grad()
def rate_reference(run: Run, x: torch.Tensor, y: torch.Tensor, goodness: bool) -> dict[str, Any]:
    net, head, labels = run.parts
    cfg = run.cfg
    if run.kind == "spiking":
        r = evaluate_network(run.model.network(), x, y, goodness and cfg.train.method == "ff")
        return {"acc_linear": r["acc_linear"], "acc_goodness": r["acc_goodness"]}
    b = RATE_BATCH  # images per pass (goodness: b·C labelled inputs), bounds the activations held
    lin = sum(
        int((head(net.features(net(labels.neutral(x[i : i + b])))).argmax(1) == y[i : i + b]).sum())
        for i in range(0, len(y), b)
    )
    good = None
    if goodness and cfg.train.method == "ff":
        good = sum(
            int((goodness_scores(net, labels, x[i : i + b]).argmax(1) == y[i : i + b]).sum())
            for i in range(0, len(y), b)
        ) / len(y)
    return {"acc_linear": lin / len(y), "acc_goodness": good}


def spike_run(
    run_dir,
    timesteps: Sequence[int] = (8, 16, 32, 64),
    encodings: Sequence[str] = ("current",),
    samples: int | None = 1000,
    variants: Sequence[str] = ("exact", "static"),
    device: str = "auto",
    goodness: bool = True,
    calibration: str = "spikes",
    percentile: float = 99.9,
    calib_samples: int = 200,
    seed: int = 0,
    dataset: Dataset | None = None,
    progress=None,
) -> dict[str, Any]:
    """Evaluate the spiking network of ``run_dir`` (a path or an open :class:`~ff_neuro.ff.run.Run`) for
    every (variant, encoding, T); writes spike_metrics.json and, per (variant, encoding, T), the spec
    with its calibration (:mod:`ff_neuro.spiking.store`) that deploy, export, compare and report load."""
    timesteps = [check_timesteps(t) for t in timesteps]
    encodings = [check_encoding(e) for e in encodings]
    variants = [check_variant(v) for v in variants]
    if not timesteps or not encodings or not variants:
        raise VariantError("spike_run needs at least one T, encoding and variant")
    run = open_run(run_dir, device, factory=build_model, dataset=dataset)
    net, head, labels = run.parts
    cfg, dev = run.cfg, run.device
    good = goodness and cfg.train.method == "ff"
    x, y = (t.to(dev) for t in run.test_tensors(samples))
    cx, cy = run.calibration_images(calib_samples, seed)
    calib = {
        "calibration": calibration,
        "percentile": percentile,
        "calib_samples": calib_samples,
        "seed": seed,
    }
    out: dict[str, Any] = {
        "rate": rate_reference(run, x, y, good),
        "samples": int(len(y)),
        "split": "test",
        "results": [],
        "firing_rates": {},
    }
    default = ("static" if "static" in variants else variants[0], encodings[0], max(timesteps))
    for variant in variants:
        for enc in encodings:
            for T in timesteps:
                spec = convert(
                    net,
                    head,
                    labels,
                    cfg,
                    run.kind,
                    cx.to(dev),
                    cy.to(dev),
                    T,
                    enc,
                    variant,
                    calibration,
                    percentile,
                    seed,
                )
                save_spec(spec_path(run.run_dir, variant, enc, T), spec, run, calib)
                r = evaluate_network(SpikingNetwork(spec, dev, seed), x, y, good)
                rates = r.pop("firing_rates")
                out["results"].append({"variant": variant, "encoding": enc, "timesteps": T, **r})
                if (variant, enc, T) == default:
                    out["firing_rates"] = rates
                if progress:
                    progress(out["results"][-1])
    atomic_write_json(run.run_dir / METRICS_FILE, out)
    return out
