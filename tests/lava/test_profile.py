"""benchmarks/lava_step.py and ff_neuro.lava.fast.profile on a small network (real Lava runs)."""

from __future__ import annotations

import importlib.util
import math
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


def is_reading(v) -> bool:
    """A clock reading as the benchmark reports it: a finite number ≥ 0. Zero is allowed: on a loaded
    machine a short run can read 0 on a coarse clock (the CPU time from /proc counts 10 ms ticks)."""
    return isinstance(v, float | int) and not isinstance(v, bool) and math.isfinite(v) and v >= 0


TIMINGS = {"compute_cpu_ms_per_step", "port_cpu_ms_per_step", "process_cpu_ms_per_step"}


def test_timed_runs_report_every_process_and_the_floor_has_no_compute(rng):
    """Structure, not clock values: every process kind is reported with every timing as a reading,
    and the floored graph (compute replaced by zeros) emits no spike where the real one does."""
    from ff_neuro.lava import run_lava
    from ff_neuro.lava.fast import profile

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
        assert run["steps"] == 2 * spec.timesteps + 3
        assert is_reading(run["wall_ms_per_step"]) and is_reading(
            run["wall_ms_per_step_last_3_quarters"]
        )
        cpu = run["all_processes_cpu_ms_per_step"]
        assert cpu is None or is_reading(cpu)
        for kind in run["by_kind"].values():
            assert TIMINGS <= set(kind) and all(is_reading(kind[k]) for k in TIMINGS)
        assert set(run["models_total"]) == TIMINGS
    # the floor keeps the graph but computes nothing: Conv and LIF replaced, no spike comes out
    from lava.proc.conv.process import Conv
    from lava.proc.lif.process import LIFReset

    floored = {
        **maps["fast"],
        Conv: profile.floor(maps["fast"][Conv], delayed=True),
        LIFReset: profile.floor(maps["fast"][LIFReset]),
    }
    real = run_lava(net, x, backend="reference", extra_models=maps["fast"])
    none = run_lava(net, x, backend="reference", extra_models=floored)
    assert sum(int(c.sum()) for c in real.counts) > 0
    assert [int(c.sum()) for c in none.counts] == [0] * len(net.layers)


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
    for backend in ("reference", "fast"):
        assert out[backend]["steps"] == 2 * spec.timesteps + 3
        assert is_reading(out[backend]["ms_per_step"])
    assert set(out) == {"reference", "fast", "speedup", "agreement"}
