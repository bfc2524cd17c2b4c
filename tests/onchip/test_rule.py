"""The FF rule on a hand-computed example, its sign, its LUT, its rounding (no Lava needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ff_neuro.onchip import reference as ref
from ff_neuro.onchip import rule


def params(**kw):
    base = dict(
        timesteps=4,
        hidden=2,
        theta=0.25,
        alpha=4.0,
        lr_shift=3,
        vth=8,
        weight_bits=8,
        rounding="nearest",
    )
    base.update(kw)
    return rule.RuleParams(**base)


def test_hand_computed_update():
    """c = (2, 4), x = (1, 0, 3), T = 4, H = 2: G = ((2/4)² + (4/4)²)/2 = 0.625, θ = 0.25, α = 4."""
    p = params()
    c, x = np.array([[2, 4]]), np.array([[1, 0, 3]])
    assert rule.goodness_int(c)[0] == 20 and p.theta_int == 8
    # z = α(G − θ) = 1.5 → index round(16 · 1.5) = 24 → LUT = round(127 σ(−1.5)) = 23
    lut_val = round(127 / (1 + math.exp(1.5)))
    assert rule.third_factor_fixed(c, np.array([1]), p)[0] == lut_val == 23
    assert rule.third_factor_fixed(c, np.array([-1]), p)[0] == -round(127 / (1 + math.exp(-1.5)))
    assert rule.post_factor(c, 4).tolist() == [[2, 0]]  # c = T is saturated: gate 0
    w = np.zeros((2, 3), np.int64)
    rule.update_fixed(w, np.array([23]), rule.post_factor(c, 4), x, p, epoch=0)
    # ΔW_0j = ⌊(23 · 2 · x_j + 4) / 8⌋ = ⌊50/8⌋, ⌊4/8⌋, ⌊142/8⌋ = 6, 0, 17; row 1 untouched
    assert w.tolist() == [[6, 0, 17], [0, 0, 0]]
    wf = np.zeros((2, 3))
    e = rule.third_factor_float(c.astype(float), np.array([1]), p)
    assert e[0] == pytest.approx(1 / (1 + math.exp(1.5)))
    rule.update_float(wf, e, rule.post_factor(c.astype(float), 4), x, p)
    assert wf[0] == pytest.approx(127 / (8 * 8) * e[0] * 2 * np.array([1, 0, 3]))


def test_third_factor_sign_and_lut():
    """e > 0 for positives, < 0 for negatives, and the LUT tracks E·s·σ(−s·α(G − θ)) within 1.5."""
    p = params(timesteps=16, hidden=32, theta=0.3, alpha=8.0)
    rng = np.random.default_rng(0)
    c = rng.integers(0, 17, (200, 32))
    for s in (1, -1):
        signs = np.full(200, s)
        ei = rule.third_factor_fixed(c, signs, p)
        ef = rule.third_factor_float(c.astype(float), signs, p)
        assert np.all(np.sign(ei[ei != 0]) == s) and np.all(np.sign(ef) == s)
        assert np.abs(ei - p.e_max * ef).max() <= 1.5


def test_clip_to_weight_range():
    p = params(lr_shift=1, weight_bits=4)
    w = np.full((2, 3), 6, np.int64)
    rule.update_fixed(w, np.array([100]), np.array([[3, 3]]), np.array([[3, 3, 3]]), p, 0)
    assert w.max() == 7
    rule.update_fixed(w, np.array([-100]), np.array([[3, 3]]), np.array([[3, 3, 3]]), p, 1)
    assert w.min() == -7


def test_stochastic_rounding_is_seeded_and_unbiased():
    p = params(rounding="stochastic", lr_shift=8)
    rows, cols = np.arange(50), np.arange(80)
    r1 = rule.rounding_offsets(p, 3, rows, cols, 80)
    assert np.array_equal(r1, rule.rounding_offsets(p, 3, rows, cols, 80))
    assert not np.array_equal(r1, rule.rounding_offsets(p, 4, rows, cols, 80))
    assert not np.array_equal(r1, rule.rounding_offsets(p._replace(seed=1), 3, rows, cols, 80))
    assert r1.min() >= 0 and r1.max() < 256 and abs(r1.mean() / 256 - 0.5) < 0.02
    # sub-block draws equal the full draw's entries (any process can draw its own weights)
    assert np.array_equal(
        rule.rounding_offsets(p, 3, rows[5:9], cols[[2, 70]], 80), r1[5:9][:, [2, 70]]
    )
    # E[⌊(v + r)/2^k⌋] = v / 2^k
    w = np.zeros((50, 80), np.int64)
    rule.update_fixed(w, np.array([1]), np.full((1, 50), 10), np.full((1, 80), 10), p, 0)
    assert abs(w.mean() - 100 / 256) < 0.02


@pytest.mark.parametrize("kind", ["fixed", "float"])
def test_learning_separates_positive_from_negative(kind):
    """Positives show pattern A, negatives pattern B: after training G(A) > G(B). With e's sign
    flipped the same training makes G(A) < G(B), so this fails if the sign is wrong."""
    rng = np.random.default_rng(1)
    T, N, H = 8, 60, 16
    prob = np.where(np.arange(N) < N // 2, 0.4, 0.05)
    pa, pb = prob, prob[::-1]

    def raster(pr, n):
        return torch.from_numpy((rng.random((n, T, N)) < pr).astype(np.uint8))

    p = rule.RuleParams(T, H, theta=0.2, alpha=8.0, lr_shift=9, vth=64, rounding="stochastic")
    w0 = rng.integers(-6, 14, (H, N)).astype(np.int64)
    w = w0.copy() if kind == "fixed" else w0 / p.vth
    inputs = torch.stack([raster(pa, 200), raster(pb, 200)], 1).reshape(400, T, N)
    signs = np.tile([1, -1], 200)
    test = [raster(pa, 100), raster(pb, 100)]

    def gap(w):
        g = [rule.goodness_int(ref.counts(w, r, kind, p).astype(np.int64)).mean() for r in test]
        return g[0] - g[1]

    before = gap(w)
    ref.train(w, iter([ref.Batch(inputs, signs)]), kind, p, batch=1)
    assert gap(w) > before + 20
    wrong = w0.copy() if kind == "fixed" else w0 / p.vth
    ref.train(wrong, iter([ref.Batch(inputs, -signs)]), kind, p, batch=1)
    assert gap(wrong) < before


def test_batched_mode_with_batch_one_is_sequential():
    rng = np.random.default_rng(2)
    T, N, H = 6, 30, 8
    p = rule.RuleParams(T, H, theta=0.2, alpha=8.0, lr_shift=7, vth=40)
    inputs = torch.from_numpy((rng.random((20, T, N)) < 0.3).astype(np.uint8))
    signs = np.tile([1, -1], 10)
    w0 = rng.integers(-10, 20, (H, N)).astype(np.int64)
    a, b = w0.copy(), w0.copy()
    ref.train(a, iter([ref.Batch(inputs, signs)]), "fixed", p, batch=1)
    for k in range(20):  # window by window through learn_batch
        ref.learn_batch(b, ref.Batch(inputs[k : k + 1], signs[k : k + 1]), "fixed", p, k)
    assert np.array_equal(a, b) and not np.array_equal(a, w0)


def test_frac_bits_keep_low_bits_out_of_the_synapse():
    """With f extra bits the state W_f learns at the same rate in weight units, the synapse sends
    round(W_f / 2^f), and the clip is the b-bit range times 2^f."""
    p = params(lr_shift=6, frac_bits=4, weight_bits=4)
    assert p.update_shift == 2 and p.state_max == 7 * 16
    wf = np.array([[-24, -8, 7, 8, 23, 24]])
    assert rule.synaptic_weights(wf, p).tolist() == [[-1, 0, 0, 1, 1, 2]]  # half up
    w = np.zeros((1, 2), np.int64)
    rule.update_fixed(w, np.array([100]), np.array([[1]]), np.array([[1, 3]]), p, 0)
    assert w.tolist() == [[25, 75]]  # ⌊(100·x + 2) / 4⌋ on the W_f scale
    rule.update_fixed(w, np.array([100]), np.array([[3]]), np.array([[3, 3]]), p, 1)
    assert w.max() == 112
    with pytest.raises(ValueError):
        rule.check_params(params(lr_shift=4, frac_bits=4))


def test_weight_decay_hand_computed_and_unbiased():
    """d = 2, k = 4: ΔW = ⌊(e·p·x − 2^(k−d)·W + r) / 2^k⌋, one rounding for both terms."""
    p = params(lr_shift=4, decay_shift=2)  # rounding to nearest: r = 8
    w = np.array([[64, -64, 3]], np.int64)
    rule.update_fixed(w, np.array([0]), np.array([[0]]), np.array([[0, 0, 0]]), p, 0)
    assert w.tolist() == [[48, -48, 2]]  # ⌊(−256 + 8)/16⌋, ⌊(256 + 8)/16⌋, ⌊(−12 + 8)/16⌋
    w = np.array([[10, 0]], np.int64)
    rule.update_fixed(w, np.array([3]), np.array([[2]]), np.array([[1, 5]]), p, 0)
    assert w.tolist() == [[8, 2]]  # ⌊(6 − 40 + 8)/16⌋ = −2, ⌊(30 + 8)/16⌋ = 2
    wf = np.array([[1.0, -2.0]])
    rule.update_float(wf, np.array([0.0]), np.array([[0.0]]), np.array([[0.0, 0.0]]), p)
    assert wf.tolist() == [[0.75, -1.5]]
    ps = params(lr_shift=8, decay_shift=5, rounding="stochastic", seed=3)
    w = np.full((1, 20000), 100, np.int64)
    rule.update_fixed(w, np.array([0]), np.array([[0]]), np.zeros((1, 20000), np.int64), ps, 7)
    assert abs((100 - w).mean() - 100 / 32) < 0.03 and set(np.unique(w)) == {96, 97}
    with pytest.raises(ValueError):
        rule.check_params(params(lr_shift=4, decay_shift=5))
    with pytest.raises(ValueError):
        rule.check_params(params(lr_shift=6, frac_bits=3, decay_shift=4))


def test_post_factor_without_the_saturation_gate():
    """p = c, saturated neurons included, in the rule and in the Lava synapse's learner."""
    from ff_neuro.onchip.synapse import Learner

    c = np.array([[2, 4, 0]])
    assert rule.post_factor(c, 4).tolist() == [[2, 0, 0]]
    assert rule.post_factor(c, 4, gate=False).tolist() == [[2, 4, 0]]
    calls = []
    for gate in (True, False):
        p = params(saturation_gate=gate)
        learner = Learner("threshold", np.array([1]), p, lambda *a: calls.append(a[1]))
        learner.end_window(0, 5, np.array([1, 2]), c[0])
    assert calls[0].tolist() == [[2, 0, 0]] and calls[1].tolist() == [[2, 4, 0]]


