"""The fast Conv / LIFReset ProcessModels against Lava's reference models, both run as real Lava processes."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ff_neuro.lava")  # applies the Python 3.11 fix before lava loads

from ff_neuro.hardware.emulate import emulate_fixed  # noqa: E402
from ff_neuro.hardware.quantize import exact_float_grid, float_net, quantize_spec  # noqa: E402

from .conftest import random_spec  # noqa: E402

STEPS = 7


def run_chains(chains, fixed: bool, backend: str, read=()):
    """Run each chain source → process → sink for STEPS steps (one Lava graph each); returns the sinks'
    data (…, STEPS) and the Vars named in ``read`` of every process."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    from ff_neuro.lava.fast import (
        run_config,  # first: applies the Python 3.11 fix before lava is imported
    )

    outs, vars_ = [], []
    for data, make in chains:
        src, proc = Source(data=data), make()
        out = proc.a_out if hasattr(proc, "a_out") else proc.s_out
        sink = Sink(shape=out.shape, buffer=STEPS)
        src.s_out.connect(proc.s_in if hasattr(proc, "s_in") else proc.a_in)
        out.connect(sink.a_in)
        try:
            src.run(condition=RunSteps(num_steps=STEPS), run_cfg=run_config(fixed, backend))
            outs.append(np.asarray(sink.data.get()))
            vars_.append({v: np.asarray(getattr(proc, v).get()) for v in read})
        finally:
            src.stop()
    return outs, vars_


def conv_chains(rng, fixed: bool):
    """Conv geometries: graded with asymmetric padding and stride; binary (bool cast) with dilation and
    groups; fixed point with sums beyond 2²³ (24-bit wrap, float64 path)."""
    from lava.proc.conv.process import Conv

    import ff_neuro.lava  # noqa: F401  (the Python 3.11 fix)

    def weights(shape, big=False):
        if fixed:
            return rng.integers(-255 if big else -40, 256 if big else 41, shape).astype(np.int32)
        return rng.integers(-64, 65, shape) / 64.0  # dyadic: every sum exact

    def graded(shape, hi):
        return (
            rng.integers(0, hi, (*shape, STEPS))
            if fixed
            else rng.integers(0, hi, (*shape, STEPS)) / 16.0
        )

    specs = [
        (
            (7, 6, 3),
            dict(weight=weights((4, 3, 2, 3)), padding=(1, 0), stride=(1, 2), num_message_bits=24),
            graded((7, 6, 3), 200),
        ),
        (
            (8, 8, 4),
            dict(weight=weights((6, 3, 3, 2)), padding=2, dilation=2, groups=2, num_message_bits=0),
            rng.choice([0, 0, 0, 3], (8, 8, 4, STEPS)).astype(float),
        ),
        (
            (6, 5, 8),
            dict(weight=weights((5, 5, 5, 8), big=True), padding=2, num_message_bits=24),
            graded((6, 5, 8), 2**15 if fixed else 2**12),
        ),
    ]
    return [(data, lambda s=s, kw=kw: Conv(input_shape=s, **kw)) for s, kw, data in specs]


@pytest.mark.parametrize("fixed", [True, False], ids=["fixed_pt", "floating_pt"])
def test_fast_conv_equals_reference_conv(fixed):
    rng = np.random.default_rng(3)
    chains = conv_chains(rng, fixed)
    ref, _ = run_chains(chains, fixed, "reference")
    fast, _ = run_chains(chains, fixed, "fast")
    for r, f in zip(ref, fast):
        assert (
            np.abs(r).sum() > 0 and not r[..., 0].any()
        )  # the delay: step 1 sends the empty buffer
        np.testing.assert_array_equal(r, f)
    if (
        fixed
    ):  # the third geometry's sums exceed 2²³: the float64 path and the 24-bit wrap were exercised
        from ff_neuro.lava.fast import Im2colConv

        data, make = chains[2]
        conv = make()
        plan = Im2colConv((6, 5, 8), conv.output_shape, conv.weight.init, (2, 2), (1, 1), (1, 1), 1)
        raw = np.stack([plan(data[..., t]) for t in range(STEPS - 1)], -1)
        assert np.abs(raw).max() >= 2**23 and np.abs(ref[2]).max() < 2**23
        np.testing.assert_array_equal(
            ref[2][..., 1:], ((raw.astype(np.int64) + 2**23) % 2**24) - 2**23
        )


