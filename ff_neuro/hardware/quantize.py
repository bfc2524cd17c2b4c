"""Map a :class:`~ff_neuro.spiking.spec.SpikingNetSpec` onto Lava LIF parameters, float or fixed point.

Float (Lava ``floating_pt``): du = 1, dv = 1 − β, vth = θ, bias_mant = b, weights as they are.

Fixed point (Lava ``fixed_pt`` / Loihi), per layer with scale s (volts of the float model × s = volts
in units of the integer synaptic input ``a_in``):

    w_int = round(s_w · w) clipped to ±(2^(weight_bits−1) − 1),   s_w = (2^(weight_bits−1) − 1) / max|w|
    s     = s_w · s_x            (s_x = input scale of graded layer-0 input, 1 for spikes)
    vth   = round(s · θ)         (< 2^threshold_bits),   dv = round(4096 · (1 − β)),  du = 4095
    bias_mant · 2^bias_exp = round(64 · s · b)   (Lava adds the bias to v, which counts a_in · 2^6)

The scales are lowered when the largest possible input current would overflow u (|a_in| · 2^6 must
stay below 2^(state_bits−1)) or vth its bit width. Graded layer-0 input (current encoding) is sent as
``x_int = round(s_x · x)`` with ``s_x ≤ 2^input_bits − 1`` for x ∈ [0, x_max].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .profiles import HardwareProfile, ProfileError, load_profile

ACT_SHIFT = 6  # Lava/Loihi: a_in and vth are MSB-aligned by 6 bits
DECAY_UNITY = 4096  # 12-bit decays


@dataclass
class LoihiLayer:
    weight: np.ndarray  # (C_out, C_in, kH, kW) torch layout; integer-valued in fixed point
    bias_mant: np.ndarray  # (C_out,)
    bias_exp: int
    vth: float
    dv: float
    du: float
    stride: int
    padding: int
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    scale: float = (
        1.0  # fixed point: v_float ≈ v / (64 · scale)... in a_in units: v_float ≈ v' / scale
    )
    reset: str = "zero"  # after a spike: v ← 0 (Lava's LIFReset) | v ← v − vth (LIFResetSubtract)

    @property
    def neurons(self) -> int:
        return int(np.prod(self.out_shape))


@dataclass
class LoihiNet:
    layers: list[LoihiLayer]
    fixed_point: bool
    timesteps: int
    graded_input: bool  # True: layer 0 receives graded values (current encoding)
    input_scale: float = 1.0  # fixed point: x_int = round(input_scale · x)
    input_max: float = 1.0
    loss_layers: list[int] = field(default_factory=list)
    readout_layers: list[int] = field(default_factory=list)
    head_weight: np.ndarray | None = None
    head_bias: np.ndarray | None = None
    profile: str = "ideal"

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Input as the Lava source sends it: float as is, fixed point as integers."""
        if not self.fixed_point:
            return np.asarray(x, dtype=np.float64)
        if not self.graded_input:
            return np.asarray(x).astype(np.int64)
        q = np.rint(np.clip(np.asarray(x, dtype=np.float64), 0, self.input_max) * self.input_scale)
        return q.astype(np.int64)


def _check_spec(spec) -> None:
    if not spec.layers:
        raise ProfileError("the spiking spec has no layers; export a trained run")
    for i, l in enumerate(spec.layers):
        if not 0.0 <= float(l.beta) <= 1.0:
            raise ProfileError(
                f"layer {i}: beta={l.beta} outside [0, 1] cannot map onto Lava's dv = 1 - beta"
            )
        if float(l.threshold) <= 0:
            raise ProfileError(f"layer {i}: threshold must be positive, got {l.threshold}")


def float_net(spec, profile: str = "ideal") -> LoihiNet:
    """Lava floating_pt parameters of ``spec`` (no quantisation)."""
    _check_spec(spec)
    layers = [
        LoihiLayer(
            np.asarray(l.weight, np.float64),
            np.asarray(l.bias, np.float64),
            0,
            float(l.threshold),
            1.0 - float(l.beta),
            1.0,
            int(l.stride),
            int(l.padding),
            tuple(l.in_shape),
            tuple(l.out_shape),
            reset=str(l.reset),
        )
        for l in spec.layers
    ]
    return LoihiNet(
        layers,
        False,
        int(spec.timesteps),
        spec.encoding == "current",
        1.0,
        1.0,
        list(spec.loss_layers),
        list(spec.readout_layers),
        spec.head_weight,
        spec.head_bias,
        profile,
    )


def max_input_current(w_int: np.ndarray, x_max: float) -> float:
    """Largest |Σ w·x| over inputs x ∈ [0, x_max]: max over output channels of Σ w⁺ or Σ |w⁻|."""
    flat = w_int.reshape(w_int.shape[0], -1).astype(np.float64)
    return float(
        max(np.clip(flat, 0, None).sum(1).max(), (-np.clip(flat, None, 0)).sum(1).max()) * x_max
    )


