"""The learning layer's input: spike rasters of the frozen converted layers, for labelled images.

For a labelled image x' (FourierLabels, the run's label set) the frozen layers 0 … L of the run's
spiking spec ("static" variant, reset by subtraction) produce per step the spikes pre(t) of layer L,
flattened in torch (C, H, W) order:

    fixed point: the integer emulation of Lava's fixed_pt Conv + LIFResetSubtract
                 (``ff_neuro.hardware.emulate``, bit-identical to Lava: docs/RESULTS.md section 3)
    float:       the snnTorch-semantics simulation (``simulate_layers``)
    rate:        r_L = relu1(W_L ∗ r_{L−1} + b_L) / θ_L: the rate model in spike units (no raster)

Training windows come in pairs per image: the true label (s = +1) then a uniformly drawn wrong label
(s = −1), seeded.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ..hardware.emulate import ConstantDrive, signed_clamp
from ..hardware.quantize import LoihiNet


class Frozen(NamedTuple):
    """The frozen part: the spec, its Lava parameters (``net``: fixed point or float) and layer
    L."""

    spec: object
    net: LoihiNet
    layer: int

    @property
    def fixed_point(self) -> bool:
        return bool(self.net.fixed_point)

    @property
    def pre_size(self) -> int:
        return int(np.prod(self.spec.layers[self.layer].out_shape))

    @property
    def timesteps(self) -> int:
        return int(self.spec.timesteps)


class Windows(NamedTuple):
    """Training windows: image index into the split, label and sign (+1 / −1) per window."""

    image: np.ndarray
    label: np.ndarray
    sign: np.ndarray


def training_windows(y: np.ndarray, samples: int, num_classes: int, seed: int = 0) -> Windows:
    """2·samples windows: images in a seeded random order, each as positive then negative. Beyond
    len(y) samples the set is passed again (an epoch), each pass in a fresh seeded order."""
    rng = np.random.default_rng(seed)
    passes = [rng.permutation(len(y))]
    for e in range(1, -(-samples // len(y))):
        passes.append(np.random.default_rng([seed, e]).permutation(len(y)))
    order = np.concatenate(passes)[:samples]
    neg = (y[order] + rng.integers(1, num_classes, samples)) % num_classes
    image = np.repeat(order, 2)
    label = np.stack([y[order], neg], 1).reshape(-1)
    sign = np.tile(np.array([1, -1], dtype=np.int64), samples)
    return Windows(image, label.astype(np.int64), sign)


@torch.no_grad()
def rasters(frozen: Frozen, x_labelled: torch.Tensor) -> torch.Tensor:
    """(N, T, N_pre) uint8 spikes of layer L for labelled images (N, 1, H, W) in [0, 1]."""
    if frozen.fixed_point:
        return _fixed_rasters(frozen, x_labelled)
    from ..spiking.network import torch_layers
    from ..spiking.simulate import simulate_layers

    T = frozen.timesteps
    inputs = x_labelled.float().unsqueeze(0).expand(T, *x_labelled.shape)  # current encoding
    out = simulate_layers(torch_layers(frozen.spec)[: frozen.layer + 1], inputs)[-1]
    return out.flatten(2).transpose(0, 1).to(torch.uint8).contiguous()


def _fixed_rasters(
    frozen: Frozen, x_labelled: torch.Tensor, closed_form: bool = True
) -> torch.Tensor:
    net, L, T = frozen.net, frozen.layer, frozen.timesteps
    x = torch.as_tensor(net.encode(x_labelled.numpy()), dtype=torch.long)
    layers = net.layers[: L + 1]
    drive = ConstantDrive(layers, x)
    if closed_form and L == 0 and _constant_if(layers[0]):
        return _if_raster(signed_clamp(drive.a0.long(), 24), layers[0], T)
    out = torch.empty((x.shape[0], T, frozen.pre_size), dtype=torch.uint8)
    for t in range(T):
        out[:, t] = drive.step()[-1].flatten(1).to(torch.uint8)
    return out


def _constant_if(layer) -> bool:
    """Integrate-and-fire with reset by subtraction: no current memory, no leak."""
    return int(layer.du) == 4095 and int(layer.dv) == 0 and layer.reset == "subtract"


def _if_raster(a: torch.Tensor, layer, T: int) -> torch.Tensor:
    """The fixed-point IF neuron under a constant input a (N, C, H, W), in int32 without the clip.

    With I = wrap24(a·2⁶) + bias_mant·2^bias_exp and θ = vth·2⁶: v += I; s = v > θ; v −= θ·s. The
    emulation's clip to ±(2²³ − 1) cannot change a spike: for 0 < I ≤ θ, v stays in (0, θ + I];
    for I > θ the neuron spikes every step, clipped or not; for I ≤ 0 it never spikes. |v| ≤ T·|I|
    < 2³¹. Equal to the step-by-step emulation (tests/onchip/test_features.py)."""
    m = 2**23
    u = a << 6
    u = torch.where(u > m, u - 2 * m, u)
    u = torch.where(u <= -m, u + 2 * m, u)
    bias = torch.as_tensor(np.asarray(layer.bias_mant), dtype=torch.long).view(1, -1, 1, 1)
    cur = (u + (bias << int(layer.bias_exp))).flatten(1).to(torch.int32)  # (N, n)
    theta = int(layer.vth) << 6
    v = torch.zeros_like(cur)
    out = torch.empty((cur.shape[0], T, cur.shape[1]), dtype=torch.uint8)
    for t in range(T):
        v += cur
        s = v > theta
        v -= s.to(torch.int32) * theta
        out[:, t] = s
    return out


@torch.no_grad()
def rates(frozen: Frozen, x_labelled: torch.Tensor) -> torch.Tensor:
    """(N, N_pre) float64 rate-model activations of layer L in spike units (the T → ∞ limit)."""
    r = x_labelled.double()
    for lay in frozen.spec.layers[: frozen.layer + 1]:
        z = F.conv2d(
            r,
            torch.as_tensor(lay.weight, dtype=torch.float64),
            torch.as_tensor(lay.bias, dtype=torch.float64),
            int(lay.stride),
            int(lay.padding),
        )
        r = (z / float(lay.threshold)).clamp(0.0, 1.0)
    return r.flatten(1)
