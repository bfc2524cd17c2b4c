"""Integer emulation in torch of Lava's fixed-point Conv + LIF (``fixed_pt``, bit-accurate Loihi).

Per layer and step, with integer weights and inputs (all arithmetic in int64, conv sums exact):

    a   = clamp24(W ∗ s_in)                                  Conv: signed 24-bit wrap (signed_clamp)
    u   = wrap24(trunc0(u · (4096 − (du + 1)) / 2¹²) + a · 2⁶)   wrap into (−2²³, 2²³]
    v   = clip(trunc0(v · (4096 − dv) / 2¹²) + u + bias_mant · 2^bias_exp, ±(2²³ − 1))
    s   = v > vth · 2⁶;   v[s] = 0   (reset "subtract": v[s] −= vth · 2⁶, ``LIFResetSubtract``)

trunc0 rounds toward zero. This is the update of ``PyLifModelBitAcc`` in lava/proc/lif/models.py;
the time shift of Lava's one-step synaptic delay does not change per-window spike counts.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .quantize import ACT_SHIFT, DECAY_UNITY, LoihiNet, max_input_current

MAX_UV = 2**23


def signed_clamp(x: torch.Tensor, bits: int) -> torch.Tensor:
    base = 1 << bits
    lo, hi = torch.aminmax(x) if x.numel() else (x.new_zeros(()), x.new_zeros(()))
    if (
        -(base // 2) <= int(lo) and int(hi) < base // 2
    ):  # nothing to wrap (the usual case): skip the remainder
        return x
    return torch.remainder(x + base // 2, base) - base // 2


def trunc_shift(x: torch.Tensor, shift: int = 12) -> torch.Tensor:
    """sign(x) · (|x| >> shift): a right shift rounding toward zero."""
    return torch.sign(x) * (torch.abs(x) >> shift)


def int_conv(
    x: torch.Tensor, w: torch.Tensor, stride: int, padding: int, exact_f32: bool = False
) -> torch.Tensor:
    """Exact integer conv: float32 when every partial sum stays below 2²⁴ (``exact_f32``), else float64."""
    dt = torch.float32 if exact_f32 else torch.float64
    return torch.round(F.conv2d(x.to(dt), w.to(dt), None, stride, padding)).long()


def lif_fixed_step(u, v, a, layer):
    """One step; the decay products are skipped where they are the identity (du = 4095: the factor is 0;
    dv = 0: the factor is 2¹², and trunc0(v·2¹² / 2¹²) = v), and the wrap where nothing overflows."""
    du_factor, dv_factor = DECAY_UNITY - (int(layer.du) + 1), DECAY_UNITY - int(layer.dv)
    u = (a << ACT_SHIFT) if du_factor == 0 else trunc_shift(u * du_factor) + (a << ACT_SHIFT)
    lo, hi = torch.aminmax(u)
    if int(hi) > MAX_UV:
        u = torch.where(u > MAX_UV, u - 2 * MAX_UV, u)
    if int(lo) <= -MAX_UV:
        u = torch.where(u <= -MAX_UV, u + 2 * MAX_UV, u)
    bias = torch.as_tensor(np.asarray(layer.bias_mant), dtype=torch.long, device=u.device).view(
        1, -1, 1, 1
    )
    bias = bias << int(layer.bias_exp)
    v = ((v if dv_factor == DECAY_UNITY else trunc_shift(v * dv_factor)) + u + bias).clamp_(
        -MAX_UV + 1, MAX_UV - 1
    )
    vth = int(layer.vth) << ACT_SHIFT
    s = v > vth
    if layer.reset == "subtract":
        return u, v.sub_(s.long() * vth), s
    return u, v.masked_fill_(s, 0), s


@torch.no_grad()
def emulate_fixed(
    net: LoihiNet,
    inputs,
    batch: int = 256,
    device: str | torch.device = "cpu",
    max_current: list[int] | None = None,
) -> list[torch.Tensor]:
    """Per-layer spike counts (N, C, H, W) (int64) of ``inputs`` (N, T, C, H, W) under fixed-point ``net``.
    A list passed as ``max_current`` receives each layer's largest |a_in| over all inputs and steps."""
    if not net.fixed_point:
        raise ValueError(
            "emulate_fixed needs a fixed-point net (quantize_spec with a fixed-point profile)"
        )
    x_all = torch.as_tensor(net.encode(np.asarray(inputs)), dtype=torch.long)
    weights = [
        torch.as_tensor(np.asarray(layer.weight), dtype=torch.long, device=device)
        for layer in net.layers
    ]
    xmax = float(x_all.abs().max()) if x_all.numel() else 1.0
    f32 = [
        max_input_current(np.abs(np.asarray(layer.weight)), xmax if l == 0 else 1.0) < 2**24
        for l, layer in enumerate(net.layers)
    ]
    out: list[list[torch.Tensor]] = [[] for _ in net.layers]
    peak = [0] * len(net.layers)
    for i in range(0, x_all.shape[0], batch):
        x = x_all[i : i + batch].to(device)
        n = x.shape[0]
        state = [None] * len(net.layers)
        counts = [
            torch.zeros((n, *layer.out_shape), dtype=torch.long, device=device)
            for layer in net.layers
        ]
        for t in range(net.timesteps):
            s_in = x[:, t]
            for l, layer in enumerate(net.layers):
                a = signed_clamp(
                    int_conv(s_in, weights[l], layer.stride, layer.padding, f32[l]), 24
                )
                if max_current is not None:
                    peak[l] = max(peak[l], int(a.abs().max()))
                if state[l] is None:
                    state[l] = (torch.zeros_like(a), torch.zeros_like(a))
                u, v, s = lif_fixed_step(*state[l], a, layer)
                state[l] = (u, v)
                counts[l] += s
                s_in = s.long()
        for l in range(len(net.layers)):
            out[l].append(counts[l].cpu())
    if max_current is not None:
        max_current[:] = peak
    return [torch.cat(c) for c in out]
