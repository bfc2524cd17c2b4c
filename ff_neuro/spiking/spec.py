"""The hand-over format between the spiking model and its deployments (Lava, NIR, netx).

A :class:`SpikingNetSpec` is plain numpy: per layer a convolution (torch layout) feeding LIF
neurons with, per time step,

    v[t] = beta · v[t−1] + (W ∗ s_in)[t] + bias        (Lava: du = 1, dv = 1 − beta, bias_mant = bias)
    s[t] = v[t] > threshold  (strict);  v[t] = 0 where s[t]     (reset to zero)

Layer 0 receives the encoded input (constant current or Bernoulli spikes of the labelled image);
layer l > 0 receives the spikes of layer l − 1. Any static normalisation is already folded into
``weight`` and ``bias``; the per-sample RMS normalisation of the rate model has no place here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LIFConvSpec:
    weight: np.ndarray          # (C_out, C_in, kH, kW), float32, torch cross-correlation layout
    bias: np.ndarray            # (C_out,) constant input current per step
    stride: int
    padding: int
    beta: float                 # membrane decay per step, 1 = no leak (Lava dv = 1 − beta)
    threshold: float            # strict: spike when v > threshold
    in_shape: tuple[int, int, int]   # (C, H, W)
    out_shape: tuple[int, int, int]


@dataclass
class SpikingNetSpec:
    layers: list[LIFConvSpec]
    timesteps: int
    encoding: str                       # "current" | "rate"
    loss_layers: list[int]
    readout_layers: list[int]
    head_weight: np.ndarray | None = None   # (classes, features) linear head on spike-count features
    head_bias: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
