"""Class Activation Maps: exact against a hand computation, and a decomposition of the head's logits."""

from __future__ import annotations

import numpy as np
import torch

from ff_neuro.analysis.cam import (
    COMBINED,
    class_activation_maps,
    pick_examples,
    rate_model_cams,
    split_head_weight,
)
from ff_neuro.ff import open_run, rms_norm


def test_cam_equals_hand_computation():
    # two readout layers: layer 1 with 1 channel of 2x2, layer 2 with 2 channels of 2x2; 2 classes
    shapes = [(3, 2, 2), (1, 2, 2), (2, 2, 2)]
    a1 = torch.tensor([[[[1.0, 2.0], [0.0, 3.0]]]])  # (1, 1, 2, 2)
    a2 = torch.tensor([[[[1.0, 0.0], [2.0, 1.0]], [[0.0, 1.0], [1.0, 2.0]]]])  # (1, 2, 2, 2)
    w = torch.arange(24, dtype=torch.float32).view(2, 12)  # (classes, 4 + 8)
    cams = class_activation_maps({1: a1, 2: a2}, w, shapes, [1, 2])
    # class 1, pixel (1, 1): layer 1 uses w[1, 0:4] in (k, y, x) order → index 3 → 15; 3 · 15 = 45
    assert cams[1][0, 1, 1, 1].item() == 3 * 15
    # layer 2, class 0, pixel (0, 1): channel 0 index 4+1=5 (w=5), channel 1 index 4+4+1=9 (w=9): 0·5 + 1·9
    assert cams[2][0, 0, 0, 1].item() == 0 * 5 + 1 * 9
    # a full loop over every class and pixel
    for c in range(2):
        for y in range(2):
            for x in range(2):
                l1 = a1[0, 0, y, x] * w[c, y * 2 + x]
                l2 = sum(a2[0, k, y, x] * w[c, 4 + k * 4 + y * 2 + x] for k in range(2))
                assert cams[1][0, c, y, x].item() == l1.item()
                assert cams[2][0, c, y, x].item() == l2.item()
                assert cams[COMBINED][0, c, y, x].item() == (l1 + l2).item()


def test_cam_pixel_sum_is_the_linear_part_of_the_logit():
    g = torch.Generator().manual_seed(0)
    shapes = [(2, 3, 3), (4, 3, 3)]
    feats = {0: torch.randn(5, 2, 3, 3, generator=g), 1: torch.randn(5, 4, 3, 3, generator=g)}
    w = torch.randn(7, 54, generator=g)
    cams = class_activation_maps(feats, w, shapes, [0, 1])
    flat = torch.cat([feats[0].flatten(1), feats[1].flatten(1)], 1)
    torch.testing.assert_close(cams[COMBINED].sum((2, 3)), flat @ w.T, rtol=1e-5, atol=1e-5)


def test_split_rejects_a_foreign_head():
    import pytest

    with pytest.raises(ValueError, match="do not belong"):
        split_head_weight(torch.zeros(10, 5), [(1, 2, 2)], [0])


def test_rate_model_cams_decompose_the_logits(tiny_run, mnist_small):
    run_dir, _ = tiny_run
    run = open_run(run_dir, "cpu")
    model, cfg = run.model, run.cfg
    x = torch.from_numpy(mnist_small.test.x[:6]).unsqueeze(1).float() / 255
    cams = rate_model_cams(model, x)
    assert set(cams) == {*cfg.model.readout_layers, COMBINED}
    c, h, w = model.net.shapes[1]
    assert cams[COMBINED].shape == (6, 10, h, w)
    with torch.no_grad():
        acts = model.net(model.labels.neutral(x))
        logits = model.head(model.net.features(acts))
    torch.testing.assert_close(
        cams[COMBINED].sum((2, 3)) + model.head.fc.bias, logits, rtol=1e-4, atol=1e-4
    )
    # one pixel by hand: Σ_k rms_norm(a_1)[k, 7, 9] · W[3, k·H·W + 7·W + 9]
    a1 = rms_norm(acts[1])
    hand = sum(a1[0, k, 7, 9] * model.head.fc.weight[3, k * h * w + 7 * w + 9] for k in range(c))
    assert abs(cams[1][0, 3, 7, 9].item() - hand.item()) < 1e-5


def test_pick_examples_prefers_correct_predictions():
    y = np.array([0, 1, 0, 1, 2])
    pred = np.array([1, 1, 0, 0, 2])
    assert pick_examples(y, pred, 1, 3).tolist() == [2, 1, 4]
    assert pick_examples(y, None, 2, 2).tolist() == [0, 2, 1, 3]
