import pytest
import torch

from ff_neuro.config import LayerConfig, ModelConfig
from ff_neuro.ff import FFNet, output_shapes


def small_cfg(**kw):
    return ModelConfig(
        layers=[LayerConfig(4, 3, train=False), LayerConfig(5, 3), LayerConfig(6, 3, stride=2)],
        loss_layers=[1, 2],
        readout_layers=[1, 2],
        **kw,
    )


def test_shapes_and_thresholds():
    net = FFNet(small_cfg(), (1, 8, 8))
    assert net.shapes == [(4, 8, 8), (5, 8, 8), (6, 4, 4)]
    assert net.thresholds == [256.0, 320.0, 96.0]
    assert net.readout_dim == 320 + 96
    acts = net(torch.rand(2, 1, 8, 8))
    assert [tuple(a.shape[1:]) for a in acts] == net.shapes
    assert all((a >= 0).all() for a in acts)


def test_no_gradient_crosses_a_layer():
    torch.manual_seed(0)
    net = FFNet(small_cfg(), (1, 8, 8))
    acts = net(torch.rand(2, 1, 8, 8))
    acts[2].pow(2).sum().backward()  # a loss on layer 3 only
    assert (
        net.layers[2].conv.weight.grad is not None
        and net.layers[2].conv.weight.grad.abs().sum() > 0
    )
    assert net.layers[1].conv.weight.grad is None  # nothing reached layer 2
    assert not net.layers[0].conv.weight.requires_grad  # the paper's frozen random layer 1


def test_bp_control_lets_gradient_cross():
    net = FFNet(small_cfg(), (1, 8, 8))
    net.requires_grad_(True)
    net(torch.rand(2, 1, 8, 8), detach=False)[2].sum().backward()
    assert net.layers[0].conv.weight.grad.abs().sum() > 0


def test_layer_input_is_rms_normalised():
    net = FFNet(small_cfg(), (1, 8, 8))
    x = torch.rand(2, 1, 8, 8)
    for a, b in zip(net(x), net(7.0 * x)):
        torch.testing.assert_close(a, b)


def test_impossible_geometry():
    with pytest.raises(ValueError, match="shrinks"):
        output_shapes(ModelConfig(layers=[LayerConfig(4, 9, padding=0)]), (1, 5, 5))


def test_calibrated_init_starts_goodness_near_threshold():
    torch.manual_seed(0)
    cfg = ModelConfig(
        layers=[LayerConfig(16, 5, train=False), LayerConfig(32, 5), LayerConfig(32, 5)]
    )
    x = torch.rand(64, 1, 28, 28)
    ratios = [
        float((a.pow(2).flatten(1).sum(1) / t).mean())
        for a, t in zip(FFNet(cfg, (1, 28, 28))(x), FFNet(cfg, (1, 28, 28)).thresholds)
    ]
    assert all(0.5 < r < 2.0 for r in ratios), ratios
    torch.manual_seed(0)
    default = FFNet(ModelConfig(layers=cfg.layers, init="torch"), (1, 28, 28))
    r_torch = [
        float((a.pow(2).flatten(1).sum(1) / t).mean())
        for a, t in zip(default(x), default.thresholds)
    ]
    assert all(r < 0.4 for r in r_torch), r_torch  # PyTorch's default starts far below θ
