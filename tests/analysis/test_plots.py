"""Plots drawn from the stages' JSON metrics, on small synthetic files of the real schemas."""
from __future__ import annotations

import pytest

from ff_neuro.analysis.plots import AnalysisInputError, plot_accuracy_vs_timesteps

from .helpers import assert_png


def spike_metrics():
    def row(enc, t, lin, good):
        return {"variant": "default", "encoding": enc, "timesteps": t, "acc_linear": lin, "acc_goodness": good,
                "spikes_per_inference": {"layer0": 10.0 * t, "layer1": 5.0 * t, "layer2": 2.0 * t},
                "spikes_total": 17.0 * t, "seconds": 0.1 * t}
    return {"rate": {"acc_linear": 0.95, "acc_goodness": 0.9}, "samples": 100, "split": "test",
            "results": [row("current", 4, 0.6, 0.5), row("current", 16, 0.9, 0.85), row("current", 64, 0.94, 0.9),
                        row("rate", 4, 0.4, None), row("rate", 64, 0.9, None)],
            "firing_rates": {"layer0": 0.12, "layer1": 0.05, "layer2": 0.02}}


def test_accuracy_vs_timesteps(tmp_path):
    path = plot_accuracy_vs_timesteps(spike_metrics(), tmp_path / "acc_t.png")
    assert path == tmp_path / "acc_t.png"
    assert_png(path, (700, 420))


def test_accuracy_vs_timesteps_rejects_empty(tmp_path):
    with pytest.raises(AnalysisInputError, match="no results"):
        plot_accuracy_vs_timesteps({"results": []}, tmp_path / "x.png")
    with pytest.raises(AnalysisInputError, match="lacks"):
        plot_accuracy_vs_timesteps({}, tmp_path / "x.png")
