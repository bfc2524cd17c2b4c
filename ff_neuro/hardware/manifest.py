"""``manifest.json`` + ``manifest.npz``: what a user needs beside an export to run it without ff_neuro.

Input of every sample (image x ∈ [0, 1], shape (C, H, W)), with P = ``label_patterns[c]`` for class c
or ``neutral_pattern`` (their mean) for the linear head:

    x' = minmax((1 − K)·x + K·P),   minmax(z) = (z − min z) / max(max z − min z, 1e-8)   (per sample)
    current encoding: layer-0 input at each of the T steps = x';  rate: Bernoulli(x') per step and pixel
    fixed point (netx, lava): x_int = round(clip(x', 0, input_max) · input_scale), graded

Linear head on the spike counts c_l of the readout layers over the T-step window (the state starts at
rest for every sample):

    r_l = c_l / T,   f = concat_l flatten_CHW(r_l / sqrt(mean(r_l²) + 1e-8)),   logits = W·f + b

Goodness: score(x, c) = Σ_{l ∈ loss layers} λ_l² Σ (c_l / T)² / n_l with x labelled c (n_l = 1 for the
measure "sum", the number of units N_l for "mean"); predicted class = argmax_c.

Neuron reset (``reset``): "zero" (v ← 0 after a spike) or "subtract" (v ← v − threshold), with where
the file carries it (NIR node metadata, the netx neuron type) and which clients run it faithfully. Arrays (float32, no pickles): ``label_patterns`` (classes, H, W), ``neutral_pattern`` (H, W),
``head_weight`` (classes, F), ``head_bias`` (classes,).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..io import atomic_write_bytes, atomic_write_json
from ..spiking.network import labels_for

MANIFEST, ARRAYS = "manifest.json", "manifest.npz"
EPS = 1e-8


def save_npz(path: Path, **arrays) -> Path:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
    return path


def label_arrays(spec) -> dict[str, np.ndarray]:
    pats = labels_for(spec).patterns.numpy().astype(np.float32)
    return {"label_patterns": pats, "neutral_pattern": pats.mean(0)}


def node_names(fmt: str, n_layers: int) -> list[str]:
    """Where layer l's spikes are in the file: NIR node, netx block, or npz key."""
    if fmt == "nir":
        return [f"lif{i}" for i in range(n_layers)]
    if fmt == "netx":
        return [f"layer/{i + 1}" for i in range(n_layers)]
    return [f"layer{i}" for i in range(n_layers)]


SUBTRACT_CLIENTS = {
    "nir": {
        "norse 1.1.0": "ff_neuro.hardware.nir_graph.norse_from_nir(nir.read(path)): norse.torch.from_nir, then "
        "each IF node with metadata reset='subtract' steps with norse's reset_subtract (from_nir's "
        "reset_method reaches CubaLIF only: plain from_nir resets to zero, silently)",
        "snntorch 1.0.0": "ff_neuro.hardware.nir_graph.snntorch_from_nir(nir.read(path)): reads the metadata, "
        "snn.Leaky(reset_mechanism='subtract'); snntorch.utils.reset(module) per sample batch",
        "sinabs 3.1.3": "sinabs.from_nir(nir.read(path), batch_size=N) on (N*T, C, H, W): subtraction is its "
        "native reset; exact with spike_fn = single spike at v > threshold and min_v_mem = None "
        "(ff_neuro.hardware.nir_graph.sinabs_from_nir(..., aligned=True)); as it comes it emits "
        "floor(v/threshold) spikes per step at v >= threshold and floors v at -threshold",
    },
    "netx": {
        "lava-dl 0.6.0": "neuron type CUBA_SUBTRACT (plain lava-dl cannot build it): load inside "
        "ff_neuro.lava.netx_subtract.netx_reset_subtract(): with it, Network(net_config=path, "
        "input_message_bits=24, reset_interval=T, reset_offset=1) builds LIFResetSubtract neurons; "
        "RingBuffer(x_int).s_out -> net.inp; Loihi2SimCfg(select_tag='fixed_pt')"
    },
    "lava": {
        "lava-nc 0.10.0": "ff_neuro.lava.run_lava (LIFResetSubtract, ff_neuro.lava.procs.lif_subtract)"
    },
}
RESET_IN_FILE = {
    "zero": {
        "nir": "IF/LIF v_reset = 0 (NIR >= 1.0.6 semantics), no node metadata",
        "netx": "neuron type CUBA (Lava LIF/LIFReset: reset to zero)",
        "lava": "lava_net.json layers[i].reset",
    },
    "subtract": {
        "nir": "IF/LIF v_reset = 0 plus node metadata {'reset': 'subtract'} and a graph metadata note: "
        "NIR 1.0.8 has no field for the reset mode (PR #63); readers that ignore node metadata "
        "reset to zero",
        "netx": "neuron type CUBA_SUBTRACT with biasExp, unscaled (ff_neuro.lava.netx_subtract)",
        "lava": "lava_net.json layers[i].reset",
    },
}
NEURON = {
    "zero": "per step: v = beta v + W*s_in + b; spike if v > threshold (strict); then v = 0; at most one "
    "spike per step (Lava LIF with du = 1, dv = 1 - beta)",
    "subtract": "per step: v = beta (v - threshold s_prev) + W*s_in + b; spike s if v > threshold (strict); "
    "i.e. v -= threshold after a spike (reset by subtraction, no floor); at most one spike per step "
    "(ff_neuro.lava.procs.lif_subtract.LIFResetSubtract)",
}

