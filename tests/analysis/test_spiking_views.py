"""Spiking CAMs and rasters on the converted tiny run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ff_neuro.analysis import (
    build_report,
    plot_cam_grid,
    plot_spike_raster,
    raster_trains,
    spiking_cams,
)
from ff_neuro.analysis.cam import COMBINED
from ff_neuro.spiking import SpikingNetwork, spiking_spec_from_run

from .helpers import assert_png


@pytest.fixture(scope="module")
def snn(tiny_run_trained, mnist_small):
    return SpikingNetwork(
        spiking_spec_from_run(tiny_run_trained[0], 8, "current", dataset=mnist_small)
    )


@pytest.fixture(scope="module")
def images(mnist_small):
    return (
        torch.from_numpy(mnist_small.test.x[:10]).unsqueeze(1).float() / 255,
        torch.from_numpy(mnist_small.test.y[:10]),
    )


def test_spiking_cams_decompose_the_spiking_head(snn, images, tmp_path):
    x, y = images
    cams = spiking_cams(snn, x)
    assert set(cams) == {*snn.spec.readout_layers, COMBINED}
    with torch.no_grad():
        logits = snn.head(snn.features(x))
    torch.testing.assert_close(
        cams[COMBINED].sum((2, 3)) + snn.head.bias, logits, rtol=1e-4, atol=1e-4
    )
    assert_png(plot_cam_grid(x, y.tolist(), cams, tmp_path / "cam.png"), (740, 1600))


def test_raster_picks_firing_neurons_of_the_real_trains(snn, images, tmp_path):
    x, _ = images
    trains = raster_trains(snn, x[0], neurons=12)
    full = snn.spike_trains(snn.labels.neutral(x[:1]))
    assert list(trains) == [f"layer{l}" for l in range(len(full))]
    for l, s in enumerate(trains.values()):
        assert s.shape == (snn.T, 12) and s.dtype == bool
        counts = s.sum(0)
        assert np.all(np.diff(counts) <= 0)  # ordered by spike count
        flat = full[l][:, 0].reshape(snn.T, -1).numpy() > 0
        # every picked column is one of the layer's real spike trains
        cols = {flat[:, j].tobytes() for j in range(flat.shape[1])}
        assert all(s[:, j].tobytes() in cols for j in range(12))
        if flat.any(0).sum() >= 12:
            assert counts.min() > 0
    assert_png(plot_spike_raster(trains, tmp_path / "r.png"), (900, 580))


@pytest.mark.slow
def test_report_simulates_the_saved_spiking_network(tiny_run, mnist_small, tmp_path):
    """The report's spiking pictures come from the spec `ff-neuro spike` saved (its calibration), not
    from a fresh conversion with the defaults."""
    from ff_neuro.ff import open_run
    from ff_neuro.spiking import spike_run

    run = open_run(tiny_run[0], dataset=mnist_small)
    spike_run(
        run,
        [run.cfg.spiking.timesteps],
        ["current"],
        10,
        ["static"],
        "cpu",
        goodness=False,
        percentile=95.0,
        calib_samples=30,
    )
    (tiny_run[0] / "spike_metrics.json").unlink()  # the raster alone, below
    index = build_report(
        tiny_run[0], tmp_path / "rep", dataset=mnist_small, samples=100, spiking=True
    )
    import json

    manifest = json.loads((index.parent / "manifest.json").read_text())
    assert manifest["spiking_simulated"]
    assert (
        manifest["spike_spec"]["saved"]
        == f"spiking/static-current-T{run.cfg.spiking.timesteps}.safetensors"
    )
    assert manifest["spike_spec"]["calibration"]["percentile"] == 95.0
    assert "cam_spiking.png" in manifest["figures"]["cams"]
    assert manifest["figures"]["spiking"] == [
        "spike_raster.png"
    ]  # no spike_metrics.json: raster only
