"""Spike-count goodness and features against hand-computed values."""

import torch

from ff_neuro.spiking import goodness_score, spike_features, spike_goodness


def test_spike_goodness_hand_computed():
    counts = torch.tensor(
        [[[[2.0, 0.0], [4.0, 1.0]]], [[[0.0, 0.0], [0.0, 4.0]]]]
    )  # (2, 1, 2, 2), T = 4
    # sample 0: (0.5² + 0 + 1² + 0.25²) = 0.25 + 1 + 0.0625 = 1.3125;  sample 1: 1² = 1
    assert spike_goodness(counts, 4).tolist() == [1.3125, 1.0]


def test_goodness_score_sums_scaled_loss_layers():
    c0 = torch.full((1, 1, 1, 2), 2.0)  # G = 2 · (2/4)² = 0.5
    c1 = torch.full((1, 2, 1, 1), 4.0)  # G = 2 · 1² = 2
    c2 = torch.full((1, 1, 1, 1), 1.0)  # not a loss layer
    s = goodness_score([c0, c1, c2], 4, loss_layers=[0, 1], act_scales=[2.0, 3.0, 5.0])
    assert s.tolist() == [4 * 0.5 + 9 * 2.0]


def test_features_are_rms_normalised_rates():
    c = torch.tensor([[[[3.0, 4.0]]]])  # rates 3/8, 4/8 → rms_norm is scale-free
    f = spike_features([c], 8, [0])
    expect = torch.tensor([[3.0, 4.0]]) / torch.tensor(12.5).sqrt()
    assert torch.allclose(f, expect, atol=1e-6)


def test_mean_goodness_score_divides_by_units():
    c0 = torch.full((1, 1, 1, 2), 2.0)  # 2 units, G = 0.5 → mean 0.25, × λ² = 4 → 1.0
    c1 = torch.full((1, 2, 1, 1), 4.0)  # 2 units, G = 2 → mean 1.0, × λ² = 9 → 9.0
    s = goodness_score([c0, c1], 4, loss_layers=[0, 1], act_scales=[2.0, 3.0], measure="mean")
    assert s.tolist() == [10.0]


def test_network_goodness_scores_equal_a_hand_computation():
    """SpikingNetwork.goodness_scores on a one-layer, one-neuron network whose counts are known by hand:
    weight 1, bias 0, constant current = the labelled pixel x', T = 8, reset by subtraction, so the
    count is ⌈8·x'⌉ − 1 and the score λ²·(count/8)² for each label."""
    import numpy as np

    from ff_neuro.data.labels import FourierLabels
    from ff_neuro.spiking import SpikingNetwork
    from ff_neuro.spiking.spec import LIFConvSpec, SpikingNetSpec

    layer = LIFConvSpec(
        np.ones((1, 1, 1, 1), np.float32),
        np.zeros(1, np.float32),
        1,
        0,
        1.0,
        1.0,
        (1, 28, 28),
        (1, 28, 28),
        act_scale=2.0,
        reset="subtract",
    )
    meta = {
        "labels": {"set": 1, "K": 0.5, "num_classes": 10},
        "in_shape": [1, 28, 28],
        "goodness_measure": "sum",
    }
    spec = SpikingNetSpec([layer], 8, "current", [0], [0], meta=meta)
    x = torch.rand((3, 1, 28, 28), generator=torch.Generator().manual_seed(0))
    scores = SpikingNetwork(spec).goodness_scores(x)
    xl = FourierLabels((28, 28), 10, 1, 0.5).all_labels(x).double()  # (30, 1, 28, 28)
    counts = torch.clamp(torch.ceil(8 * xl) - 1, min=0)
    hand = (4.0 * (counts / 8) ** 2).flatten(1).sum(1).view(3, 10)
    assert torch.allclose(scores.double(), hand, rtol=1e-5)