CLIENTS = {
    "nir": {
        "norse 1.1.0": "norse.torch.from_nir(nir.read(path)); per step: out, state = module(x_t, state); "
        "spikes of node n in state.cache[n] (exact for IF; norse ignores LIF's r)",
        "snntorch 1.0.0": "ff_neuro.hardware.nir_graph.snntorch_from_nir(nir.read(path)); snntorch.utils.reset(module) "
        "per sample batch (snntorch.import_nir.import_from_nir builds IF as Leaky(beta=0.9), "
        "subtract reset, and crashes)",
        "sinabs 3.1.3": "sinabs.from_nir(nir.read(path), batch_size=N) on (N*T, C, H, W): runs, but its IAF is "
        "multi-spike, subtract reset, v >= threshold: a different neuron",
    },
    "netx": {
        "lava-dl 0.6.0": "lava.lib.dl.netx.hdf5.Network(net_config=path, input_message_bits=24, "
        "reset_interval=T, reset_offset=1); RingBuffer(x_int).s_out -> net.inp; "
        "Loihi2SimCfg(select_tag='fixed_pt')"
    },
    "lava": {
        "lava-nc 0.10.0": "ff_neuro.lava.run_lava, or build Conv + LIF from lava_net.npz / lava_net.json"
    },
}


def manifest(
    spec, fmt: str, profile: str, files: dict, net=None, dataset: str | None = None
) -> dict:
    """The manifest dict (JSON) of an export of ``spec`` in format ``fmt``; ``net`` for fixed point."""
    labels = spec.meta.get("labels", {})
    names = node_names(fmt, len(spec.layers))
    reset = layer_reset(spec)
    fixed = bool(net is not None and net.fixed_point)
    inp = {
        "shape_chw": list(spec.layers[0].in_shape),
        "dataset": dataset,
        "pixel_range": [0.0, 1.0],
        "K": labels.get("K"),
        "label_set": labels.get("set"),
        "num_classes": labels.get("num_classes"),
        "label_mix": "x' = minmax((1 - K) x + K P) per sample; minmax(z) = (z - min z) / max(max z - min z, 1e-8); "
        "P = label_patterns[c], or neutral_pattern for the linear head",
        "encoding_rule": {
            "current": "the same x' at each of the T steps",
            "rate": "Bernoulli(x') per step and pixel",
        }[spec.encoding],
    }
    if fixed:
        inp["fixed_point"] = {
            "input_scale": float(net.input_scale),
            "input_max": float(net.input_max),
            "x_int": "round(clip(x', 0, input_max) * input_scale), sent as graded spikes",
        }
    layers = [
        {
            "node": n,
            "in_shape_chw": list(l.in_shape),
            "out_shape_chw": list(l.out_shape),
            "beta": float(l.beta),
            "threshold": float(l.threshold),
            "act_scale": float(l.act_scale),
            "reset": str(l.reset),
        }
        for n, l in zip(names, spec.layers)
    ]
    return {
        "format": fmt,
        "profile": profile,
        "fixed_point": fixed,
        "files": files,
        "timesteps": int(spec.timesteps),
        "dt": 1.0,
        "encoding": spec.encoding,
        "input": inp,
        "layers": layers,
        "neuron": NEURON[reset] if reset in NEURON else " / ".join(NEURON.values()),
        "reset": {"mode": reset, "in_file": RESET_IN_FILE[_subtract(reset)][fmt]},
        "head": {
            "readout_layers": list(spec.readout_layers),
            "nodes": [names[i] for i in spec.readout_layers],
            "weight": f"{ARRAYS}:head_weight",
            "bias": f"{ARRAYS}:head_bias",
            "eps": EPS,
            "features": "r_l = window spike count / T; f = concat_l flatten_CHW(r_l / sqrt(mean(r_l^2) + eps)); "
            "logits = W f + b; class = argmax",
        },
        "goodness": {
            "loss_layers": list(spec.loss_layers),
            "nodes": [names[i] for i in spec.loss_layers],
            "act_scales": [float(l.act_scale) for l in spec.layers],
            "thresholds": spec.meta.get("goodness_thresholds"),
            "measure": spec.meta.get("goodness_measure", "sum"),
            "score": "sum over loss layers of act_scale^2 * sum (count / T)^2 / n_l for x labelled c, n_l = 1 "
            "(measure sum) or the layer's number of units (measure mean); class = argmax_c",
        },
        "window": {
            "nir": "run T steps from rest for every sample (reset the state between samples)",
            "netx": "samples back to back, sample k at steps kT .. kT+T-1; Lava delays one step per layer, so "
            "layer l (0-based) integrates steps kT+l+1 .. kT+l+T; Network(..., reset_interval=T, "
            "reset_offset=1) resets each layer at the first step of its window; n samples: nT+L+1 steps",
            "lava": "as netx",
        }[fmt],
        "clients": (SUBTRACT_CLIENTS if _subtract(reset) == "subtract" else CLIENTS)[fmt],
    }


def _subtract(reset: str) -> str:
    return "zero" if reset == "zero" else "subtract"


def layer_reset(spec) -> str:
    """The network's reset: "zero", "subtract", or "mixed" (then per layer, ``layers[i].reset``)."""
    resets = {str(layer.reset) for layer in spec.layers}
    return resets.pop() if len(resets) == 1 else "mixed"


def write_manifest(
    out: Path, spec, fmt: str, profile: str, files: dict, net=None, dataset: str | None = None
) -> list[Path]:
    out = Path(out)
    arrays = label_arrays(spec)
    if spec.head_weight is not None:
        arrays.update(
            head_weight=np.asarray(spec.head_weight, np.float32),
            head_bias=np.asarray(spec.head_bias, np.float32),
        )
    npz = save_npz(out / ARRAYS, **arrays)
    js = out / MANIFEST
    atomic_write_json(js, manifest(spec, fmt, profile, {**files, "arrays": ARRAYS}, net, dataset))
    return [js, npz]
