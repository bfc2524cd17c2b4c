"""Fixed-point accuracy without Lava: the integer emulation on a whole test split, beside float snnTorch.

Both run the same deployable spec ("static" variant) on the same neutral-label inputs; predictions
come from the run's linear head on ``spike_features`` (RMS-normalised window rates), and, for
goodness, from ``goodness_score`` of every image under every label.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .emulate import emulate_fixed
from .profiles import load_profile
from .quantize import quantize_spec


def head_predictions(spec, counts) -> np.ndarray:
    """Linear-head class predictions from per-layer spike counts."""
    from ..spiking import spike_features
    feats = spike_features([torch.as_tensor(np.asarray(c)) for c in counts], spec.timesteps, spec.readout_layers)
    w, b = torch.as_tensor(spec.head_weight).float(), torch.as_tensor(spec.head_bias).float()
    return (feats @ w.T + b).argmax(1).numpy()


def goodness_predictions(spec, counts, classes: int) -> np.ndarray:
    """Goodness predictions from counts of N·classes sample-major labelled inputs."""
    from ..spiking import goodness_score
    scales = [float(getattr(layer, "act_scale", 1.0)) for layer in spec.layers]
    score = goodness_score([torch.as_tensor(np.asarray(c)) for c in counts], spec.timesteps, spec.loss_layers, scales,
                           spec.meta.get("goodness_measure", "sum"))
    return score.view(-1, classes).argmax(1).numpy()


def encoded(spec, x_labelled: torch.Tensor, seed: int = 0) -> np.ndarray:
    from ..spiking import spec_input
    return spec_input(spec, x_labelled, torch.Generator().manual_seed(seed)).transpose(0, 1).numpy()


@torch.no_grad()
def fixed_point_accuracy(spec, x: torch.Tensor, y: torch.Tensor, profile: str = "loihi2", batch: int = 100,
                         goodness: bool = False) -> dict:
    """Linear (and optionally goodness) accuracy of float snnTorch and of the fixed-point emulation of ``spec``
    on images ``x`` (N, 1, H, W) in [0, 1] with labels ``y``."""
    from ..spiking.network import SpikingNetwork, labels_for
    prof = load_profile(profile)
    net = quantize_spec(spec, prof)
    snn = SpikingNetwork(spec)
    labels = labels_for(spec)
    hit_f = hit_q = hit_fg = hit_qg = 0
    t_float = t_fixed = 0.0
    for i in range(0, len(y), batch):
        xb, yb = x[i:i + batch], y[i:i + batch].numpy()
        t0 = time.perf_counter()
        hit_f += int((snn.predict_linear(xb).numpy() == yb).sum())
        if goodness:
            hit_fg += int((snn.predict_goodness(xb).numpy() == yb).sum())
        t1 = time.perf_counter()
        hit_q += int((head_predictions(spec, emulate_fixed(net, encoded(spec, labels.neutral(xb)))) == yb).sum())
        if goodness:
            counts = emulate_fixed(net, encoded(spec, labels.all_labels(xb)))
            hit_qg += int((goodness_predictions(spec, counts, labels.num_classes) == yb).sum())
        t_fixed += time.perf_counter() - t1
        t_float += t1 - t0
    n = len(y)
    return {"profile": prof.name, "samples": n, "timesteps": spec.timesteps,
            "float_acc_linear": hit_f / n, "fixed_acc_linear": hit_q / n,
            "float_acc_goodness": hit_fg / n if goodness else None,
            "fixed_acc_goodness": hit_qg / n if goodness else None,
            "delta_linear_pp": 100.0 * (hit_q - hit_f) / n,
            "float_seconds": round(t_float, 2), "fixed_emulation_seconds": round(t_fixed, 2),
            "input_scale": net.input_scale}
