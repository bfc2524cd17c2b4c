"""Deploy a trained run on Lava and compare every execution model on the same test images.

``deploy_run``: spiking spec of the run ("static" variant) → Lava graph (float, or fixed point under a
hardware profile) → per-neuron spike counts of N test images (neutral label) → linear-head accuracy,
agreement with the reference simulation (snnTorch for float, the integer emulation for fixed
point), activity and cost under the profile. Writes RUN_DIR/deploy_metrics.json.

``compare_run``: rate model, snnTorch, Lava float and Lava fixed point on the same images, plus the
cost estimate per profile. Writes RUN_DIR/compare.json.

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
import time
from pathlib import Path

import numpy as np
import torch

from ..data.datasets import Dataset, load_dataset
from ..errors import FFNeuroError
from ..hardware.cost import cost_report
from ..hardware.emulate import emulate_fixed
from ..hardware.evaluate import goodness_predictions, head_predictions as predictions
from ..hardware.profiles import available_profiles, load_profile
from ..hardware.quantize import LoihiNet, exact_float_grid, float_net, quantize_spec
from ..io import atomic_write_json
from .graph import run_lava

DEPLOY_METRICS, COMPARE = "deploy_metrics.json", "compare.json"


class DeployError(FFNeuroError):
    pass


def test_images(dataset: Dataset, samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``samples`` test images (N, 1, H, W) in [0, 1] and their labels (the same for every model)."""
    if samples < 1:
        raise DeployError(f"--samples must be >= 1, got {samples}")
    return dataset.test.tensors(samples)


def spec_inputs(spec, x_labelled: torch.Tensor, seed: int = 0) -> np.ndarray:
    """(N, T, C, H, W) encoded layer-0 input of labelled images (seeded for rate encoding)."""
    from ..spiking import spec_input
    return spec_input(spec, x_labelled, torch.Generator().manual_seed(seed)).transpose(0, 1).numpy()


def reference_counts(spec, net: LoihiNet, inputs: np.ndarray) -> tuple[list[np.ndarray], float]:
    """Per-layer counts of the reference model (snnTorch simulate_spec, or the fixed-point emulation)
    and its sample-steps per second."""
    from ..spiking import simulate_spec
    t0 = time.perf_counter()
    if net.fixed_point:
        counts = [c.numpy() for c in emulate_fixed(net, inputs)]
    else:
        x = torch.as_tensor(inputs).transpose(0, 1)
        counts = []
        for i in range(0, x.shape[1], 64):
            trains = simulate_spec(spec, x[:, i:i + 64].contiguous())
            counts.append([s.sum(0).numpy().astype(np.int64) for s in trains])
        counts = [np.concatenate(c) for c in zip(*counts)]
    sec = time.perf_counter() - t0
    return counts, inputs.shape[0] * inputs.shape[1] / max(sec, 1e-9)


