"""Quantisation-aware training: fake-quantised weights with a straight-through gradient."""

from __future__ import annotations

import pytest
import torch

from ff_neuro.hardware.profiles import ProfileError
from ff_neuro.hardware.qat import fake_quant


def test_fake_quant_is_on_the_grid_with_identity_gradient():
    w = torch.tensor([0.5, -1.0, 0.26, 0.0], requires_grad=True)
    q = fake_quant(w, 3)  # qmax = 3, scale = 3 / 1.0
    assert q.tolist() == pytest.approx([2 / 3, -1.0, 1 / 3, 0.0])
    q.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0, 1.0]


def _config(profile):
    from tests.conftest import tiny_config

    return tiny_config().replace(hardware={"profile": profile})


def test_apply_qat_quantises_every_conv_and_keeps_checkpoint_keys():
    from ff_neuro.ff.model import RateModel
    from ff_neuro.hardware.qat import build_model

    model = build_model(_config("loihi2"))
    for layer in model.net.layers:
        w = layer.conv.weight
        s = 127 / w.abs().max()
        assert torch.allclose(w * s, torch.round(w * s), atol=1e-3)
    tensors = model.weights()
    assert "net.layers.1.conv.weight" in tensors and not any(
        "parametrizations" in k for k in tensors
    )
    plain = RateModel(_config(None))
    plain.load_weights(tensors)  # a QAT run loads into the plain model (spiking conversion)
    again = build_model(_config("loihi2"))
    again.load_weights(tensors)
    assert torch.equal(again.net.layers[2].conv.weight, model.net.layers[2].conv.weight)


def test_training_step_updates_the_float_master_weights():
    from ff_neuro.hardware.qat import build_model

    model = build_model(_config("loihi"))
    before = model.net.layers[1].conv.parametrizations.weight.original.detach().clone()
    x, y = torch.rand(8, 1, 28, 28), torch.arange(8) % 10
    model.train_step(x, y, torch.Generator().manual_seed(0))
    assert not torch.equal(before, model.net.layers[1].conv.parametrizations.weight.original)


def test_profiles_without_weight_bits():
    from ff_neuro.hardware.qat import build_model

    assert build_model(_config("ideal")) is not None  # float profile: nothing to quantise
    with pytest.raises(ProfileError, match="no weight_bits"):
        build_model(_config("truenorth"))
