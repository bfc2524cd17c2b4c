"""Resource and activity estimates: exact synop counts, fits / does not fit."""

from __future__ import annotations

import numpy as np
import pytest

from ff_neuro.hardware.cost import activity, cost_report, estimate_resources
from ff_neuro.spiking.spec import LIFConvSpec


def layer(cin, cout, hw, k=3):
    return LIFConvSpec(
        np.zeros((cout, cin, k, k), np.float32),
        np.zeros(cout, np.float32),
        1,
        k // 2,
        1.0,
        1.0,
        (cin, hw, hw),
        (cout, hw, hw),
    )


def test_synops_count_every_event_target_pair():
    l0, l1 = layer(1, 4, 5), layer(4, 2, 5)
    x = np.ones((1, 2, 1, 5, 5))  # 2 steps of a full graded image: 50 input events
    c0 = np.zeros((1, 4, 5, 5))
    c0[0, 0, 2, 2] = 3  # 3 spikes of a centre neuron: each reaches 2·9 targets
    act = activity([l0, l1], x, [c0, np.zeros((1, 2, 5, 5))])
    # layer 0: Σ over pixels of (#outputs reading it) · 4 channels, times 2 steps = 2 · 4 · 169
    assert act["synops_per_inference"] == 2 * 4 * 169 + 3 * 2 * 9
    assert act["spikes_per_inference"] == 3 and act["input_events_per_inference"] == 50
    assert act["neuron_updates_per_inference"] == 2 * (100 + 50)


def test_cores_and_energy_on_loihi():
    big = layer(16, 32, 28, k=5)  # 25,088 neurons, fan-in 400, 8-bit weights
    res = estimate_resources([big], "loihi")
    by_neurons = -(-25088 // 1024)
    by_memory = -(-25088 * 400 * 8 // (128 * 1024 * 8))
    assert res.cores_used == max(by_neurons, by_memory) and res.fits
    act = {
        "synops_per_inference": 1e6,
        "spikes_per_inference": 1e4,
        "neuron_updates_per_inference": 1e5,
        "input_events_per_inference": 0.0,
    }
    c = cost_report([big], "loihi", act, 16)
    assert c["energy_per_inference_j"] == pytest.approx(
        1e6 * 23.6e-12 + 1e5 * 81e-12 + 1e4 * 1.7e-12
    )
    assert c["latency_per_inference_s"] == pytest.approx(1e6 / res.cores_used * 3.5e-9)


def test_does_not_fit_is_reported_with_reasons():
    huge = [layer(64, 128, 64, k=7)] * 2  # 2 × 524,288 neurons
    res = estimate_resources(huge, "loihi")
    assert not res.fits and "cores" in res.reasons[0]
    tn = estimate_resources([layer(16, 32, 28, k=5)], "truenorth")
    assert not tn.fits and "fan-in 400 exceeds 256" in tn.reasons[0]
    ideal = estimate_resources(huge, "ideal")
    assert ideal.fits and ideal.cores_used is None


def test_unknown_energy_stays_none():
    act = {
        "synops_per_inference": 1.0,
        "spikes_per_inference": 1.0,
        "neuron_updates_per_inference": 1.0,
        "input_events_per_inference": 0.0,
    }
    c = cost_report([layer(1, 1, 2)], "loihi2", act, 4)
    assert c["energy_per_inference_j"] is None and c["latency_per_inference_s"] is None


def test_synops_of_a_strided_layer_count_the_last_row_too():
    """28×28 → 14×14, 5×5 kernel, stride 2, padding 2: output o reads rows 2o−2 … 2o+2 (o = 0…13). Row 27
    is read by o = 13 only (the transposed conv without output_padding has 27 rows and missed it): an
    event at (27, 27) reaches 1·1 positions of 3 channels = 3 synops; one at (13, 13) reaches o ∈ {6, 7}
    in each direction (2·2 positions) = 12."""
    l0 = LIFConvSpec(
        np.zeros((3, 1, 5, 5), np.float32),
        np.zeros(3, np.float32),
        2,
        2,
        1.0,
        1.0,
        (1, 28, 28),
        (3, 14, 14),
    )
    x = np.zeros((1, 1, 1, 28, 28))
    x[0, 0, 0, 27, 27] = 1
    assert activity([l0], x, [np.zeros((1, 3, 14, 14))])["synops_per_inference"] == 3
    x[0, 0, 0, 13, 13] = 1
    assert activity([l0], x, [np.zeros((1, 3, 14, 14))])["synops_per_inference"] == 3 + 12
