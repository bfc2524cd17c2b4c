"""Multi-step simulation of a stack of conv → LIF layers.

Layer l receives the (T, B, C, H, W) output of layer l − 1 (for l = 0 the encoded input) and
computes, for all T steps at once,

    I_l[t] = g_l · (W_l ∗ s_{l−1}[t]) + b_l                    (one conv call on T·B images;
                                                                 one on B for a constant input)
    s_l    = lif_scan(I_l, beta_l, threshold_l)                 (the LIF recurrence over t)

with g_l = 1 for a static layer, and for a layer with ``rms_input`` (the "exact" simulation-only
variant) the per-sample gain g_l = 1 / sqrt(mean_units(r_{l−1}²) + ε), r_{l−1} = Σ_t s_{l−1}[t] / T:
the rate model's RMS normalisation applied to the firing rates of the whole window (non-causal, so
the network is simulated layer by layer).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..ff.functional import EPS
from .lif import LIFParams, SpikeFn, heaviside, lif_scan


def rms_gain(inputs: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """(B,) gain 1/sqrt(mean(r²) + ε) of the window rates r = mean_t inputs, per sample."""
    r = inputs.mean(0).flatten(1)
    return torch.rsqrt(r.pow(2).mean(1) + eps)


def layer_currents(
    inputs: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: int,
    padding: int,
    gain: torch.Tensor | None = None,
) -> torch.Tensor:
    """(T, B, C', H', W') input currents: one conv over the T·B flattened steps, gain, then bias."""
    T, B = inputs.shape[:2]
    if T > 1 and inputs.stride(0) == 0:  # constant over time (current encoding): one conv, repeated
        return layer_currents(inputs[:1].contiguous(), weight, bias, stride, padding, gain).expand(
            T, -1, -1, -1, -1
        )
    fused = bias if gain is None else None
    z = F.conv2d(inputs.reshape(T * B, *inputs.shape[2:]), weight, fused, stride, padding)
    z = z.view(T, B, *z.shape[1:])
    if gain is not None:
        z = z * gain.view(1, B, 1, 1, 1)
        if bias is not None:
            z = z + bias.view(1, 1, -1, 1, 1)
    return z


def simulate_layer(
    inputs: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: int,
    padding: int,
    p: LIFParams,
    rms_input: bool = False,
    spike_fn: SpikeFn = heaviside,
) -> torch.Tensor:
    """Spike trains (T, B, C', H', W') of one conv → LIF layer driven by ``inputs`` (T, B, C, H, W).

    The spike trains have the inputs' dtype: under bf16 autocast only the conv is bf16, and its
    currents are cast back before the membrane recurrence."""
    gain = rms_gain(inputs) if rms_input else None
    currents = layer_currents(inputs, weight, bias, stride, padding, gain).to(inputs.dtype)
    return lif_scan(currents, p, spike_fn)


def simulate_layers(layers: Sequence[dict], inputs: torch.Tensor) -> list[torch.Tensor]:
    """Spike trains of every layer; ``layers`` holds dicts with the arguments of :func:`simulate_layer`."""
    out, x = [], inputs
    for layer in layers:
        x = simulate_layer(x, **layer)
        out.append(x)
    return out
