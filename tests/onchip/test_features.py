"""The closed-form IF raster of the frozen layer 0 equals the step-by-step integer emulation."""

from __future__ import annotations

import numpy as np
import torch


def test_closed_form_layer0_raster_equals_emulation(rng):
    from ff_neuro.hardware.quantize import quantize_spec
    from ff_neuro.onchip.features import Frozen, _fixed_rasters
    from ff_neuro.spiking.spec import LIFConvSpec, SpikingNetSpec

    layer = LIFConvSpec(
        rng.normal(0, 0.4, (6, 1, 5, 5)).astype(np.float32),
        rng.normal(0, 0.2, 6).astype(np.float32),
        2,
        2,
        1.0,
        1.0,
        (1, 12, 12),
        (6, 6, 6),
        reset="subtract",
    )
    spec = SpikingNetSpec([layer], 24, "current", [0], [0])
    net = quantize_spec(spec, "loihi2", 1.0)
    x = torch.from_numpy(rng.random((40, 1, 12, 12)).astype(np.float32))
    frozen = Frozen(spec, net, 0)
    a = _fixed_rasters(frozen, x, closed_form=True)
    b = _fixed_rasters(frozen, x, closed_form=False)
    assert a.shape == (40, 24, 216) and a.sum() > 1000 and (a.sum(1) == 24).any()
    assert torch.equal(a, b)


def test_training_windows_pass_the_set_again_in_fresh_orders():
    """Beyond len(y) samples every pass is a permutation of the set in its own seeded order; the
    first pass (and the negatives' draw) are those of a run with at most len(y) samples."""
    from ff_neuro.onchip.features import training_windows

    y = np.arange(50) % 10
    one, three = training_windows(y, 50, 10, 3), training_windows(y, 130, 10, 3)
    img = three.image[0::2]
    assert np.array_equal(img[:50], one.image[0::2])
    assert np.array_equal(three.label[:100:2], y[img[:50]])  # positives carry the true label
    for part in (img[:50], img[50:100]):
        assert sorted(part.tolist()) == list(range(50))
    assert not np.array_equal(img[:50], img[50:100]) and len(set(img[100:].tolist())) == 30
    neg = three.label[1::2]
    assert np.all(neg != y[img]) and np.all((0 <= neg) & (neg < 10))
    assert np.array_equal(training_windows(y, 130, 10, 3).image, three.image)  # seeded
