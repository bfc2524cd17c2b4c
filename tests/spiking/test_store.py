"""The saved spike spec: round trip, provenance, and refusal of a spec of another checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ff_neuro.checkpoint import load_checkpoint, save_checkpoint
from ff_neuro.cli import main
from ff_neuro.ff import open_run
from ff_neuro.spiking import (
    SpecError,
    load_spec,
    run_spec,
    spec_path,
    spike_run,
    spiking_spec_from_run,
)


def _same(a, b) -> None:
    assert a.timesteps == b.timesteps and a.encoding == b.encoding and a.meta == b.meta
    for la, lb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_array_equal(la.weight, lb.weight)
        np.testing.assert_array_equal(la.bias, lb.bias)
        assert (la.threshold, la.beta, la.act_scale, la.reset) == (
            lb.threshold,
            lb.beta,
            lb.act_scale,
            lb.reset,
        )
    np.testing.assert_array_equal(a.head_weight, b.head_weight)


def test_spike_saves_the_spec_with_its_calibration(tiny_run, mnist_small, capsys):
    run = open_run(tiny_run[0], dataset=mnist_small)
    spike_run(
        run,
        [4],
        ["current"],
        10,
        ["static"],
        "cpu",
        goodness=False,
        percentile=95.0,
        calib_samples=30,
        seed=3,
    )
    capsys.readouterr()
    path = spec_path(run.run_dir, "static", "current", 4)
    spec, doc = load_spec(path, run)
    asked = {"calibration": "spikes", "percentile": 95.0, "calib_samples": 30, "seed": 3}
    assert {k: doc["calibration"][k] for k in asked} == asked
    assert doc["checkpoint"] == {"file": "best.safetensors", "sha256": run.sha256}
    assert doc["encoding"] == "current" and doc["timesteps"] == 4 and doc["neuron_reset"] == "zero"
    _same(spec, spiking_spec_from_run(run, 4, "current", percentile=95.0, calib_samples=30, seed=3))
    # later stages load it rather than converting, and say nothing
    again, source = run_spec(run, 4)
    _same(again, spec)
    assert (
        source["saved"] == "spiking/static-current-T4.safetensors" and capsys.readouterr().err == ""
    )
    # a missing spec is converted with the defaults, and a warning says so (one line in the CLI)
    with pytest.warns(UserWarning, match="no saved spike spec .*default calibration") as warned:
        _, source = run_spec(run, 5)
    assert len(warned) == 1 and source["saved"] is None
    assert source["calibration"]["calibration"] == "spikes"


def test_spec_of_another_checkpoint_is_refused(tiny_run, mnist_small, tmp_path, capsys):
    run_dir = tiny_run[0]
    spike_run(
        open_run(run_dir, dataset=mnist_small),
        [4],
        ["current"],
        5,
        ["static"],
        "cpu",
        goodness=False,
        calib_samples=10,
    )
    tensors, meta = load_checkpoint(run_dir / "best.safetensors")  # the run is retrained
    save_checkpoint(run_dir / "best.safetensors", tensors, {**meta, "epoch": meta["epoch"] + 1})
    with pytest.raises(SpecError, match="another checkpoint"):
        run_spec(open_run(run_dir), 4)
    capsys.readouterr()
    assert main(["export", str(run_dir), "--timesteps", "4", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and err[0].startswith("ff-neuro: error: saved spike spec")
        and "ff-neuro spike" in err[0]
    )


def test_damaged_spec_is_refused(tiny_run, mnist_small):
    run = open_run(tiny_run[0], dataset=mnist_small)
    spike_run(run, [4], ["current"], 5, ["static"], "cpu", goodness=False, calib_samples=10)
    path = spec_path(run.run_dir, "static", "current", 4)
    doc = json.loads(path.with_suffix(".json").read_text())
    path.write_bytes(path.read_bytes()[:-8])  # a torn arrays file
    with pytest.raises(SpecError, match="damaged"):
        load_spec(path, run)
    assert doc["format"] == "ff_neuro-spike-spec-1"
