"""The shared-kernel rule, SymBa's pair factor and the hard-negative draw (numpy; no Lava needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ff_neuro.onchip import conv_rule, negatives, rule


def geometry(stride=2, padding=1):
    return conv_rule.geometry_of((3, 7, 6), 4, 3, stride, padding)  # C_in 3, H 7, W 6


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 1), (2, 0)])
def test_kernel_update_is_the_correlation_over_positions(stride, padding):
    """ΔK (nearest rounding, k = 11) = ⌊(e · Σ_positions p ⊗ x_patch + 2^(k−1)) / 2^k⌋, with the correlation
    computed independently as torch's conv2d weight gradient in torch's layout."""
    rng = np.random.default_rng(0)
    g = geometry(stride, padding)
    p = rule.RuleParams(8, g.neurons, lr_shift=11, vth=20, rounding="nearest")
    x = rng.integers(0, 9, (2, 3, 7, 6))  # pre counts (B, C, H, W)
    out_chw = (g.out_channels, g.out_shape[1], g.out_shape[0])
    post = rng.integers(0, 8, (2, *out_chw)) * (rng.random((2, *out_chw)) < 0.5)
    e = np.array([37, -90])
    corr = sum(
        int(e[b])
        * torch.nn.grad.conv2d_weight(
            torch.from_numpy(x[b : b + 1]).double(),
            (g.out_channels, 3, 3, 3),
            torch.from_numpy(post[b : b + 1]).double(),
            stride,
            padding,
        ).numpy()
        for b in range(2)
    )
    expect = np.floor((conv_rule.kernel_of_torch(np.rint(corr).astype(np.int64)) + 1024) / 2048)
    k = np.zeros((g.out_channels, g.fan_in), np.int64)
    whc = lambda a: np.ascontiguousarray(a.transpose(0, 3, 2, 1))  # noqa: E731
    conv_rule.update_fixed(k, e, whc(post), whc(x), g, p, epoch=0)
    assert np.abs(expect).max() > 3 and np.array_equal(k, expect.astype(np.int64))


def test_layouts_agree_with_lava_conv_and_torch():
    """The Lava Conv weight of K computes the same currents as torch with torch_weight(K)."""
    from ff_neuro.lava.fast.conv import Im2colConv

    rng = np.random.default_rng(1)
    g = geometry()
    k = rng.integers(-9, 10, (g.out_channels, g.fan_in))
    assert np.array_equal(conv_rule.kernel_matrix(conv_rule.lava_weight(k, g)), k)
    assert np.array_equal(conv_rule.kernel_of_torch(conv_rule.torch_weight(k, g)), k)
    s = (rng.random((3, 7, 6)) < 0.4).astype(np.float64)  # (C, H, W)
    ref = F.conv2d(
        torch.from_numpy(s[None]),
        torch.from_numpy(conv_rule.torch_weight(k, g)).double(),
        None,
        2,
        1,
    )
    plan = Im2colConv(
        g.in_shape, g.out_shape, conv_rule.lava_weight(k, g), (1, 1), (2, 2), (1, 1), 1
    )
    lava = plan(s.transpose(2, 1, 0))  # (X, Y, C)
    assert np.allclose(lava, ref[0].numpy().transpose(2, 1, 0))


def test_pair_factor_is_symbas_gradient():
    """E = LUT[α(G⁺ − G⁻)] ≈ 127·σ(−α(G⁺ − G⁻)): ≥ 0, largest when the negative is the better."""
    p = rule.RuleParams(8, 50, alpha=6.0)
    scale = p.hidden * p.timesteps**2
    d = np.linspace(-0.5, 0.5, 41)
    g_neg = np.full(41, 1000)
    g_pos = g_neg + np.rint(d * scale).astype(np.int64)
    e = rule.pair_factor_fixed(g_pos, g_neg, p)
    ef = rule.pair_factor_float(g_pos, g_neg, p)
    assert np.all(e >= 0) and np.all(np.diff(e) <= 0) and e[0] > 100 and e[-1] < 27
    assert np.abs(e - 127 * ef).max() <= 1.5 and ef[20] == pytest.approx(0.5)


@pytest.mark.parametrize("fixed", [True, False])
def test_hard_negatives_follow_exp_of_goodness(fixed):
    """Never the true label; frequencies ∝ exp(α_h · G) among the wrong labels; α_h = 0 is uniform."""
    p = rule.RuleParams(10, 40, seed=3)
    scale = p.hidden * p.timesteps**2
    g_mean = np.array([0.1, 0.3, 0.2, 0.1, 0.25])
    n, alpha = 20000, 10.0
    g = np.tile(np.rint(g_mean * scale), (n, 1)).astype(np.int64)
    labels = np.full(n, 1)
    picks = negatives.draw(g, labels, np.arange(n), p, alpha, fixed)
    assert not np.any(picks == 1) and np.array_equal(
        picks, negatives.draw(g, labels, np.arange(n), p, alpha, fixed)
    )
    w = np.exp(alpha * g_mean) * (np.arange(5) != 1)
    freq = np.bincount(picks, minlength=5) / n
    assert np.abs(freq - w / w.sum()).max() < 0.015
    uni = np.bincount(negatives.draw(g, labels, np.arange(n), p, 0.0, fixed), minlength=5) / n
    assert uni[1] == 0 and np.abs(uni[[0, 2, 3, 4]] - 0.25).max() < 0.015
    assert math.isclose(negatives.exp_lut(p)[-1], 2**15)