def test_saturation_margin_gates_counts_near_T():
    """p = c·[c < T − m]: with m = 1 a count of T − 1 counts as saturated too."""
    c = np.array([[2, 3, 4, 0]])
    assert rule.post_factor(c, 4, margin=1).tolist() == [[2, 0, 0, 0]]
    assert rule.post_of(c, params(saturation_margin=1)).tolist() == [[2, 0, 0, 0]]
    assert rule.post_of(c, params()).tolist() == [[2, 3, 0, 0]]
    assert rule.post_of(c, params(saturation_gate=False, saturation_margin=1)).tolist() == [
        [2, 3, 4, 0]
    ]
    rule.check_params(params(saturation_margin=3))
    with pytest.raises(ValueError):
        rule.check_params(params(saturation_margin=4))  # T = 4: nothing could learn
    # the rate-coded twin's rule keeps the exact gate and everything else
    twin = rule.twin_params(params(saturation_margin=1, decay_shift=3))
    assert twin == params(saturation_margin=0, decay_shift=3)
    assert rule.post_of(c, twin).tolist() == [[2, 3, 0, 0]]


def test_lr_steps_halve_the_rate_from_their_window_on():
    """``lr_steps``: window w learns with k + #{s ≤ w}; the hand-computed update at each rate."""
    p = params(lr_steps=(4, 10))
    assert [p.at(w).lr_shift for w in (0, 3, 4, 9, 10, 99)] == [3, 3, 4, 4, 5, 5]
    assert p.at(3) is p  # before the first step nothing changes
    # the same product (e · p · x = 3 · 2 · 4 = 24) at k = 3, 4, 5, rounding to nearest:
    # ⌊(24 + 2^(k−1)) / 2^k⌋ = 3, 2 (1.5 rounds up), 1 (0.75)
    for window, dw in ((0, 3), (4, 2), (10, 1)):
        w = np.zeros((1, 1), np.int64)
        rule.update_fixed(w, np.array([3]), np.array([[2]]), np.array([[4]]), p.at(window), 0)
        assert w[0, 0] == dw
    for bad in ((0,), (5, 4), tuple(range(1, 40))):
        with pytest.raises(ValueError):
            rule.check_params(params(lr_steps=bad))


