"""``ff-neuro learn``: one-line user errors, and an end-to-end run on Lava (slow: trains a tiny
run)."""

from __future__ import annotations

import json
import math

import pytest

from ff_neuro.cli import main


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["learn", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ff-neuro: error:") and "\n" not in err
    assert main(["learn", str(tmp_path)]) == 2  # a directory, but not a run
    assert "not a run directory" in capsys.readouterr().err
    assert main(["learn", str(tmp_path), "--backend", "lava", "--batch", "4"]) == 2
    assert "--batch" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["learn", str(tmp_path), "--samples", "0"])
    assert e.value.code == 2


@pytest.mark.slow
def test_learn_on_lava_end_to_end(tiny_run, capsys):
    pytest.importorskip("lava")
    run_dir, _ = tiny_run
    assert (
        main(
            ["learn", str(run_dir), "--layer", "1", "--profile", "loihi2", "--samples", "12"]
            + ["--backend", "lava", "--hidden", "16", "--test-samples", "10", "--points", "2"]
            + ["--lr-shift", "10", "--no-progress", "--rate"]
        )
        == 0
    )
    m = json.loads((run_dir / "learn_metrics.json").read_text())
    assert m["weights_bit_identical"] is True and m["samples"] == 12 and m["windows"] == 24
    assert m["profile"] == "loihi2" and math.isfinite(m["ms_per_step"]) and m["ms_per_step"] >= 0
    assert 0 <= m["test_acc_goodness_before"] <= 1 and 0 <= m["test_acc_goodness_after"] <= 1
    assert [c["windows"] for c in m["curve"]] == [0, 12, 24]
    assert m["learning_energy"]["loihi"]["energy_per_sample_j"] > 0
    assert (run_dir / "learn_curve.png").stat().st_size > 1000
    assert main(["learn", str(run_dir), "--layer", "3", "--no-progress"]) == 2
    assert "out of range" in capsys.readouterr().err


def test_whole_network_options_need_layers_all(tmp_path, capsys):
    assert main(["learn", str(tmp_path), "--objective", "symba"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ff-neuro: error:") and "--layers all" in err and "\n" not in err
    assert main(["learn", str(tmp_path), "--lr-steps", "10"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--lr-steps applies to --layers all" in err and "\n" not in err


@pytest.mark.parametrize("steps", ["100", "0", "20,10", "10,10", "5,x"])
def test_bad_lr_steps_are_one_line_errors(tmp_path, capsys, steps):
    argv = ["learn", str(tmp_path), "--layers", "all", "--samples", "100", "--lr-steps", steps]
    if steps == "5,x":  # argparse refuses it
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2 and "comma-separated sample counts" in capsys.readouterr().err
        return
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ff-neuro: error:") and "--lr-steps" in err and "\n" not in err


@pytest.mark.slow
def test_learn_every_conv_layer_on_lava_end_to_end(native_run_trained, tmp_path, capsys):
    """``--layers all``: the run's trained conv layers learn in one Lava graph (SymBa, hard
    negatives drawn on the chip), bit-identical to the reference at every snapshot."""
    pytest.importorskip("lava")
    out = tmp_path / "learn_metrics.json"
    args = ["learn", str(native_run_trained), "--layers", "all", "--backend", "lava"]
    args += ["--profile", "loihi2", "--samples", "6", "--test-samples", "6", "--points", "2"]
    args += ["--objective", "symba", "--negatives", "hard", "--split", "val", "--no-progress"]
    args += ["--decay-shift", "6", "--saturation-margin", "2"]
    assert main(args + ["--metrics", str(out)]) == 0
    m = json.loads(out.read_text())
    assert m["mode"] == "network" and m["plastic_layers"] == [1, 2] and m["frozen_layers"] == [0]
    assert m["windows_per_sample"] == 12 and m["windows"] == 72  # 10 scoring + pair per sample
    assert m["weights_bit_identical"] is True and m["frozen_layers_stats_identical"] is True
    assert m["config"]["decay_shift"] == 6 and all(r["decay_shift"] == 6 for r in m["rules"])
    assert all(r["saturation_margin"] == 2 and r["saturation_gate"] for r in m["rules"])
    for layer in m["layers"]:
        assert layer["weights_bit_identical"] is True and all(layer["snapshots_identical"])
        assert layer["weights_max_abs_diff"] == 0.0
        first, last = layer["curve"][0], layer["curve"][-1]
        act, w0, w1 = last["activity"], first["weights"], last["weights"]
        assert 0 <= act["silent"] <= 1 and 0 <= act["saturated"] <= 1
        assert 0 < w1["abs_mean"] < w0["abs_mean"]  # 6 pairs, each shrinking W by 2^-6
        assert 0 <= w1["at_clip"] <= 1 and w1["std"] > 0
    assert "bit-identical" in capsys.readouterr().out
