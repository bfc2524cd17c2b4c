"""Shared helpers of the Lava tests: small specs with random weights on the exact float grid."""

from __future__ import annotations

import numpy as np
import pytest


def random_spec(
    rng, channels=(4, 6), hw=8, k=3, T=6, beta=1.0, encoding="current", head=False, reset="zero"
):
    from ff_neuro.spiking.spec import LIFConvSpec, SpikingNetSpec

    layers, cin = [], 1
    for c in channels:
        layers.append(
            LIFConvSpec(
                rng.normal(0, 0.5, (c, cin, k, k)).astype(np.float32),
                rng.normal(0, 0.05, c).astype(np.float32),
                1,
                k // 2,
                beta,
                1.0,
                (cin, hw, hw),
                (c, hw, hw),
                reset=reset,
            )
        )
        cin = c
    hw_, hb = None, None
    if head:
        n = sum(int(np.prod(layer.out_shape)) for layer in layers)
        hw_, hb = (
            rng.normal(0, 0.1, (10, n)).astype(np.float32),
            rng.normal(0, 0.1, 10).astype(np.float32),
        )
    return SpikingNetSpec(
        layers, T, encoding, [len(channels) - 1], list(range(len(channels))), hw_, hb
    )


@pytest.fixture
def small_spec(rng):
    return random_spec(rng)


@pytest.fixture(scope="session")
def tiny_spec(tiny_run_trained, mnist_small):
    """The deployable ("static") spiking spec of the tiny trained FF-CNN, T = 8."""
    from ff_neuro.spiking import spiking_spec_from_run

    return spiking_spec_from_run(
        tiny_run_trained[0], timesteps=8, variant="static", dataset=mnist_small, calib_samples=100
    )


@pytest.fixture(scope="session")
def tiny_inputs(tiny_spec, mnist_small):
    """(N, T, 1, 28, 28) encoded neutral-label inputs of 6 real MNIST test images."""

    from ff_neuro.lava.deploy import spec_inputs
    from ff_neuro.spiking.network import labels_for

    x, _ = mnist_small.test.tensors(6)
    return spec_inputs(tiny_spec, labels_for(tiny_spec).neutral(x))
