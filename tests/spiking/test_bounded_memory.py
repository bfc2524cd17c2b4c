"""Bounded memory (issue 12): no simulation holds more than a fixed number of image-steps at once,
whatever T and the number of images. Calibration (``mean_window_rms``) once simulated every
calibration image × T steps in one go and was killed at 21 GB for T = 256; these tests record the
T·N of every call into the real simulator and fail if a call exceeds the chunk bound."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

from ff_neuro.spiking.convert import CALIB_BATCH_STEPS, mean_window_rms
from ff_neuro.spiking.network import SpikingNetwork
from ff_neuro.spiking.spec import LIFConvSpec, SpikingNetSpec

# the modules (ff_neuro.spiking re-exports a function named ``convert``)
convert_mod = importlib.import_module("ff_neuro.spiking.convert")
network_mod = importlib.import_module("ff_neuro.spiking.network")


def tiny_spec(T: int) -> SpikingNetSpec:
    rng = np.random.default_rng(0)
    layer = LIFConvSpec(
        rng.normal(0, 0.5, (3, 1, 3, 3)).astype(np.float32),
        np.zeros(3, np.float32),
        1,
        1,
        1.0,
        1.0,
        (1, 8, 8),
        (3, 8, 8),
    )
    return SpikingNetSpec(
        [layer],
        T,
        "rate",
        [0],
        [0],
        None,
        None,
        {"labels": {"set": 1, "K": 0.35, "num_classes": 10}, "in_shape": [1, 8, 8]},
    )


def spy(monkeypatch, module, name: str) -> list[int]:
    """Wrap the real ``module.name`` so that each call records the image-steps T·N it simulates."""
    seen: list[int] = []
    real = getattr(module, name)

    def wrapped(*args, **kwargs):
        x = args[0] if name == "simulate_layer" else args[1]
        seen.append(int(x.shape[0] * x.shape[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)
    return seen


@pytest.mark.parametrize("T", [16, 256, 1024])
def test_calibration_is_chunked(monkeypatch, T):
    seen = spy(monkeypatch, convert_mod, "simulate_layer")
    spec = tiny_spec(T)
    x = torch.rand(40, 1, 8, 8)  # 40 images × T: 640 … 40,960 image-steps in all
    rho = mean_window_rms(spec.layers, x, T, "rate", seed=1)
    assert np.isfinite(rho) and rho > 0
    assert sum(seen) == 40 * T  # every image-step simulated once …
    assert max(seen) <= max(CALIB_BATCH_STEPS, T)  # … in chunks of at most the bound


@pytest.mark.parametrize("T", [16, 256])
def test_evaluation_is_chunked(monkeypatch, T):
    seen = spy(monkeypatch, network_mod, "simulate_layers")
    sn = SpikingNetwork(tiny_spec(T), max_batch_steps=256)
    counts = sn.spike_counts(torch.rand(50, 1, 8, 8))
    assert counts[0].shape == (50, 3, 8, 8) and int(counts[0].max()) <= T
    assert sum(seen) == 50 * T and max(seen) <= max(256, T)


def test_chunking_does_not_change_the_result():
    """The chunk size is a memory knob only: counts are identical for any chunk (current encoding)."""
    spec = tiny_spec(64)
    spec.encoding = "current"
    x = torch.rand(30, 1, 8, 8)
    a = SpikingNetwork(spec, max_batch_steps=64).spike_counts(x)
    b = SpikingNetwork(spec, max_batch_steps=64 * 30).spike_counts(x)
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=0)
