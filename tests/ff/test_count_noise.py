"""Spike-count quantisation in training (model.train_timesteps) and per-layer activation scales."""

import torch

from ff_neuro.config import load_config
from ff_neuro.ff.functional import count_noise


def test_count_noise_rounds_to_counts_without_bias_and_passes_the_gradient():
    lam, T = 4.0, 16
    a = torch.full((200_000,), 0.3 * lam, requires_grad=True)  # r = 0.3: T·r = 4.8 → 4 or 5 spikes
    q = count_noise(a, lam, T, torch.Generator().manual_seed(0))
    counts = q.detach() / lam * T
    assert set(torch.round(counts).unique().tolist()) == {4.0, 5.0}
    assert torch.allclose(counts, torch.round(counts), atol=1e-4)
    assert abs(float((counts == 5).float().mean()) - 0.8) < 0.01  # P(5) = 0.8: E[count] = 4.8
    q.sum().backward()
    assert torch.equal(a.grad, torch.ones_like(a))  # straight-through
    exact = torch.tensor([0.0, lam])  # r = 0 and r = 1 are counts already
    assert torch.equal(count_noise(exact, lam, T, torch.Generator().manual_seed(1)), exact)


def test_per_layer_scales_and_the_reset_they_convert_to():
    from ff_neuro.spiking.convert import neuron_reset

    cfg = load_config("mnist-quick")
    assert len(cfg.model.scales) == len(cfg.model.layers)
    cfg.model.layers[0].activation_scale = 1.5
    cfg.model.activation_scale = 4.0
    assert cfg.model.scales[:2] == [1.5, 4.0]
    cfg.model.norm, cfg.model.activation = "none", "relu1"
    assert neuron_reset(cfg) == "subtract"
    cfg.model.activation = "ifzero"
    assert neuron_reset(cfg) == "zero"
    cfg.model.norm, cfg.model.activation = "rms", "relu1"
    assert neuron_reset(cfg) == "zero"  # not in spike units: converted with Lava's reset to zero
