"""benchmarks/lava_step.py and ff_neuro.lava.fast.profile on a small network (real Lava runs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lava.magma")

from ff_neuro.hardware.quantize import quantize_spec  # noqa: E402

from .conftest import random_spec  # noqa: E402


def bench():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "lava_step.py"
    spec = importlib.util.spec_from_file_location("lava_step", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_timed_runs_report_every_process_and_the_floor_has_no_compute(rng):
    b = bench()
    spec = random_spec(rng, beta=0.85)
    net = quantize_spec(spec, "loihi2")
    x = rng.random((2, spec.timesteps, 1, 8, 8)).astype(np.float32)
    maps = b.model_maps(True)
    fast = b.timed_run(net, x, maps["fast"])
    floor = b.timed_run(net, x, maps["reference"], floor=True)
    for run in (fast, floor):
        assert set(run["by_kind"]) == {"conv", "lif", "counter", "source"}
        assert (
            run["by_kind"]["conv"]["processes"] == 2 and run["by_kind"]["counter"]["processes"] == 1
        )
        assert run["steps"] == 2 * spec.timesteps + 3 and run["wall_ms_per_step"] > 0
        assert (
            run["all_processes_cpu_ms_per_step"] is None or run["all_processes_cpu_ms_per_step"] > 0
        )
    conv, conv0 = fast["by_kind"]["conv"], floor["by_kind"]["conv"]
    assert conv["compute_cpu_ms_per_step"] > conv0["compute_cpu_ms_per_step"]
    assert conv["process_cpu_ms_per_step"] >= conv["compute_cpu_ms_per_step"]


def test_side_by_side_agrees_and_reports_the_speed_of_both(rng):
    b = bench()
    spec = random_spec(rng, beta=0.85)
    net = quantize_spec(spec, "loihi2")
    x = rng.random((2, spec.timesteps, 1, 8, 8)).astype(np.float32)
    out = b.side_by_side(net, x)
    assert (
        out["agreement"]["spike_count_agreement"] == 1.0
        and out["agreement"]["identical_samples"] == 2
    )
    assert out["agreement"]["spikes"] > 0
    assert (
        out["reference"]["ms_per_step"] > 0
        and out["fast"]["ms_per_step"] > 0
        and out["speedup"] > 0
    )
