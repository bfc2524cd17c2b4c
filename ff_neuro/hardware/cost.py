"""Resource and cost estimate of a conv LIF network on a hardware profile.

Resources (per layer l with N_l neurons, fan-in F_l = C_in · k², weight bits b):
    cores_l = max(⌈N_l / neurons_per_core⌉, ⌈N_l · F_l · b / synaptic_memory_bits_per_core⌉)
(conv weights are shared in software but every core stores the synapses of its own neurons).
The network fits when Σ cores_l ≤ chips · cores_per_chip and F_l ≤ fan_in_per_core.

Activity, measured from simulated spike counts c_l (N, C, H, W):
    spikes    = Σ_l Σ c_l
    synops    = Σ_l Σ (ones ∗ᵀ c_{l−1}) = every input event times the number of its targets
                (layer-0 events: non-zero input values per step)
    updates   = Σ_l N_l · T
Energy = synops·E_synop + updates·E_update + spikes·E_spike (None when E_synop is unknown; unknown
other terms are left out and listed). Latency = T · time_per_step, else synops / cores · time_per_synop.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .profiles import HardwareProfile, load_profile


@dataclass
class ResourceReport:
    profile: str
    cores_per_layer: list[int | None]
    cores_used: int | None
    cores_available: int | None
    fits: bool
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def layer_geometry(layers) -> list[dict]:
    """Neurons and fan-in per layer of a spec or LoihiNet (anything with weight, out_shape)."""
    out = []
    for layer in layers:
        w = np.asarray(layer.weight)
        out.append(
            {
                "neurons": int(np.prod(layer.out_shape)),
                "fan_in": int(np.prod(w.shape[1:])),
                "synapses": int(np.prod(layer.out_shape)) * int(np.prod(w.shape[1:])),
            }
        )
    return out


def estimate_resources(layers, profile: str | HardwareProfile) -> ResourceReport:
    prof = load_profile(profile)
    geo = layer_geometry(layers)
    reasons: list[str] = []
    per_layer: list[int | None] = []
    for i, g in enumerate(geo):
        if prof.neurons_per_core is None:
            per_layer.append(None)
            continue
        cores = math.ceil(g["neurons"] / prof.neurons_per_core)
        if prof.synaptic_memory_bits_per_core and prof.weight_bits:
            cores = max(
                cores,
                math.ceil(g["synapses"] * prof.weight_bits / prof.synaptic_memory_bits_per_core),
            )
        per_layer.append(cores)
        if prof.fan_in_per_core is not None and g["fan_in"] > prof.fan_in_per_core:
            reasons.append(
                f"layer {i}: fan-in {g['fan_in']} exceeds {prof.fan_in_per_core} inputs per core"
            )
    used = None if any(c is None for c in per_layer) else int(sum(per_layer))
    avail = prof.chips * prof.cores_per_chip if prof.chips and prof.cores_per_chip else None
    if used is not None and avail is not None and used > avail:
        reasons.append(
            f"needs {used} cores, {prof.name} has {avail} ({prof.chips} chip(s) x {prof.cores_per_chip})"
        )
    return ResourceReport(prof.name, per_layer, used, avail, not reasons, reasons)


@torch.no_grad()
def activity(layers, inputs: np.ndarray, counts: list) -> dict:
    """Per-inference spikes, synops and neuron updates (means over samples) from spike counts.

    ``inputs`` (N, T, C, H, W) is the layer-0 input (non-zero entries are input events)."""
    x = torch.as_tensor(np.asarray(inputs))
    n, T = x.shape[0], x.shape[1]
    events = [(x != 0).double().sum(1)] + [
        torch.as_tensor(np.asarray(c)).double() for c in counts[:-1]
    ]
    synops = 0.0
    for layer, ev in zip(layers, events):
        w = np.asarray(layer.weight)
        ones = torch.ones((w.shape[0], w.shape[1], w.shape[2], w.shape[3]), dtype=torch.float64)
        # targets of each input position: the transposed conv of an all-ones output map
        # with stride s the transposed conv gives (out − 1)·s − 2p + k rows; the input may have up to s − 1
        # more (read by the last outputs): output_padding restores them
        k, s, p = w.shape[2], int(layer.stride), int(layer.padding)
        extra = [
            min(s - 1, max(0, layer.in_shape[d] - ((layer.out_shape[d] - 1) * s - 2 * p + k)))
            for d in (1, 2)
        ]
        fan = F.conv_transpose2d(
            torch.ones((1, w.shape[0], *layer.out_shape[1:]), dtype=torch.float64),
            ones[:, :1],
            None,
            s,
            p,
            output_padding=tuple(extra),
        )  # (1, 1, H_in', W_in')
        fan = fan[..., : layer.in_shape[1], : layer.in_shape[2]]
        synops += float((ev * fan).sum())
    spikes = float(sum(torch.as_tensor(np.asarray(c)).double().sum() for c in counts))
    updates = float(sum(int(np.prod(layer.out_shape)) for layer in layers) * T)
    return {
        "spikes_per_inference": spikes / n,
        "synops_per_inference": synops / n,
        "neuron_updates_per_inference": updates,
        "input_events_per_inference": float(events[0].sum()) / n,
    }


def energy_latency(
    act: dict, profile: str | HardwareProfile, timesteps: int, cores_used: int | None
) -> dict:
    prof = load_profile(profile)
    missing = []
    energy = None
    if prof.energy_per_synop_j is not None:
        energy = act["synops_per_inference"] * prof.energy_per_synop_j
        for key, e in (
            ("neuron_updates_per_inference", prof.energy_per_neuron_update_j),
            ("spikes_per_inference", prof.energy_per_spike_j),
        ):
            if e is None:
                missing.append(key.replace("_per_inference", ""))
            else:
                energy += act[key] * e
    if prof.time_per_step_s is not None:
        latency, how = timesteps * prof.time_per_step_s, "timesteps x time_per_step"
    elif prof.time_per_synop_s is not None and cores_used:
        latency, how = (
            act["synops_per_inference"] / cores_used * prof.time_per_synop_s,
            "synops / cores x time_per_synop (perfectly parallel cores: a lower bound)",
        )
    else:
        latency, how = None, "unknown (profile has neither time_per_step nor time_per_synop)"
    return {
        "energy_per_inference_j": energy,
        "energy_terms_missing": missing,
        "latency_per_inference_s": latency,
        "latency_model": how,
    }


def cost_report(layers, profile: str | HardwareProfile, act: dict, timesteps: int) -> dict:
    res = estimate_resources(layers, profile)
    return {**res.to_dict(), **energy_latency(act, profile, timesteps, res.cores_used), **act}
