"""Fixed-point accuracy without Lava: the integer emulation on a whole test split, beside float snnTorch.

Both run the same deployable spec ("static" variant) on the same neutral-label inputs; predictions
come from the run's linear head on ``spike_features`` (RMS-normalised window rates), and, for
goodness, from ``goodness_score`` of every image under every label.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ..spiking.network import SpikingNetwork, labels_for, spec_input
from ..spiking.readout import goodness_predictions, head_predictions  # noqa: F401  (re-exported)
from .emulate import emulate_fixed
from .profiles import load_profile
from .quantize import quantize_spec


def encoded(spec, x_labelled: torch.Tensor, seed: int = 0) -> np.ndarray:
    return spec_input(spec, x_labelled, torch.Generator().manual_seed(seed)).transpose(0, 1).numpy()


@torch.no_grad()
def fixed_point_accuracy(
    spec,
    x: torch.Tensor,
    y: torch.Tensor,
    profile: str = "loihi2",
    batch: int = 100,
    goodness: bool = False,
) -> dict:
    """Linear (and optionally goodness) accuracy of float snnTorch and of the fixed-point emulation of ``spec``
    on images ``x`` (N, 1, H, W) in [0, 1] with labels ``y``."""
    prof = load_profile(profile)
    net = quantize_spec(spec, prof)
    snn = SpikingNetwork(spec)
    labels = labels_for(spec)
    hit_f = hit_q = hit_fg = hit_qg = 0
    t_float = t_fixed = 0.0
    for i in range(0, len(y), batch):
        xb, yb = x[i : i + batch], y[i : i + batch].numpy()
        t0 = time.perf_counter()
        hit_f += int((snn.predict_linear(xb).numpy() == yb).sum())
        if goodness:
            hit_fg += int((snn.predict_goodness(xb).numpy() == yb).sum())
        t1 = time.perf_counter()
        hit_q += int(
            (
                head_predictions(spec, emulate_fixed(net, encoded(spec, labels.neutral(xb)))) == yb
            ).sum()
        )
        if goodness:
            counts = emulate_fixed(net, encoded(spec, labels.all_labels(xb)))
            hit_qg += int((goodness_predictions(spec, counts, labels.num_classes) == yb).sum())
        t_fixed += time.perf_counter() - t1
        t_float += t1 - t0
    n = len(y)
    return {
        "profile": prof.name,
        "samples": n,
        "timesteps": spec.timesteps,
        "float_acc_linear": hit_f / n,
        "fixed_acc_linear": hit_q / n,
        "float_acc_goodness": hit_fg / n if goodness else None,
        "fixed_acc_goodness": hit_qg / n if goodness else None,
        "delta_linear_pp": 100.0 * (hit_q - hit_f) / n,
        "float_seconds": round(t_float, 2),
        "fixed_emulation_seconds": round(t_fixed, 2),
        "input_scale": net.input_scale,
    }
