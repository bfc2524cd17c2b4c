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