def quantize_layer(
    layer, prof: HardwareProfile, graded: bool, x_max: float
) -> tuple[LoihiLayer, float]:
    """One spec layer → fixed-point LoihiLayer, and the input scale it chose (1 for spike input)."""
    qmax = 2 ** (prof.weight_bits - 1) - 1
    w = np.asarray(layer.weight, np.float64)
    wmax = float(np.abs(w).max()) or 1.0
    s_w = qmax / wmax
    s_x = float(2**prof.input_bits - 1) / x_max if graded else 1.0
    a_lim = 2 ** (prof.state_bits - 1 - ACT_SHIFT) - 1
    th_lim = 2**prof.threshold_bits - 1
    for _ in range(64):
        w_int = np.clip(np.rint(w * s_w), -qmax, qmax)
        a_max = max_input_current(w_int, x_max * s_x if graded else 1.0)
        vth = round(float(layer.threshold) * s_w * s_x)
        if a_max <= a_lim and vth <= th_lim:
            break
        factor = min(a_lim / max(a_max, 1.0), th_lim / max(vth, 1.0)) * 0.999
        if graded:  # share the reduction between input and weight precision
            s_x, s_w = max(1.0, s_x * factor**0.5), s_w * factor**0.5
        else:
            s_w *= factor
    else:
        raise ProfileError(f"could not fit a layer into {prof.name}'s {prof.state_bits}-bit state")
    s = s_w * s_x
    vth = max(1, round(float(layer.threshold) * s))
    b = np.rint(np.asarray(layer.bias, np.float64) * s * (1 << ACT_SHIFT))
    mant_lim = 2 ** (prof.bias_mant_bits - 1) - 1
    exp = 0
    while np.abs(b).max(initial=0) / 2**exp > mant_lim and exp < 2**prof.bias_exp_bits - 1:
        exp += 1
    mant = np.clip(np.rint(b / 2**exp), -mant_lim - 1, mant_lim)
    dv = int(np.clip(round(DECAY_UNITY * (1.0 - float(layer.beta))), 0, DECAY_UNITY - 1))
    out = LoihiLayer(
        w_int.astype(np.int64),
        mant.astype(np.int64),
        exp,
        vth,
        dv,
        DECAY_UNITY - 1,
        int(layer.stride),
        int(layer.padding),
        tuple(layer.in_shape),
        tuple(layer.out_shape),
        s,
        str(layer.reset),
    )
    return out, s_x


def quantize_spec(
    spec, profile: str | HardwareProfile = "loihi2", input_max: float = 1.0
) -> LoihiNet:
    """Fixed-point Lava parameters of ``spec`` under ``profile`` (float parameters for a float profile)."""
    prof = load_profile(profile)
    if not prof.fixed_point:
        return float_net(spec, prof.name)
    if not prof.deployable:
        raise ProfileError(
            f"profile {prof.name!r} lacks the precision fields Lava's fixed-point models need; "
            f"use it for cost estimates only (or choose loihi / loihi2)"
        )
    _check_spec(spec)
    graded = spec.encoding == "current"
    layers, s_x = [], 1.0
    for i, l in enumerate(spec.layers):
        q, sx = quantize_layer(l, prof, graded and i == 0, input_max)
        layers.append(q)
        if i == 0:
            s_x = sx
    return LoihiNet(
        layers,
        True,
        int(spec.timesteps),
        graded,
        s_x,
        input_max,
        list(spec.loss_layers),
        list(spec.readout_layers),
        spec.head_weight,
        spec.head_bias,
        prof.name,
    )


def exact_float_grid(spec, inputs: np.ndarray, mantissa_bits: int = 24, input_bits: int = 8):
    """(spec', inputs') rounded to dyadic grids on which float32 and float64 arithmetic are exact.

    Graded inputs go to multiples of 2^−input_bits; layer l's weights to multiples of 2^−f_l and its
    bias to 2^−(f_l + f_x), with f_l the largest integer such that every partial sum and membrane
    value, bounded by M_l = T·(max input current + max|b|) + θ, satisfies M_l · 2^(f_l + f_x) < 2^mantissa_bits.
    Every intermediate value is then exactly representable in float32, so Lava's float64 LIF and
    torch's float32 simulation agree bit for bit whatever their summation order (for β = 1; a β < 1
    adds bits at every step and is exact only while the product stays within the mantissa).
    """
    import copy
    import math

    inputs = np.asarray(inputs, np.float64)
    graded = spec.encoding == "current"
    if graded:
        inputs = np.rint(inputs * 2**input_bits) / 2**input_bits
    out = copy.deepcopy(spec)
    T = int(spec.timesteps)
    for i, layer in enumerate(out.layers):
        fx = input_bits if (graded and i == 0) else 0
        xmax = float(np.abs(inputs).max()) if (graded and i == 0) else 1.0
        w = np.asarray(layer.weight, np.float64)
        b = np.asarray(layer.bias, np.float64)
        bound = T * (max_input_current(np.abs(w), xmax) + float(np.abs(b).max(initial=0))) + float(
            layer.threshold
        )
        fw = max(0, mantissa_bits - 1 - fx - math.ceil(math.log2(max(bound, 1e-30))))
        layer.weight = (np.rint(w * 2**fw) / 2**fw).astype(np.float32)
        layer.bias = (np.rint(b * 2 ** (fw + fx)) / 2 ** (fw + fx)).astype(np.float32)
    return out, inputs.astype(np.float32)
