"""LIF semantics: reset to zero, strict threshold, no state between samples, scan == snn.Leaky loop."""

import snntorch as snn
import torch
import torch.nn.functional as F

from ff_neuro.spiking import LIFParams, encode, lif_scan, simulate_spec
from ff_neuro.spiking.lif import lif_init, lif_step
from ff_neuro.spiking.spec import LIFConvSpec, SpikingNetSpec


def test_constant_current_reset_to_zero_and_strict_threshold():
    # I = 0.4, θ = 1: v = 0.4, 0.8, 1.2 → spike, reset to 0, then 0.4, 0.8, 1.2 → spike ...
    s = lif_scan(torch.full((9, 1), 0.4), LIFParams(1.0, 1.0))
    assert s.flatten().tolist() == [0, 0, 1, 0, 0, 1, 0, 0, 1]


def test_equal_to_threshold_does_not_fire():
    # I = 0.5 exactly: v = 0.5, 1.0 (= θ, no spike), 1.5 → spike: strict '>'
    s = lif_scan(torch.full((6, 1), 0.5), LIFParams(1.0, 1.0))
    assert s.flatten().tolist() == [0, 0, 1, 0, 0, 1]


def test_leak_and_reset_value():
    p = LIFParams(beta=0.5, threshold=1.0)
    st = lif_init(torch.zeros(1))
    s, st = lif_step(st, torch.tensor([0.8]), p)  # v = 0.8
    s, st = lif_step(st, torch.tensor([0.8]), p)  # v = 0.4 + 0.8 = 1.2 → spike
    assert s.item() == 1 and st.v.item() == 1.2000000476837158
    s, st = lif_step(st, torch.tensor([0.0]), p)  # reset to 0 before the decay: v = 0
    assert s.item() == 0 and st.v.item() == 0.0


def test_no_state_between_samples():
    """Each sample of a batch starts from rest and sees only its own input: its spike counts are those it
    gets alone, whatever shares its batch or ran before (leak beta < 1, per-sample RMS gain on layer 1)."""
    spec = _spec(beta=0.9)
    spec.layers[1].rms_input = True
    g = torch.Generator().manual_seed(1)
    x = encode(torch.rand(5, 1, 12, 12, generator=g), spec.timesteps, "current")
    together = simulate_spec(spec, x)
    simulate_spec(spec, torch.ones_like(x) * 3)  # a strong input runs in between
    for b in range(5):
        alone = simulate_spec(spec, x[:, b : b + 1])
        for layer_t, layer_a in zip(together, alone):
            assert torch.equal(layer_t[:, b : b + 1], layer_a), b
    assert together[1].sum() > 0


def _spec(seed=0, beta=0.9):
    g = torch.Generator().manual_seed(seed)
    layers, c_in = [], 1
    for c_out in (4, 6):
        layers.append(
            LIFConvSpec(
                (torch.randn(c_out, c_in, 3, 3, generator=g) * 0.6).numpy(),
                (torch.randn(c_out, generator=g) * 0.1).numpy(),
                1,
                1,
                beta,
                0.8,
                (c_in, 12, 12),
                (c_out, 12, 12),
            )
        )
        c_in = c_out
    return SpikingNetSpec(layers, 20, "rate", [1], [0, 1])


def _snntorch_loop(spec, inputs):
    """The plain reference: per step, per layer, conv then snn.Leaky (reset to zero), reset between samples."""
    outs = []
    for b in range(inputs.shape[1]):  # one sample at a time
        neurons = [
            snn.Leaky(beta=l.beta, threshold=l.threshold, reset_mechanism="zero")
            for l in spec.layers
        ]
        for n in neurons:
            n.reset_mem()
        trains = [[] for _ in spec.layers]
        for t in range(inputs.shape[0]):
            x = inputs[t, b : b + 1]
            for i, (l, n) in enumerate(zip(spec.layers, neurons)):
                cur = F.conv2d(
                    x, torch.from_numpy(l.weight), torch.from_numpy(l.bias), l.stride, l.padding
                )
                x, _ = n(cur)  # snn.Leaky keeps its membrane
                trains[i].append(x)
        outs.append([torch.stack(tr) for tr in trains])
    return [torch.cat([o[i] for o in outs], 1) for i in range(len(spec.layers))]


