"""Fixed-point mapping and the integer emulation of Lava's fixed-point LIF (exact numbers)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ff_neuro.hardware.emulate import emulate_fixed, lif_fixed_step, trunc_shift
from ff_neuro.hardware.profiles import ProfileError
from ff_neuro.hardware.quantize import (
    LoihiLayer,
    LoihiNet,
    exact_float_grid,
    float_net,
    max_input_current,
    quantize_spec,
)
from ff_neuro.spiking.spec import LIFConvSpec, SpikingNetSpec


def one_neuron(weight, vth, dv=0, bias_mant=0, bias_exp=0, T=8):
    layer = LoihiLayer(
        np.array([[[[weight]]]]),
        np.array([bias_mant]),
        bias_exp,
        vth,
        dv,
        4095,
        1,
        0,
        (1, 1, 1),
        (1, 1, 1),
    )
    return LoihiNet([layer], True, T, False)


def test_trunc_shift_rounds_toward_zero():
    x = torch.tensor([-8193, -4096, -4095, 0, 4095, 4096, 8193])
    assert trunc_shift(x).tolist() == [-2, -1, 0, 0, 0, 1, 2]


def test_integrator_without_leak_spikes_every_fourth_step():
    # a = 3 per step → u = 192, v = 192·k; spike when v > 10·64 = 640 → k = 4, then v = 0
    counts = emulate_fixed(one_neuron(3, 10), np.ones((1, 8, 1, 1, 1)))
    assert counts[0].item() == 2


def test_leak_and_bias_follow_lava_formulas():
    layer = one_neuron(3, 10, dv=2048, bias_mant=5, bias_exp=2).layers[0]
    u = v = torch.zeros(1, 1, 1, 1, dtype=torch.long)
    trace = []
    for _ in range(3):
        u, v, s = lif_fixed_step(u, v, torch.full_like(u, 3), layer)
        trace.append(int(v))
    # v ← trunc0(v·2048 >> 12) + 192 + 20
    assert trace == [212, 106 + 212, 159 + 212]


def test_float_net_maps_beta_threshold_bias():
    spec = SpikingNetSpec(
        [
            LIFConvSpec(
                np.ones((2, 1, 3, 3), np.float32),
                np.array([0.1, -0.2], np.float32),
                1,
                1,
                0.75,
                1.5,
                (1, 4, 4),
                (2, 4, 4),
            )
        ],
        4,
        "current",
        [0],
        [0],
    )
    layer = float_net(spec).layers[0]
    assert (layer.du, layer.dv, layer.vth) == (1.0, 0.25, 1.5)
    np.testing.assert_allclose(layer.bias_mant, [0.1, -0.2], rtol=1e-6)


def test_quantize_respects_every_bit_width(rng):
    spec = SpikingNetSpec(
        [
            LIFConvSpec(
                rng.normal(0, 1, (8, 1, 5, 5)).astype(np.float32),
                rng.normal(0, 0.3, 8).astype(np.float32),
                1,
                2,
                0.9,
                1.0,
                (1, 8, 8),
                (8, 8, 8),
            ),
            LIFConvSpec(
                rng.normal(0, 1, (8, 8, 5, 5)).astype(np.float32),
                rng.normal(0, 0.3, 8).astype(np.float32),
                1,
                2,
                1.0,
                1.0,
                (8, 8, 8),
                (8, 8, 8),
            ),
        ],
        4,
        "current",
        [1],
        [1],
    )
    net = quantize_spec(spec, "loihi")
    for i, layer in enumerate(net.layers):
        assert np.abs(layer.weight).max() <= 127 and layer.weight.dtype == np.int64
        assert (
            1 <= layer.vth < 2**17
            and 0 <= layer.bias_exp <= 7
            and np.abs(layer.bias_mant).max() < 2**12
        )
        xmax = net.input_scale if i == 0 else 1.0
        assert max_input_current(layer.weight, xmax) * 64 < 2**23
        # the fixed-point threshold is the float one on the weights' scale, rounded
        assert abs(layer.vth - layer.scale * 1.0) <= 0.5
    assert (
        net.layers[0].dv == round(4096 * 0.1) and net.layers[1].dv == 0 and net.layers[0].du == 4095
    )
    assert net.encode(np.array([0.0, 0.5, 1.0, 2.0])).tolist() == [
        0,
        round(0.5 * net.input_scale),
        round(net.input_scale),
        round(net.input_scale),
    ]


def test_cost_only_profile_cannot_quantise():
    spec = SpikingNetSpec(
        [LIFConvSpec(np.ones((1, 1, 1, 1)), np.zeros(1), 1, 0, 1.0, 1.0, (1, 2, 2), (1, 2, 2))],
        2,
        "current",
        [0],
        [0],
    )
    with pytest.raises(ProfileError, match="cost estimates only"):
        quantize_spec(spec, "truenorth")
    assert not quantize_spec(spec, "ideal").fixed_point


def test_exact_float_grid_makes_float32_and_float64_agree(rng):
    spec = SpikingNetSpec(
        [
            LIFConvSpec(
                rng.normal(0, 1, (4, 1, 3, 3)).astype(np.float32),
                rng.normal(0, 0.1, 4).astype(np.float32),
                1,
                1,
                1.0,
                1.0,
                (1, 6, 6),
                (4, 6, 6),
            )
        ],
        5,
        "current",
        [0],
        [0],
    )
    x = rng.random((3, 5, 1, 6, 6))
    g, xg = exact_float_grid(spec, x)
    w = g.layers[0].weight.astype(np.float64)
    assert np.abs(w - spec.layers[0].weight).max() <= 2**-9 and np.all(
        w * 2**9 == np.rint(w * 2**9)
    )
    assert np.all(xg * 256 == np.rint(xg * 256))
    w32 = torch.as_tensor(g.layers[0].weight)
    a32 = torch.nn.functional.conv2d(torch.as_tensor(xg[:, 0]), w32, padding=1)
    a64 = torch.nn.functional.conv2d(torch.as_tensor(xg[:, 0]).double(), w32.double(), padding=1)
    assert torch.equal(a32.double(), a64)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("scale", [1, 300, 0], ids=["small", "fallback", "wrap"])
def test_float32_path_is_the_int64_step_bit_for_bit(reset, scale):
    """FixedLayer's float32 path for IF layers equals lif_fixed_step: small currents (float32
    throughout), currents beyond 2¹⁷ (the int64 step on those steps), beyond 2²³ (the 24-bit wrap),
    per-channel biases and the clip at ±(2²³ − 1), on spike inputs and on integer inputs."""
    from ff_neuro.hardware.emulate import F32_A_LIMIT, FixedLayer, signed_clamp

    rng = np.random.default_rng(scale)
    w = rng.integers(-127, 128, (6, 4, 3, 3)) * max(scale, 1)
    if (
        scale == 0
    ):  # channel 0 sums to 16.2 M < 2²⁴ (the conv stays exact in float32), > 2²³ (wraps)
        w[0] = 450_000
    bias = rng.integers(-2000, 2000, 6)
    layer = LoihiLayer(w, bias, 3, 500, 0, 4095, 1, 1, (4, 7, 7), (6, 7, 7), reset=reset)
    x = torch.as_tensor(rng.random((5, 16, 4, 7, 7)) < 0.7)
    fast, exact = FixedLayer(layer, 1.0), FixedLayer(layer, 1.0, fast=False)
    assert fast.fast and not exact.fast
    big, wrapped = False, False
    for t in range(16):
        a_fast, a_exact = fast.current(x[:, t]), exact.current(x[:, t])
        assert torch.equal(signed_clamp(a_fast.long(), 24), a_exact)
        big |= bool(a_fast.abs().max() >= F32_A_LIMIT)
        wrapped |= bool(a_fast.abs().max() >= 2**23)
        assert torch.equal(fast.step(a_fast), exact.step(a_exact))
        assert torch.equal(fast.state.long(), exact.state[1])
    assert big == (scale != 1) and wrapped == (scale == 0)
    # integer inputs (layer 0 of a network, the constant current of a window)
    xi = torch.as_tensor(rng.integers(-3, 4, (3, 4, 7, 7)))
    fast, exact = FixedLayer(layer, 3.0), FixedLayer(layer, 3.0, fast=False)
    a_fast, a_exact = fast.current(xi), exact.current(xi)
    for _ in range(8):
        assert torch.equal(fast.step(a_fast), exact.step(a_exact))