def agreement(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """Fraction of (sample, neuron) pairs, over all layers, with identical spike counts."""
    same = sum(int((x == y).sum()) for x, y in zip(a, b))
    return same / sum(x.size for x in a)


def readout_predictions(spec, readout: list[np.ndarray], stats: np.ndarray) -> np.ndarray:
    """Linear-head predictions from the few numbers Lava returns: the Dense readouts R_l = W_l · c_l and
    the per-layer Σ c_l² of the window counters, since W_l · rms_norm(c_l / T) = R_l / (T · sqrt(Σc_l² / (N_l T²) + ε))."""
    from ..ff.functional import EPS
    logits = np.asarray(spec.head_bias, np.float64)[None, :].repeat(len(stats), 0)
    T = spec.timesteps
    for r, l in zip(readout, spec.readout_layers):
        n = float(np.prod(spec.layers[l].out_shape))
        logits = logits + r / T / np.sqrt(stats[:, l, 1] / (n * T * T) + EPS)[:, None]
    return logits.argmax(1)


def run_dataset(run_dir) -> Dataset:
    """The dataset a run was trained on (its config.yaml), with the run's split."""
    from ..config import load_config
    cfg = load_config(Path(run_dir) / "config.yaml")
    return load_dataset(cfg.data.dataset, cfg.data.root, cfg.data.val_size, cfg.data.split_seed)


def load_spec(run_dir, timesteps, dataset):
    from ..spiking import spiking_spec_from_run
    return spiking_spec_from_run(run_dir, timesteps=timesteps, variant="static", dataset=dataset)


def check_profile(prof, fixed_point: bool) -> None:
    if fixed_point and not prof.fixed_point:
        raise DeployError(f"profile {prof.name!r} is a float profile: drop --fixed-point or choose loihi / loihi2")
    if fixed_point and not prof.deployable:
        raise DeployError(f"profile {prof.name!r} has no Lava fixed-point model (cost estimate only); "
                          f"choose one of {[p for p in available_profiles() if load_profile(p).deployable]}")


def lava_net(spec, profile: str, fixed_point: bool, inputs: np.ndarray, exact_grid: bool = False):
    """(spec', net, inputs') for a Lava run: fixed point under ``profile``, or float (optionally on the exact grid)."""
    prof = load_profile(profile)
    check_profile(prof, fixed_point)
    if fixed_point:
        return spec, quantize_spec(spec, prof, input_max=max(1.0, float(np.abs(inputs).max()))), inputs
    if exact_grid:
        spec, inputs = exact_float_grid(spec, inputs)
    return spec, float_net(spec, prof.name), inputs


def deploy_run(run_dir, profile: str = "loihi2", samples: int = 100, fixed_point: bool = False,
               timesteps: int | None = None, goodness: bool = False, dataset: Dataset | None = None,
               write: bool = True, spec=None, seed: int = 0, progress=None, exact_grid: bool = True) -> dict:
    """Deploy ``samples`` test images of a run on Lava; returns (and writes) the deploy metrics."""
    from ..spiking.network import labels_for
    t_start = time.perf_counter()
    run_dir = Path(run_dir)
    prof = load_profile(profile)
    check_profile(prof, fixed_point)
    data = dataset or run_dataset(run_dir)
    if spec is None:
        spec = load_spec(run_dir, timesteps, data)
    cfg_data = spec.meta.get("config_name")
    x, y = test_images(data, samples)
    labels = labels_for(spec)
    inputs = spec_inputs(spec, labels.neutral(x), seed)
    spec0, inputs0 = spec, inputs
    spec, net, inputs = lava_net(spec, prof.name, fixed_point, inputs, exact_grid)
    ref, ref_rate = reference_counts(spec, net, inputs)
    res = run_lava(net, inputs, record_counts=True, readout=not fixed_point, on_chunk=progress,
                   chunk_steps=None if progress is None else 20 * (spec.timesteps + len(spec.layers) + 2))
    pred = predictions(spec, res.counts)
    acc_lin = float((pred == y.numpy()).mean())
    unrounded = acc_unrounded = None
    if exact_grid and not fixed_point:
        ref0 = reference_counts(spec0, float_net(spec0), inputs0)[0]
        unrounded = agreement(res.counts, ref0)
        acc_unrounded = float((predictions(spec0, ref0) == y.numpy()).mean())
    readout_agree = None
    if res.readout is not None:  # the on-Lava Dense readout gives the same predictions from a few numbers
        readout_agree = float((readout_predictions(spec, res.readout, res.stats) == pred).mean())
    acc_good = None
    if goodness:
        g_in = spec_inputs(spec, labels.all_labels(x), seed)
        if exact_grid and not fixed_point:
            g_in = exact_float_grid(spec0, g_in)[1]
        g_res = run_lava(net, g_in, record_counts=True)
        acc_good = float((goodness_predictions(spec, g_res.counts, labels.num_classes) == y.numpy()).mean())
    cost = cost_report(net.layers, prof, _activity(net, inputs, res.counts), spec.timesteps)
    metrics = {
        "profile": prof.name, "fixed_point": bool(fixed_point), "samples": int(len(y)),
        "timesteps": int(spec.timesteps), "encoding": spec.encoding, "exact_grid": bool(exact_grid and not fixed_point),
        "accuracy": {"linear": acc_lin, "goodness": acc_good},
        "agreement": {"spike_count_agreement": agreement(res.counts, ref), "samples_compared": int(len(y)),
                      "reference": "fixed-point integer emulation" if fixed_point else "snnTorch simulate_spec",
                      "identical_samples": int(sum(all((a[k] == b[k]).all() for a, b in zip(res.counts, ref))
                                                   for k in range(len(y)))),
                      "dense_readout_prediction_agreement": readout_agree,
                      "unrounded_spike_count_agreement": unrounded,
                      "unrounded_snntorch_acc_linear": acc_unrounded},
        "spikes_per_inference": cost["spikes_per_inference"], "synops_per_inference": cost["synops_per_inference"],
        "energy_per_inference_j": cost["energy_per_inference_j"],
        "latency_per_inference_s": cost["latency_per_inference_s"],
        "cores_used": cost["cores_used"], "fits": cost["fits"], "cost": cost,
        "wall_seconds": round(time.perf_counter() - t_start, 3),
        "steps_per_second": res.steps / max(res.run_seconds, 1e-9), "lava_ms_per_step": res.ms_per_step,
        "lava_steps": res.steps, "lava_build_seconds": round(res.build_seconds, 3),
        "reference_sample_steps_per_second": ref_rate,
        "lava_sample_steps_per_second": len(y) * spec.timesteps / max(res.run_seconds, 1e-9),
        "quantisation": _quant_summary(net) if fixed_point else None,
        "config_name": cfg_data, "torch_threads": torch.get_num_threads(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if write:
        atomic_write_json(run_dir / DEPLOY_METRICS, metrics)
    return metrics


def _activity(net: LoihiNet, inputs: np.ndarray, counts) -> dict:
    from ..hardware.cost import activity
    return activity(net.layers, inputs, counts)


def _quant_summary(net: LoihiNet) -> dict:
    return {"input_scale": net.input_scale,
            "layers": [{"vth": int(layer.vth), "dv": int(layer.dv), "du": int(layer.du), "bias_exp": int(layer.bias_exp),
                        "scale": float(layer.scale), "max_abs_weight": int(np.abs(layer.weight).max())}
                       for layer in net.layers]}


def compare_run(run_dir, samples: int = 10, profiles: list[str] | None = None, timesteps: int | None = None,
                dataset: Dataset | None = None, fixed_profile: str = "loihi2", goodness: bool = False,
                write: bool = True, exact_grid: bool = False) -> dict:
    """Rate, snnTorch, Lava float and Lava fixed-point accuracy on the same ``samples`` test images,
    and the cost estimate per profile. Returns (and writes) RUN_DIR/compare.json.

    The Lava float row runs the unrounded network (``exact_grid=False``) so that its accuracy is that of
    the trained network; its ``spike_count_agreement`` with snnTorch is reported as measured."""
    from ..ff.trainer import load_run
    from ..spiking import SpikingNetwork
    run_dir = Path(run_dir)
    data = dataset or run_dataset(run_dir)
    x, y = test_images(data, samples)
    yn = y.numpy()
    model, _, _ = load_run(run_dir, device="cpu")
    pg = model.predict_goodness(x)
    rows = [{"model": "rate", "acc_linear": float((model.predict_linear(x).cpu() == y).float().mean()),
             "acc_goodness": None if pg is None else float((pg.cpu() == y).float().mean()), "samples": len(yn)}]
    spec = load_spec(run_dir, timesteps, data)
    snn = SpikingNetwork(spec)
    rows.append({"model": "snntorch", "acc_linear": float((snn.predict_linear(x) == y).float().mean()),
                 "acc_goodness": float((snn.predict_goodness(x) == y).float().mean()), "samples": len(yn)})
    fl = deploy_run(run_dir, fixed_profile, samples, False, timesteps, goodness, data, False, spec,
                    exact_grid=exact_grid)
    fx = deploy_run(run_dir, fixed_profile, samples, True, timesteps, goodness, data, False, spec)
    for name, m in (("lava-float", fl), ("lava-fixed", fx)):
        rows.append({"model": name, "acc_linear": m["accuracy"]["linear"], "acc_goodness": m["accuracy"]["goodness"],
                     "samples": m["samples"], "spike_count_agreement": m["agreement"]["spike_count_agreement"]})
    act = {k: fl["cost"][k] for k in ("spikes_per_inference", "synops_per_inference",
                                      "neuron_updates_per_inference", "input_events_per_inference")}
    costs = {}
    for p in profiles or available_profiles():
        c = cost_report(spec.layers, p, act, spec.timesteps)
        costs[p] = {"energy_per_inference_j": c["energy_per_inference_j"],
                    "latency_per_inference_s": c["latency_per_inference_s"], "cores_used": c["cores_used"],
                    "fits": c["fits"], "reasons": c["reasons"]}
    out = {"rows": rows, "cost_by_profile": costs, "samples": len(yn), "timesteps": spec.timesteps,
           "fixed_profile": fixed_profile, "activity_source": "Lava float run",
           "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    if write:
        atomic_write_json(run_dir / COMPARE, out)
    return out
