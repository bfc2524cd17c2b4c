"""Deploy a trained run on Lava.

``deploy_run``: spiking spec of the run ("static" variant: the one ``ff-neuro spike`` saved, else a
conversion with the default calibration, :func:`ff_neuro.spiking.store.run_spec`) → Lava graph
(float, or fixed point under a hardware profile) → per-neuron spike counts of N test images
(neutral label) → linear-head accuracy, agreement with the reference simulation (snnTorch for
float, the integer emulation for fixed point), activity and cost under the profile. Writes
RUN_DIR/deploy_metrics.json, which names the spec used and its calibration (``spike_spec``).
The comparison of every execution model (``compare``) is cross-stage: :mod:`ff_neuro.pipeline`.

Float agreement: Lava computes its LIF in float64 and torch in float32 with another summation
order, so a membrane value within float32 rounding of the threshold can fire in one and not the
other (measured: 1 neuron count in 3.1 M over 100 images of the tiny network, docs/results-lava.md).
``exact_grid=True`` (the default) removes that possibility:
:func:`~ff_neuro.hardware.quantize.exact_float_grid` rounds weights, biases and inputs to dyadic
grids (weights typically to 2⁻⁷…2⁻¹², pixels to 2⁻⁸) on which every intermediate value is exact in
float32, and Lava and snnTorch both run that rounded network. The metrics also report the
agreement of Lava with snnTorch on the unrounded network (``unrounded_spike_count_agreement``):
it measures what the rounding changes, not a disagreement between the simulators.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ..data.datasets import Dataset
from ..errors import FFNeuroError
from ..ff.run import open_run
from ..hardware.cost import cost_report
from ..hardware.evaluate import encoded as spec_inputs
from ..hardware.profiles import available_profiles, load_profile
from ..hardware.quantize import LoihiNet, exact_float_grid, float_net, quantize_spec
from ..io import atomic_write_json
from ..runtime import hardware_description
from ..spiking.network import labels_for
from ..spiking.store import run_spec
from .tally import Tally

DEPLOY_METRICS = "deploy_metrics.json"


class DeployError(FFNeuroError):
    pass


def check_profile(prof, fixed_point: bool) -> None:
    if fixed_point and not prof.fixed_point:
        raise DeployError(
            f"profile {prof.name!r} is a float profile: drop --fixed-point or choose loihi / loihi2"
        )
    if fixed_point and not prof.deployable:
        raise DeployError(
            f"profile {prof.name!r} has no Lava fixed-point model (cost estimate only); "
            f"choose one of {[p for p in available_profiles() if load_profile(p).deployable]}"
        )


def lava_net(spec, profile: str, fixed_point: bool, inputs: np.ndarray, exact_grid: bool = False):
    """(spec', net, inputs') for a Lava run: fixed point under ``profile``, or float (optionally on the exact grid)."""
    prof = load_profile(profile)
    check_profile(prof, fixed_point)
    if fixed_point:
        return (
            spec,
            quantize_spec(spec, prof, input_max=max(1.0, float(np.abs(inputs).max()))),
            inputs,
        )
    if exact_grid:
        spec, inputs = exact_float_grid(spec, inputs)
    return spec, float_net(spec, prof.name), inputs


def deploy_run(
    run_dir,
    profile: str = "loihi2",
    samples: int = 100,
    fixed_point: bool = False,
    timesteps: int | None = None,
    goodness: bool = False,
    dataset: Dataset | None = None,
    write: bool = True,
    spec=None,
    seed: int = 0,
    progress=None,
    exact_grid: bool = True,
    backend: str = "fast",
    chunk: int = 500,
    reference_check: int = 0,
    goodness_samples: int | None = None,
    predictions: bool = False,
) -> dict:
    """Deploy ``samples`` test images of a run on Lava; returns (and writes) the deploy metrics.

    The images go through Lava ``chunk`` at a time (one graph per chunk: bounded memory); the network
    (quantisation, exact grid) is fixed once from the input range of all images. ``backend`` picks the
    Conv/LIF models (:mod:`ff_neuro.lava.fast`); ``reference_check`` images are also run on Lava's
    reference models and compared neuron by neuron. ``goodness`` runs the first ``goodness_samples``
    (default all) images under every label. ``progress(done, total)`` counts Lava steps of the whole call.
    Rate encoding draws its spikes per chunk (seed + index of the chunk's first image).
    ``predictions=True`` adds ``predictions``: {"linear": [class per image], "goodness": [...]} (the
    comparison of execution models needs them; they are not written to deploy_metrics.json).
    """
    t_start, load_start = time.perf_counter(), os.getloadavg()[0]
    prof = load_profile(profile)
    check_profile(prof, fixed_point)
    if chunk < 1:
        raise DeployError(f"chunk must be >= 1, got {chunk}")
    if samples < 1:
        raise DeployError(f"--samples must be >= 1, got {samples}")
    run = open_run(run_dir, dataset=dataset)
    spec0, source = (
        (spec, {"saved": None, "given": True}) if spec is not None else run_spec(run, timesteps)
    )
    x, y = run.test_tensors(samples)
    labels = labels_for(spec0)
    n, T, L = len(y), spec0.timesteps, len(spec0.layers)
    starts = range(0, n, chunk)
    x_max = max(
        float(np.abs(spec_inputs(spec0, labels.neutral(x[i : i + chunk]), seed + i)).max())
        for i in starts
    )
    spec, net, _ = lava_net(spec0, prof.name, fixed_point, np.array([x_max]), exact_grid)
    grid = exact_grid and not fixed_point
    n_good = min(n, goodness_samples or n) if goodness else 0
    g_chunk = max(1, chunk // labels.num_classes)
    checked = [
        min(max(reference_check - i, 0), chunk, n - i) for i in starts
    ]  # reference-model images per chunk
    total = (
        sum(T * min(chunk, n - i) + L + 1 for i in starts)
        + sum(T * r + L + 1 for r in checked if r)
        + sum(
            T * labels.num_classes * min(g_chunk, n_good - i) + L + 1
            for i in range(0, n_good, g_chunk)
        )
    )
    tally = Tally(progress, total)
    with ThreadPoolExecutor(1) as pool:  # the reference simulation of a chunk overlaps its Lava run
        for i, r in zip(starts, checked):
            inputs0 = spec_inputs(spec0, labels.neutral(x[i : i + chunk]), seed + i)
            inputs = exact_float_grid(spec0, inputs0)[1] if grid else inputs0
            ref = pool.submit(tally.reference, spec, net, inputs)
            res = tally.lava(net, inputs, readout=not fixed_point, backend=backend)
            yc = y[i : i + chunk].numpy()
            tally.add_linear(spec, net, inputs, yc, res, ref.result())
            if grid:
                tally.add_unrounded(spec0, inputs0, yc, res.counts)
            if r:
                tally.add_reference_backend(net, inputs[:r], [c[:r] for c in res.counts])
        for i in range(0, n_good, g_chunk):
            g_in = spec_inputs(spec0, labels.all_labels(x[i : min(i + g_chunk, n_good)]), seed + i)
            if grid:
                g_in = exact_float_grid(spec0, g_in)[1]
            ref = pool.submit(tally.reference, spec, net, g_in)
            res = tally.lava(net, g_in, readout=False, backend=backend)
            tally.add_goodness(
                spec,
                labels.num_classes,
                y[i : i + g_chunk].numpy()[: n_good - i],
                res.counts,
                ref.result(),
            )
    t = tally
    cost = cost_report(net.layers, prof, {k: v / n for k, v in t.act.items()}, T)
    metrics = {
        "profile": prof.name,
        "fixed_point": bool(fixed_point),
        "samples": n,
        "timesteps": int(T),
        "encoding": spec.encoding,
        "exact_grid": bool(grid),
        "accuracy": {"linear": t.hits / n, "goodness": t.g_hits / n_good if n_good else None},
        "reference_accuracy": {
            "linear": t.ref_hits / n,
            "goodness": t.g_ref_hits / n_good if n_good else None,
        },
        "goodness_samples": n_good,
        "agreement": {
            "spike_count_agreement": t.same / t.pairs,
            "samples_compared": n,
            "reference": "fixed-point integer emulation"
            if fixed_point
            else "snnTorch simulate_spec",
            "identical_samples": t.identical,
            "goodness_spike_count_agreement": t.g_same / t.g_pairs if n_good else None,
            "dense_readout_prediction_agreement": t.readout_same / n if not fixed_point else None,
            "unrounded_spike_count_agreement": t.u_same / t.pairs if grid else None,
            "unrounded_snntorch_acc_linear": t.u_hits / n if grid else None,
        },
        "backend_check": t.backend_check(reference_check),
        "spikes_per_inference": cost["spikes_per_inference"],
        "synops_per_inference": cost["synops_per_inference"],
        "energy_per_inference_j": cost["energy_per_inference_j"],
        "latency_per_inference_s": cost["latency_per_inference_s"],
        "cores_used": cost["cores_used"],
        "fits": cost["fits"],
        "cost": cost,
        "wall_seconds": round(time.perf_counter() - t_start, 3),
        "lava_backend": backend,
        "lava_graphs": t.graphs,
        "chunk_samples": chunk,
        "steps_per_second": t.steps / max(t.run_s, 1e-9),
        "lava_ms_per_step": 1000 * t.run_s / max(t.steps, 1),
        "lava_steps": t.steps,
        "lava_build_seconds": round(t.build_s, 3),
        "reference_sample_steps_per_second": t.ref_samples * T / max(t.ref_s, 1e-9),
        "lava_sample_steps_per_second": t.lava_samples * T / max(t.run_s, 1e-9),
        "quantisation": _quant_summary(net) if fixed_point else None,
        "config_name": spec0.meta.get("config_name"),
        "spike_spec": source,
        "torch_threads": torch.get_num_threads(),
        "hardware": hardware_description(torch.device("cpu")),
        "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],  # 1-min, start/end
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if write:
        atomic_write_json(run.run_dir / DEPLOY_METRICS, metrics)
    if predictions:
        metrics["predictions"] = {k: list(v) for k, v in t.predicted.items()}
    return metrics


class ProgressBar:
    """A tqdm bar over the Lava steps of a deployment: ``progress(done, total)`` for :func:`deploy_run`."""

    def __init__(self, desc: str = "Lava steps", **kwargs):
        self.desc, self.kwargs, self.bar = desc, kwargs, None

    def __call__(self, done: int, total: int) -> None:
        from tqdm.auto import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit="step", smoothing=0.05, **self.kwargs)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _quant_summary(net: LoihiNet) -> dict:
    return {
        "input_scale": net.input_scale,
        "layers": [
            {
                "vth": int(layer.vth),
                "dv": int(layer.dv),
                "du": int(layer.du),
                "bias_exp": int(layer.bias_exp),
                "scale": float(layer.scale),
                "max_abs_weight": int(np.abs(layer.weight).max()),
            }
            for layer in net.layers
        ],
    }