def lif_chains(rng, fixed: bool):
    from lava.proc.lif.process import LIFReset

    import ff_neuro.lava  # noqa: F401

    shape = (4, 5, 3)
    chains = []
    for du, dv, hi in ((4095, 0, 2**18), (1000, 300, 2**12), (0, 4095, 2**20)):
        if fixed:
            params = dict(
                du=du,
                dv=dv,
                vth=int(rng.integers(100, 3000)),
                bias_mant=rng.integers(-4096, 4096, shape),
                bias_exp=rng.integers(0, 8, shape),
            )
            data = rng.integers(-hi, hi, (*shape, STEPS))
        else:
            params = dict(
                du=du / 4096, dv=dv / 4096, vth=0.7, bias_mant=rng.normal(0, 0.2, shape), bias_exp=0
            )
            data = rng.normal(0.2, 0.5, (*shape, STEPS))
        chains.append(
            (data, lambda p=params: LIFReset(shape=shape, reset_interval=3, reset_offset=2, **p))
        )
    return chains


@pytest.mark.parametrize("fixed", [True, False], ids=["fixed_pt", "floating_pt"])
def test_fast_lif_reset_equals_reference(fixed):
    """Spikes and final u, v identical, with decays, biases with exponents, reset, and (fixed) u wrap and v clip."""
    rng = np.random.default_rng(4)
    chains = lif_chains(rng, fixed)
    ref, ref_uv = run_chains(chains, fixed, "reference", read=("u", "v"))
    fast, fast_uv = run_chains(chains, fixed, "fast", read=("u", "v"))
    for r, f in zip(ref, fast):
        assert 0 < r.sum() < r.size
        np.testing.assert_array_equal(r, f)
    for r, f in zip(ref_uv, fast_uv):
        np.testing.assert_array_equal(r["u"], f["u"])
        np.testing.assert_array_equal(r["v"], f["v"])


def test_trunc_decay_rounds_toward_zero():
    from ff_neuro.lava.fast.lif import trunc_decay

    x = np.array([-(2**23), -4097, -1, 0, 1, 4097, 2**23 - 1], np.int32)
    y = x.astype(np.int64) * 3001
    expected = (np.sign(y) * (np.abs(y) >> 12)).astype(np.int32)
    np.testing.assert_array_equal(trunc_decay(x, 3001), expected)


@pytest.mark.parametrize("fixed", [True, False], ids=["fixed_pt", "floating_pt"])
def test_network_fast_equals_reference_backend(rng, fixed):
    """A whole conv network graph: fast and reference models give identical per-neuron counts
    (fixed point: also equal to the integer emulation)."""
    from ff_neuro.lava import run_lava

    spec = random_spec(rng, channels=(4, 6, 5), beta=0.85 if fixed else 1.0)
    x = rng.random((3, spec.timesteps, 1, 8, 8)).astype(np.float32)
    if fixed:
        net = quantize_spec(spec, "loihi2")
    else:
        spec, x = exact_float_grid(spec, x)
        net = float_net(spec)
    ref = run_lava(net, x, backend="reference")
    fast = run_lava(net, x, backend="fast")
    assert fast.backend == "fast" and ref.backend == "reference"
    for a, b in zip(ref.counts, fast.counts):
        assert a.sum() > 0
        np.testing.assert_array_equal(a, b)
    if fixed:
        for a, b in zip(emulate_fixed(net, x), fast.counts):
            np.testing.assert_array_equal(a.numpy(), b)


def test_run_config_selects_models():
    from lava.proc.conv.models import PyConvModelFixed
    from lava.proc.conv.process import Conv
    from lava.proc.lif.process import LIFReset

    import ff_neuro.lava  # noqa: F401
    from ff_neuro.lava.fast import FastConvFixed, FastLIFResetFloat, run_config

    cfg = run_config(True)
    assert cfg.select_tag == "fixed_pt" and cfg.exception_proc_model_map[Conv] is FastConvFixed
    assert {"fixed_pt", "fast"} <= set(FastConvFixed.tags)
    assert run_config(False).exception_proc_model_map[LIFReset] is FastLIFResetFloat
    assert run_config(True, "reference").exception_proc_model_map == {}
    assert (
        run_config(True, "reference", {Conv: PyConvModelFixed}).exception_proc_model_map[Conv]
        is PyConvModelFixed
    )
    with pytest.raises(ValueError, match="backend"):
        run_config(True, "turbo")