def test_multistep_equals_step_by_step_snntorch_exactly():
    spec = _spec()
    x = torch.rand(5, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    inputs = encode(x, spec.timesteps, "rate", torch.Generator().manual_seed(2))
    fast = simulate_spec(spec, inputs)
    ref = _snntorch_loop(spec, inputs)
    assert all(f.sum() > 0 for f in fast)  # the comparison is not trivially empty
    for f, r in zip(fast, ref):
        assert torch.equal(f, r)


def test_multistep_equals_snntorch_with_constant_current_and_no_leak():
    spec = _spec(3, beta=1.0)
    spec.encoding = "current"
    x = torch.rand(3, 1, 12, 12, generator=torch.Generator().manual_seed(4))
    inputs = encode(x, 16, "current")
    for f, r in zip(simulate_spec(spec, inputs), _snntorch_loop(spec, inputs)):
        assert torch.equal(f, r)


def test_autograd_scan_equals_inference_scan():
    cur = torch.randn(12, 3, 5) * 0.6
    for beta in (1.0, 0.8):
        p = LIFParams(beta, 0.5)
        fast = lif_scan(cur, p)
        slow = lif_scan(cur.clone().requires_grad_(), p)
        assert torch.equal(fast, slow.detach())


def test_reset_by_subtraction_by_hand():
    """I = 0.375 for 10 steps (exact in binary). Subtract: v = .375 .75 1.125* (→ .125) .5 .875 1.25*
    (→ .25) .625 1.0 (strict: no spike) 1.375* (→ .375) .75; zero: a spike every third step."""
    from ff_neuro.spiking.lif import LIFParams, lif_scan

    cur = torch.full((10, 1), 0.375, dtype=torch.float64)
    s = lif_scan(cur, LIFParams(1.0, 1.0, "subtract"))
    assert s[:, 0].tolist() == [0, 0, 1, 0, 0, 1, 0, 0, 1, 0]
    assert lif_scan(cur, LIFParams(1.0, 1.0, "zero"))[:, 0].tolist() == [
        0,
        0,
        1,
        0,
        0,
        1,
        0,
        0,
        1,
        0,
    ]
    cur = torch.full(
        (10, 1), 0.625, dtype=torch.float64
    )  # .625 1.25* (→.25) .875 1.5* (→.5) 1.125* ...
    assert lif_scan(cur, LIFParams(1.0, 1.0, "subtract"))[:, 0].tolist() == [
        0,
        1,
        0,
        1,
        1,
        0,
        1,
        0,
        1,
        1,
    ]
    assert lif_scan(cur, LIFParams(1.0, 1.0, "zero"))[:, 0].tolist() == [
        0,
        1,
        0,
        1,
        0,
        1,
        0,
        1,
        0,
        1,
    ]


def test_reset_by_subtraction_quantises_a_constant_current_uniformly():
    """Count over T of a constant current I in (0, 1): ⌈T·I⌉ − 1, i.e. |count/T − I| ≤ 1/T, while reset to zero
    gives the staircase 1/(⌊1/I⌋ + 1) whose error reaches ~I/2 (I = 0.6: 0.5 per step)."""
    from ff_neuro.spiking.lif import LIFParams, lif_scan

    T = 64
    current = torch.linspace(0.01, 0.99, 97, dtype=torch.float64)
    counts = lif_scan(current.expand(T, -1).clone(), LIFParams(1.0, 1.0, "subtract")).sum(0)
    assert ((counts / T - current).abs() <= 1.0 / T + 1e-12).all()
    zero = lif_scan(current.expand(T, -1).clone(), LIFParams(1.0, 1.0, "zero")).sum(0)
    assert (zero / T - current).abs().max() > 0.15


def test_subtract_scan_with_and_without_autograd_agree_bitwise():
    from ff_neuro.spiking.lif import LIFParams, lif_init, lif_scan, lif_step

    g = torch.Generator().manual_seed(0)
    cur = torch.rand((20, 3, 5), generator=g) * 1.5 - 0.2
    p = LIFParams(0.9, 1.0, "subtract")
    fast = lif_scan(cur, p)
    state, out = lif_init(cur[0]), []
    for t in range(cur.shape[0]):
        s, state = lif_step(state, cur[t], p)
        out.append(s)
    assert torch.equal(fast, torch.stack(out)) and fast.sum() > 0
