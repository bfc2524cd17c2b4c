"""The whole conv network learning in one Lava graph agrees with the reference.

A small network (frozen conv 4 ch → plastic conv 6 ch → plastic conv 5 ch, stride 2, T = 4) runs as
real Lava processes (ImageSource, Lava Conv, LIFResetSubtract, FFConv, FFGoodness, WindowCounter).
Fixed point: every plastic kernel bit-identical to the sequential reference at 4 snapshots over
1,000 windows, and the spike statistics of every layer, the frozen one included, identical window by
window. SymBa with hard negatives drawn on the chip (480 windows): the same. Float: within 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ff_neuro.onchip import conv_reference as cref
from ff_neuro.onchip import conv_rule, rule
from ff_neuro.onchip.conv_net import LearningNet, PlasticConv, schedule

pytest.importorskip("lava")

T, CLASSES = 4, 4


def tiny(
    fixed: bool, objective: str, hard: bool, samples: int, seed: int = 0, decay: int = 0,
    gate: bool = True, margin: int = 0, lr_steps: tuple = (),
):  # fmt: skip
    from ff_neuro.hardware.quantize import float_net, quantize_spec
    from ff_neuro.spiking.spec import LIFConvSpec, SpikingNetSpec

    rng = np.random.default_rng(seed)
    w0 = rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32)
    layer0 = LIFConvSpec(
        w0, rng.normal(0, 0.1, 4).astype(np.float32), 2, 1, 1.0, 1.0, (1, 10, 10), (4, 5, 5),
        reset="subtract",
    )  # fmt: skip
    spec = SpikingNetSpec([layer0], T, "current", [0], [0])
    base = quantize_spec(spec, "loihi2", 1.0) if fixed else float_net(spec)
    plastic, kmats = [], []
    for g, vth in (
        (conv_rule.geometry_of((4, 5, 5), 6, 3, 1, 1), 32),
        (conv_rule.geometry_of((6, 5, 5), 5, 3, 2, 1), 16),
    ):  # vth powers of 2: float sums of the init's multiples of 1/vth are exact in any order
        p = rule.RuleParams(
            T, g.neurons, 0.15, 8.0, 9, vth, seed=len(plastic) + 1, decay_shift=decay,
            saturation_gate=gate, saturation_margin=margin, lr_steps=lr_steps,
        )  # fmt: skip
        plastic.append(PlasticConv(g, p))
        k = rng.integers(-10, 22, (g.out_channels, g.fan_in)).astype(np.int64)
        kmats.append(k if fixed else k / vth)
    net = LearningNet(base.layers, plastic, T, fixed, objective, 0 if hard else None, 40.0)
    labels = rng.integers(0, CLASSES, samples)
    sched = schedule(labels, CLASSES, hard)
    images = rng.random((samples, CLASSES if hard else 2, 1, 10, 10))
    return net, kmats, base.encode(images), labels, sched


def run_both(
    tmp_path, fixed, objective, hard, samples, snapshots, decay=0, gate=True, margin=0, steps=()
):
    from ff_neuro.onchip.conv_lava import run_network_learning

    net, k0, enc, labels, sched = tiny(
        fixed, objective, hard, samples, decay=decay, gate=gate, margin=margin, lr_steps=steps
    )
    path = tmp_path / "inputs.npy"
    np.save(path, np.ascontiguousarray(np.swapaxes(enc, -1, -3)))  # (S, slots, X, Y, C)
    every = sched.per_sample * (samples // snapshots)  # snapshots between samples
    res = run_network_learning(net, [k.copy() for k in k0], path, sched, every, chunk_steps=1000)
    ks, snaps = [k.copy() for k in k0], []
    trace = cref.Trace(np.zeros((sched.windows, net.depth, 2)))

    def keep(done, km):
        if done * sched.per_sample in res.marks:
            snaps.append([k.copy() for k in km])

    kind = "fixed" if fixed else "float"
    chunks = iter([cref.Chunk(0, torch.as_tensor(enc), labels)])
    cref.train(net, ks, chunks, sched, kind, 1, keep, trace)
    return net, k0, sched, res, snaps, trace


@pytest.mark.parametrize(
    "objective,hard,samples,decay,gate,margin,steps",
    [
        ("threshold", False, 500, 0, True, 0, ()),
        ("symba", True, 80, 0, True, 0, ()),
        ("symba", True, 40, 4, True, 1, ()),
        ("symba", True, 20, 4, False, 0, ()),
        ("symba", True, 40, 0, True, 0, (6 * 11, 6 * 25)),  # k: 9 → 10 → 11 from samples 11, 25
    ],
    ids=[
        "threshold",
        "symba-hard",
        "symba-hard-decay-margin",
        "symba-hard-decay-ungated",
        "symba-hard-lr-steps",
    ],
)
def test_fixed_point_network_is_bit_identical(
    tmp_path, objective, hard, samples, decay, gate, margin, steps
):
    net, k0, sched, res, snaps, trace = run_both(
        tmp_path, True, objective, hard, samples, 4, decay, gate, margin, steps
    )
    if decay:  # the decay changes what is learned: the same run without it ends elsewhere
        ks = [k.copy() for k in k0]
        _, _, enc, labels, _ = tiny(True, objective, hard, samples)
        undecayed = net._replace(  # the same gate and margin, without the decay
            plastic=[pl._replace(params=pl.params._replace(decay_shift=0)) for pl in net.plastic]
        )
        chunks = iter([cref.Chunk(0, torch.as_tensor(enc), labels)])
        cref.train(undecayed, ks, chunks, sched, "fixed", 1)
        for i, k in enumerate(ks):
            assert not np.array_equal(k, snaps[-1][i])
            assert np.abs(snaps[-1][i]).sum() < np.abs(k).sum()
    assert len(res.marks) == 4 and len(snaps) == 4
    assert res.steps == (sched.windows - 1) * T + 3 + T  # depth 3: (n − 1)·P + L + T + 1
    for i in range(len(net.plastic)):
        prev = k0[i]
        for lava_k, ref in zip(res.snapshots[i], snaps):
            assert not np.array_equal(ref[i], prev)  # it keeps learning
            assert np.array_equal(lava_k, ref[i])
            prev = ref[i]
        assert np.array_equal(res.records[i][:, 0], trace.stats[:, 1 + i, 1])  # G_int per window
        if objective == "threshold":
            assert np.all(res.records[i][:, 1] * sched.signs >= 0)  # e has the label's sign
    assert np.array_equal(res.stats, trace.stats)  # every layer, the frozen layer 0 included
    assert res.stats[:, 0, 0].min() > 0 and res.stats[:, 2, 0].max() > 0
    if (
        objective == "symba"
    ):  # the positive window of a pair never updates, its negative does (E ≥ 0 sent once)
        e = res.records[0][:, 1]
        assert np.all(e[sched.signs >= 0] == 0) and np.any(e[sched.signs < 0] > 0)


def test_float_network_agrees(tmp_path):
    net, k0, sched, res, snaps, trace = run_both(tmp_path, False, "threshold", False, 40, 2)
    for i in range(len(net.plastic)):
        for lava_k, ref in zip(res.snapshots[i], snaps):
            assert not np.array_equal(ref[i], k0[i])
            assert np.abs(lava_k - ref[i]).max() <= 1e-9 * np.abs(ref[i]).max()
    assert np.array_equal(res.stats, trace.stats)


@pytest.mark.parametrize("batch", [1, 4])
def test_scoring_through_the_scoring_layer_only_learns_the_same_kernels(batch):
    """Without a trace the reference scores the hard negatives' windows through the layers up to the
    scoring layer only (a layer's counts depend only on the layers below it): the same draws and
    kernels as the full network that the trace (and Lava) runs."""
    net, k0, enc, labels, sched = tiny(True, "symba", True, 40)
    x = torch.as_tensor(enc)[:6].flatten(0, 1)
    full, part = cref.counts(net, k0, x, "fixed"), cref.counts(net, k0, x, "fixed", depth=2)
    assert len(part) == 2 and len(full) == 3
    assert all(torch.equal(a, b) for a, b in zip(part, full))
    kernels = []
    for trace in (cref.Trace(np.zeros((sched.windows, net.depth, 2))), None):
        ks = [k.copy() for k in k0]
        chunks = iter([cref.Chunk(0, torch.as_tensor(enc), labels)])
        cref.train(net, ks, chunks, sched, "fixed", batch, None, trace)
        kernels.append(ks)
    for a, b, k in zip(*kernels, k0):
        assert not np.array_equal(a, k) and np.array_equal(a, b)


def test_lr_steps_equal_training_in_phases_at_the_halved_rates():
    """Learning-rate steps at samples 11 and 25 (batch 1, fixed point) give the kernels of three
    consecutive runs over samples [0, 11), [11, 25), [25, 40) with k, k + 1, k + 2 (the window
    indices, hence the rounding draws, stay global); without the steps the kernels differ."""
    net, k0, enc, labels, sched = tiny(True, "symba", True, 40, lr_steps=(6 * 11, 6 * 25))
    stepped = [k.copy() for k in k0]
    x = torch.as_tensor(enc)
    cref.train(net, stepped, iter([cref.Chunk(0, x, labels)]), sched, "fixed", 1)
    phased = [k.copy() for k in k0]
    for extra, (a, b) in enumerate(((0, 11), (11, 25), (25, 40))):
        fixed_k = net._replace(
            plastic=[
                pl._replace(params=pl.params._replace(lr_steps=(), lr_shift=9 + extra))
                for pl in net.plastic
            ]
        )
        cref.train(fixed_k, phased, iter([cref.Chunk(a, x[a:b], labels[a:b])]), sched, "fixed", 1)
    plain = [k.copy() for k in k0]
    flat = net._replace(
        plastic=[pl._replace(params=pl.params._replace(lr_steps=())) for pl in net.plastic]
    )
    cref.train(flat, plain, iter([cref.Chunk(0, x, labels)]), sched, "fixed", 1)
    for s_, p_, f_, k in zip(stepped, phased, plain, k0):
        assert not np.array_equal(s_, k) and np.array_equal(s_, p_)
        assert not np.array_equal(s_, f_)


@pytest.mark.parametrize("frac_bits", [0, 2])
def test_weight_lattice_keeps_the_float_kernels_on_the_fixed_point_grid(frac_bits):
    """``LearningNet.weight_lattice`` (the twin's diagnosis): every kernel stays a multiple of
    1/(vth·2^f) within the b-bit range, learns, and differs from the exact float kernels; the
    forward pass transmits synaptic_weights(W·vth·2^f)/vth."""
    net, k0, enc, labels, sched = tiny(False, "symba", True, 40)
    net_l = net._replace(
        weight_lattice=True,
        plastic=[pl._replace(params=pl.params._replace(frac_bits=frac_bits)) for pl in net.plastic],
    )
    x = torch.as_tensor(enc)
    lat, flt = [k.copy() for k in k0], [k.copy() for k in k0]
    cref.train(net_l, lat, iter([cref.Chunk(0, x, labels)]), sched, "float", 1)
    cref.train(net, flt, iter([cref.Chunk(0, x, labels)]), sched, "float", 1)
    for pl, k, f, init in zip(net_l.plastic, lat, flt, k0):
        q = pl.params.vth << frac_bits
        n = k * q
        assert np.array_equal(n, np.rint(n)) and np.abs(n).max() <= pl.params.state_max
        assert not np.array_equal(k, init) and not np.array_equal(k, f)
        sent = cref.plastic_layer(pl, k, False, True).weight
        expect = rule.synaptic_weights(np.rint(n).astype(np.int64), pl.params) / pl.params.vth
        assert np.array_equal(np.asarray(sent), conv_rule.torch_weight(expect, pl.geometry))


def test_integer_counts_twin_floors_every_layer_and_drives_the_next_with_them():
    """``LearningNet.integer_counts``: c_l = ⌊T·relu1(W_l ∗ (c_{l−1}/T) / vth)⌋, integers in [0, T],
    against the exact twin's T·r (which they differ from in some layer)."""
    net, k0, enc, labels, sched = tiny(False, "symba", True, 4)
    x = torch.as_tensor(enc)[:2].flatten(0, 1)
    exact = cref.counts(net, k0, x, "rate")
    floor = cref.counts(net._replace(integer_counts=True), k0, x, "rate")
    r = x.double()
    for la, c in zip(cref._layers(net, k0, False), floor):
        w = torch.as_tensor(np.asarray(la.weight), dtype=torch.float64)
        b = torch.as_tensor(np.asarray(la.bias_mant), dtype=torch.float64)
        z = torch.nn.functional.conv2d(r, w, b, la.stride, la.padding) / float(la.vth)
        expect = torch.floor(T * z.clamp(0.0, 1.0))
        assert torch.equal(c, expect) and c.min() >= 0 and c.max() <= T
        r = expect / T
    assert any(not torch.equal(f, e) for f, e in zip(floor, exact))
