"""Spike-count goodness and features against hand-computed values."""
import torch

from ff_neuro.spiking import goodness_score, spike_features, spike_goodness


def test_spike_goodness_hand_computed():
    counts = torch.tensor([[[[2.0, 0.0], [4.0, 1.0]]], [[[0.0, 0.0], [0.0, 4.0]]]])  # (2, 1, 2, 2), T = 4
    # sample 0: (0.5² + 0 + 1² + 0.25²) = 0.25 + 1 + 0.0625 = 1.3125;  sample 1: 1² = 1
    assert spike_goodness(counts, 4).tolist() == [1.3125, 1.0]


def test_goodness_score_sums_scaled_loss_layers():
    c0 = torch.full((1, 1, 1, 2), 2.0)            # G = 2 · (2/4)² = 0.5
    c1 = torch.full((1, 2, 1, 1), 4.0)            # G = 2 · 1² = 2
    c2 = torch.full((1, 1, 1, 1), 1.0)            # not a loss layer
    s = goodness_score([c0, c1, c2], 4, loss_layers=[0, 1], act_scales=[2.0, 3.0, 5.0])
    assert s.tolist() == [4 * 0.5 + 9 * 2.0]


def test_features_are_rms_normalised_rates():
    c = torch.tensor([[[[3.0, 4.0]]]])             # rates 3/8, 4/8 → rms_norm is scale-free
    f = spike_features([c], 8, [0])
    expect = torch.tensor([[3.0, 4.0]]) / torch.tensor(12.5).sqrt()
    assert torch.allclose(f, expect, atol=1e-6)
