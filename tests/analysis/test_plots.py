"""Plots drawn from the stages' JSON metrics, on small synthetic files of the real schemas."""

from __future__ import annotations

import numpy as np
import pytest

from ff_neuro.analysis.plots import AnalysisInputError, plot_accuracy_vs_timesteps

from .helpers import assert_png


def spike_metrics():
    def row(enc, t, lin, good):
        return {
            "variant": "default",
            "encoding": enc,
            "timesteps": t,
            "acc_linear": lin,
            "acc_goodness": good,
            "spikes_per_inference": {"layer0": 10.0 * t, "layer1": 5.0 * t, "layer2": 2.0 * t},
            "spikes_total": 17.0 * t,
            "seconds": 0.1 * t,
        }

    return {
        "rate": {"acc_linear": 0.95, "acc_goodness": 0.9},
        "samples": 100,
        "split": "test",
        "results": [
            row("current", 4, 0.6, 0.5),
            row("current", 16, 0.9, 0.85),
            row("current", 64, 0.94, 0.9),
            row("rate", 4, 0.4, None),
            row("rate", 64, 0.9, None),
        ],
        "firing_rates": {"layer0": 0.12, "layer1": 0.05, "layer2": 0.02},
    }


def test_accuracy_vs_timesteps(tmp_path):
    path = plot_accuracy_vs_timesteps(spike_metrics(), tmp_path / "acc_t.png")
    assert path == tmp_path / "acc_t.png"
    assert_png(path, (700, 420))


def test_accuracy_vs_timesteps_rejects_empty(tmp_path):
    with pytest.raises(AnalysisInputError, match="no results"):
        plot_accuracy_vs_timesteps({"results": []}, tmp_path / "x.png")
    with pytest.raises(AnalysisInputError, match="lacks"):
        plot_accuracy_vs_timesteps({}, tmp_path / "x.png")


def test_firing_rates_and_raster(tmp_path):
    from ff_neuro.analysis.plots import plot_firing_rates, plot_spike_raster

    assert_png(plot_firing_rates(spike_metrics(), tmp_path / "fr.png"), (900, 360))
    rng = np.random.default_rng(0)
    trains = {f"layer{i}": rng.random((16, 12)) < 0.2 for i in range(3)}
    assert_png(plot_spike_raster(trains, tmp_path / "r.png"), (900, 580))
    with pytest.raises(AnalysisInputError):
        plot_spike_raster({}, tmp_path / "none.png")


def compare():
    return {
        "rows": [
            {"model": "rate", "acc_linear": 0.95, "acc_goodness": 0.9, "samples": 100},
            {"model": "snntorch", "acc_linear": 0.93, "acc_goodness": 0.88, "samples": 100},
            {"model": "lava-float", "acc_linear": 0.93, "acc_goodness": None, "samples": 100},
            {"model": "lava-fixed", "acc_linear": 0.92, "acc_goodness": None, "samples": 100},
        ],
        "cost_by_profile": {
            "loihi2": {
                "energy_per_inference_j": 2e-6,
                "latency_per_inference_s": 1e-3,
                "cores_used": 12,
                "fits": True,
            },
            "loihi1": {
                "energy_per_inference_j": 8e-6,
                "latency_per_inference_s": 3e-3,
                "cores_used": 150,
                "fits": False,
            },
            "cpu": {
                "energy_per_inference_j": 1e-2,
                "latency_per_inference_s": None,
                "cores_used": 1,
                "fits": True,
            },
        },
    }


def test_hardware_cost(tmp_path):
    from ff_neuro.analysis.plots import plot_hardware_cost

    assert_png(plot_hardware_cost(compare(), tmp_path / "cost.png"), (900, 340))
    with pytest.raises(AnalysisInputError, match="no profiles"):
        plot_hardware_cost({"rows": [], "cost_by_profile": {}}, tmp_path / "x.png")
