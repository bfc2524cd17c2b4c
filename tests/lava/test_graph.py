"""Lava graphs: float agreement with snnTorch, fixed point vs the emulation, readout, clean stop."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
import torch

pytest.importorskip("lava.magma")

from ff_neuro.hardware.emulate import emulate_fixed  # noqa: E402
from ff_neuro.hardware.quantize import exact_float_grid, float_net, quantize_spec  # noqa: E402

from .conftest import random_spec  # noqa: E402


def snntorch_counts(spec, inputs):
    from ff_neuro.spiking import simulate_spec

    return [s.sum(0).numpy() for s in simulate_spec(spec, torch.as_tensor(inputs).transpose(0, 1))]


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_float_lava_matches_snntorch_spike_for_spike(rng, reset):
    from ff_neuro.lava import run_lava

    spec = random_spec(rng, head=True, reset=reset)
    x = rng.random((3, spec.timesteps, 1, 8, 8)).astype(np.float32)
    spec, x = exact_float_grid(spec, x)
    ref = snntorch_counts(spec, x)
    res = run_lava(float_net(spec), x, readout=True)
    for a, b in zip(ref, res.counts):
        assert a.shape == b.shape and a.sum() > 0
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(res.stats[:, :, 0], np.stack([c.sum((1, 2, 3)) for c in ref], 1))
    np.testing.assert_allclose(
        res.stats[:, :, 1], np.stack([(c.astype(float) ** 2).sum((1, 2, 3)) for c in ref], 1)
    )
    # the Dense readout accumulates W_head · s(t) over the window: equals W_head · counts (torch flattening)
    feats = np.concatenate([c.reshape(len(c), -1) for c in ref], 1)
    np.testing.assert_allclose(
        sum(res.readout), feats @ spec.head_weight.T.astype(np.float64), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_fixed_point_lava_is_bit_exact_with_emulation(rng, reset):
    from ff_neuro.lava import run_lava

    spec = random_spec(rng, beta=0.85, reset=reset)
    x = rng.random((3, spec.timesteps, 1, 8, 8)).astype(np.float32)
    net = quantize_spec(spec, "loihi2")
    emu = emulate_fixed(net, x)
    res = run_lava(net, x)
    for a, b in zip(emu, res.counts):
        assert a.sum() > 0
        np.testing.assert_array_equal(a.numpy(), b)


def test_reset_by_subtraction_is_a_different_neuron_in_lava(rng):
    """LIFResetSubtract keeps the charge above threshold: more spikes than reset to zero, in float and fixed."""
    from ff_neuro.lava import run_lava

    x = rng.random((2, 6, 1, 8, 8)).astype(np.float32)
    spikes = {}
    for reset in ("zero", "subtract"):
        spec = random_spec(np.random.default_rng(7), reset=reset)
        for layer in spec.layers:
            layer.weight = np.abs(layer.weight) * 0.6  # positive currents of about 1–3 per step
        for fixed in (False, True):
            net = quantize_spec(spec, "loihi2") if fixed else float_net(spec)
            spikes[reset, fixed] = sum(int(c.sum()) for c in run_lava(net, x).counts)
    assert spikes["subtract", False] > spikes["zero", False] > 0
    assert spikes["subtract", True] > spikes["zero", True] > 0


def test_tiny_trained_network_on_real_mnist_float_and_fixed(tiny_spec, tiny_inputs):
    """The trained tiny FF-CNN on real MNIST test images: float Lava == snnTorch, fixed Lava == emulation."""
    from ff_neuro.lava import run_lava

    spec, x = exact_float_grid(tiny_spec, tiny_inputs[:4])
    ref = snntorch_counts(spec, x)
    res = run_lava(float_net(spec), x)
    assert sum(int(c.sum()) for c in ref) > 0
    for a, b in zip(ref, res.counts):
        np.testing.assert_array_equal(a, b)
    net = quantize_spec(tiny_spec, "loihi")
    emu = emulate_fixed(net, tiny_inputs[:2])
    fix = run_lava(net, tiny_inputs[:2], record_counts=True)
    for a, b in zip(emu, fix.counts):
        np.testing.assert_array_equal(a.numpy(), b)


def test_exception_mid_run_stops_every_process(small_spec, rng):
    from ff_neuro.lava import run_lava

    x = rng.random((4, small_spec.timesteps, 1, 8, 8)).astype(np.float32)
    calls = []

    def boom(done, total):
        calls.append(done)
        raise RuntimeError("interrupted on purpose")

    with pytest.raises(RuntimeError, match="on purpose"):
        run_lava(float_net(small_spec), x, chunk_steps=5, on_chunk=boom)
    assert calls == [5]
    for p in multiprocessing.active_children():
        p.join(timeout=10)
    assert not multiprocessing.active_children()


def test_bad_input_shape_is_rejected(small_spec):
    from ff_neuro.lava import run_lava

    with pytest.raises(ValueError, match="inputs must be"):
        run_lava(float_net(small_spec), np.zeros((2, 3, 1, 8, 8)))


def test_more_outputs_than_counter_ports_use_several_counters(rng):
    """9 layers: 9 counted outputs need two WindowCounter processes (8 ports each); counts, Σc and Σc²
    still come back in layer order."""
    from ff_neuro.lava import run_lava
    from ff_neuro.lava.procs.counter import MAX_INPUTS

    spec = random_spec(rng, channels=(3,) * (MAX_INPUTS + 1), hw=5, T=3)
    x = rng.random((2, spec.timesteps, 1, 5, 5)).astype(np.float32)
    spec, x = exact_float_grid(spec, x)
    ref = snntorch_counts(spec, x)
    res = run_lava(float_net(spec), x)
    assert ref[0].sum() > 0 and len(res.counts) == MAX_INPUTS + 1
    for a, b in zip(ref, res.counts):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(res.stats[:, :, 0], np.stack([c.sum((1, 2, 3)) for c in ref], 1))
    np.testing.assert_allclose(
        res.stats[:, :, 1], np.stack([(c.astype(float) ** 2).sum((1, 2, 3)) for c in ref], 1)
    )


def test_window_counter_rejects_too_many_inputs():
    import ff_neuro.lava  # noqa: F401
    from ff_neuro.lava.procs.counter import MAX_INPUTS, WindowCounter

    with pytest.raises(ValueError, match="inputs"):
        WindowCounter(
            shapes=[(1,)] * (MAX_INPUTS + 1),
            offsets=[0] * (MAX_INPUTS + 1),
            samples=1,
            period=1,
            window=1,
        )
