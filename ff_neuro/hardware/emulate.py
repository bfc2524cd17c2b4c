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


# |a| below this: a·2⁶ < 2²³ (no wrap) and every sum of the step exact in float32
F32_A_LIMIT = 2**17


def _bias(layer) -> np.ndarray:
    return np.asarray(layer.bias_mant, np.int64).reshape(-1) << int(layer.bias_exp)


def f32_exact_layer(layer) -> bool:
    """Whether :func:`if_step_f32` applies: an integrate-and-fire layer (du = 4095: u = a·2⁶, no
    current memory; dv = 0: no leak) whose bias magnitudes stay below 2²³."""
    return (
        int(layer.du) + 1 == DECAY_UNITY
        and int(layer.dv) == 0
        and bool(np.all(np.abs(_bias(layer)) < MAX_UV))
    )


def if_step_f32(
    v: torch.Tensor, a: torch.Tensor, layer, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """:func:`lif_fixed_step` of a :func:`f32_exact_layer` in float32, in place on ``v``; returns the
    spikes (bool). Bit-identical to the int64 step when every |a| < :data:`F32_A_LIMIT` (the caller
    checks): a·2⁶ < 2²³ needs no wrap; |v| ≤ 2²³ − 1, so v + a·2⁶ is an integer below 2²⁴ (exact);
    adding the bias rounds only beyond ±2²⁴, where the clip to ±(2²³ − 1) gives the same value either
    way (rounding is monotonic); the reset subtracts vth·2⁶ from a value above it. ``bias``: the
    layer's bias_mant·2^bias_exp as a (1, C, 1, 1) float32 tensor, or None where it is all zero."""
    v.add_(a, alpha=float(1 << ACT_SHIFT))
    if bias is not None:
        v.add_(bias)
    v.clamp_(-MAX_UV + 1, MAX_UV - 1)
    vth = float(int(layer.vth) << ACT_SHIFT)
    s = v > vth
    if layer.reset == "subtract":
        v.sub_(s.to(v.dtype), alpha=vth)
    else:
        v.masked_fill_(s, 0.0)
    return s


class FixedLayer:
    """One fixed-point conv + neuron layer stepped in time, with its state: ``current(s_in)`` is the
    clamped conv input a, ``step(a)`` the neuron update, returning the spikes (bool).

    Integrate-and-fire layers (:func:`f32_exact_layer`) whose conv sums stay below 2²⁴ (``x_max``:
    the largest input magnitude) run in float32 (:func:`if_step_f32`), 2–3× fewer bytes than int64;
    a step with some |a| ≥ :data:`F32_A_LIMIT` takes the int64 step instead. Either way the spikes
    and states are those of :func:`lif_fixed_step` bit for bit (tests/hardware/test_quantize_emulate.py).
    ``fast=False`` forces the int64 path."""

    def __init__(self, layer, x_max: float, fast: bool = True, device=None):
        w = np.asarray(layer.weight)
        self.layer = layer
        self.f32_conv = max_input_current(np.abs(w), x_max) < 2**24
        self.fast = fast and self.f32_conv and f32_exact_layer(layer)
        dtype = torch.float32 if self.fast else torch.long
        self.w = torch.as_tensor(w, dtype=dtype, device=device)
        b = _bias(layer)  # the float32 step's bias, built once
        self.bias = (
            torch.as_tensor(b.astype(np.float32), device=device).view(1, -1, 1, 1)
            if self.fast and b.any()
            else None
        )
        self.state: tuple[torch.Tensor, torch.Tensor] | torch.Tensor | None = None

    def reset(self) -> None:
        """Back to rest (v = 0), for the next batch of windows."""
        self.state = None

    def current(self, s_in: torch.Tensor) -> torch.Tensor:
        la = self.layer
        if self.fast:  # exact integers in float32 (the wrap at 24 bits is left to step)
            return torch.round(F.conv2d(s_in.float(), self.w, None, la.stride, la.padding))
        return signed_clamp(int_conv(s_in.long(), self.w, la.stride, la.padding, self.f32_conv), 24)

    def step(self, a: torch.Tensor) -> torch.Tensor:
        if not self.fast:
            if self.state is None:
                self.state = (torch.zeros_like(a), torch.zeros_like(a))
            u, v, s = lif_fixed_step(*self.state, a, self.layer)
            self.state = (u, v)
            return s
        if self.state is None:
            self.state = torch.zeros_like(a)
        lo, hi = torch.aminmax(a) if a.numel() else (a.new_zeros(()), a.new_zeros(()))
        if -F32_A_LIMIT < float(lo) and float(hi) < F32_A_LIMIT:
            return if_step_f32(self.state, a, self.layer, self.bias)
        v = self.state.long()  # rare: the exact int64 step (u is not carried: du = 4095)
        _, v, s = lif_fixed_step(v, v, signed_clamp(a.long(), 24), self.layer)
        self.state = v.float()
        return s


class ConstantDrive:
    """A stack of :class:`FixedLayer` s under a constant input (current encoding: the same integer
    image x at every step): the layer-0 current a₀ = W₀ ∗ x is computed once (``a0``), and each
    :meth:`step` advances every layer by one time step, returning their spikes (bool), bottom up."""

    def __init__(self, layers, x: torch.Tensor):
        xmax = float(x.abs().max()) if x.numel() else 1.0
        self.sims = [FixedLayer(la, xmax if i == 0 else 1.0) for i, la in enumerate(layers)]
        self.a0 = self.sims[0].current(x)

    def step(self) -> list[torch.Tensor]:
        out, s = [], None
        for i, sim in enumerate(self.sims):
            s = sim.step(self.a0 if i == 0 else sim.current(s))  # s: the layer below's spikes
            out.append(s)
        return out


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
    xmax = float(x_all.abs().max()) if x_all.numel() else 1.0
    out: list[list[torch.Tensor]] = [[] for _ in net.layers]
    peak = [0] * len(net.layers)
    layers = [
        FixedLayer(layer, xmax if l == 0 else 1.0, device=device)
        for l, layer in enumerate(net.layers)
    ]
    for i in range(0, x_all.shape[0], batch):
        x = x_all[i : i + batch].to(device)
        n = x.shape[0]
        for layer in layers:
            layer.reset()
        counts = [
            torch.zeros((n, *layer.out_shape), dtype=torch.long, device=device)
            for layer in net.layers
        ]
        for t in range(net.timesteps):
            s_in = x[:, t]
            for l, layer in enumerate(layers):
                a = layer.current(s_in)
                if max_current is not None:
                    peak[l] = max(peak[l], int(signed_clamp(a.long(), 24).abs().max()))
                s_in = layer.step(a)
                counts[l] += s_in
        for l in range(len(net.layers)):
            out[l].append(counts[l].cpu())
    if max_current is not None:
        max_current[:] = peak
    return [torch.cat(c) for c in out]