@pytest.mark.parametrize("frac_bits", [0, 3])
def test_float_on_the_lattice_is_the_fixed_update_over_q(frac_bits):
    """The twin's lattice (``lattice_epoch``): float weights W = W_int / q, q = vth·2^f, updated with
    e = e_int / E, give update_fixed's integers over q (the same dither), clip included, and the
    transmitted weights are synaptic_weights(W_int) / vth."""
    p = params(rounding="stochastic", lr_shift=9, frac_bits=frac_bits, seed=5, weight_bits=6)
    q = p.vth << frac_bits
    rng = np.random.default_rng(1)
    w_int = rng.integers(-20, 21, (12, 30)) << frac_bits
    w_int[0, :3] = p.state_max - 1  # near the clip
    e_int = rng.integers(-127, 128, 6)
    post, pre = rng.integers(0, 5, (6, 12)), rng.integers(0, 5, (6, 30))
    post[:, 0] = 4
    w = w_int / q
    expect = w_int.copy()
    rule.update_fixed(expect, e_int, post, pre, p, epoch=11)
    rule.update_float(w, e_int / p.e_max, post, pre, p, lattice_epoch=11)
    assert np.array_equal(np.rint(w * q).astype(np.int64), expect)
    assert (expect != w_int).mean() > 0.3  # it moved
    assert expect.max() == p.state_max  # and it clipped
    assert np.array_equal(rule.lattice_weights(w, p) * p.vth, rule.synaptic_weights(expect, p))
    plain = w_int / q
    rule.update_float(plain, e_int / p.e_max, post, pre, p)
    assert not np.array_equal(plain, w)  # without the lattice: the exact float change


def test_lattice_rounding_is_unbiased():
    """E[⌊ΔW·q + u⌋] = ΔW·q: a change of 0.3 lattice steps moves 30 % of the weights by one step."""
    p = params(rounding="stochastic", lr_shift=10, seed=2)
    w = np.zeros((1, 40000))
    rule.lattice_add(w, np.full((1, 40000), 0.3 / p.vth), p, epoch=0)
    steps = np.rint(w * p.vth)
    assert set(np.unique(steps)) == {0.0, 1.0} and abs(steps.mean() - 0.3) < 0.01
