"""Readouts from spike counts c_l (N, C, H, W) over a window of T steps.

    G_l      = Σ_units (c_l / T)²                    spike-count goodness, threshold on this scale
    score    = Σ_{l ∈ loss layers} λ_l² · G_l / n_l   λ_l = act_scale (rates ≈ activations / λ_l);
                                                     n_l = 1 for measure "sum", N_l (units) for "mean"
    features = concat_l rms_norm(c_l / T)             (the rate model's feature normalisation)

``head_predictions`` and ``goodness_predictions`` apply a spec's head and goodness to counts from any
simulator (snnTorch, Lava, the fixed-point emulation, an export's client), as numpy arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..ff.functional import goodness, rms_norm


def spike_goodness(counts: torch.Tensor, T: int) -> torch.Tensor:
    """(N,) Σ (count/T)² per sample."""
    return goodness(counts.float() / T)


def goodness_score(
    counts: Sequence[torch.Tensor],
    T: int,
    loss_layers: Sequence[int],
    act_scales: Sequence[float],
    measure: str = "sum",
) -> torch.Tensor:
    """(N,) Σ over the loss layers of λ_l² · G_l / n_l: the rate model's goodness score, from counts
    (λ = 1 for a network in spike units; ``measure`` as in ``ff.objective.layer_goodness``)."""

    def per_unit(i: int) -> float:
        return float(counts[i][0].numel()) if measure == "mean" else 1.0

    return sum(act_scales[i] ** 2 * spike_goodness(counts[i], T) / per_unit(i) for i in loss_layers)


def spike_features(
    counts: Sequence[torch.Tensor], T: int, readout_layers: Sequence[int]
) -> torch.Tensor:
    """(N, F) linear-head input: RMS-normalised, flattened firing rates of the readout layers."""
    return torch.cat([rms_norm(counts[i].float() / T).flatten(1) for i in readout_layers], 1)


def head_predictions(spec, counts) -> np.ndarray:
    """Linear-head class predictions of a spec from per-layer spike counts (numpy or torch)."""
    feats = spike_features(
        [torch.as_tensor(np.asarray(c)) for c in counts], spec.timesteps, spec.readout_layers
    )
    w, b = torch.as_tensor(spec.head_weight).float(), torch.as_tensor(spec.head_bias).float()
    return (feats @ w.T + b).argmax(1).numpy()


def goodness_matrix(spec, counts, classes: int) -> torch.Tensor:
    """(N, classes) goodness scores of a spec from the counts of N·classes sample-major labelled inputs
    (image n under label c at row n·classes + c): :func:`goodness_score` with the spec's loss layers,
    act_scales and measure."""
    scales = [float(layer.act_scale) for layer in spec.layers]
    score = goodness_score(
        [torch.as_tensor(np.asarray(c)) for c in counts],
        spec.timesteps,
        spec.loss_layers,
        scales,
        spec.meta.get("goodness_measure", "sum"),
    )
    return score.view(-1, classes)


def goodness_predictions(spec, counts, classes: int) -> np.ndarray:
    """Goodness predictions from counts of N·classes sample-major labelled inputs."""
    return goodness_matrix(spec, counts, classes).argmax(1).numpy()
