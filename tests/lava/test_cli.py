"""The export / deploy / compare commands on the tiny trained run (real MNIST, real Lava)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("lava.magma")

DEPLOY_KEYS = {
    "profile",
    "fixed_point",
    "samples",
    "timesteps",
    "accuracy",
    "agreement",
    "spikes_per_inference",
    "synops_per_inference",
    "energy_per_inference_j",
    "latency_per_inference_s",
    "cores_used",
    "fits",
    "wall_seconds",
    "steps_per_second",
    "lava_ms_per_step",
}


def test_deploy_writes_metrics_with_full_agreement(tiny_run, capsys):
    from ff_neuro.cli import main

    run_dir = tiny_run[0]
    assert (
        main(["deploy", str(run_dir), "--profile", "loihi", "--samples", "3", "--timesteps", "6"])
        == 0
    )
    m = json.loads((run_dir / "deploy_metrics.json").read_text())
    assert DEPLOY_KEYS <= set(m)
    assert (
        m["agreement"]["spike_count_agreement"] == 1.0 and m["agreement"]["samples_compared"] == 3
    )
    assert m["agreement"]["dense_readout_prediction_agreement"] == 1.0
    assert set(m["accuracy"]) == {"linear", "goodness"} and m["accuracy"]["goodness"] is None
    assert (
        m["fits"]
        and m["cores_used"] > 0
        and m["energy_per_inference_j"] > 0
        and m["spikes_per_inference"] > 0
    )
    assert "spike-count agreement" in capsys.readouterr().out


def test_deploy_fixed_point_matches_the_emulation(tiny_run):
    from ff_neuro.lava.deploy import deploy_run

    m = deploy_run(tiny_run[0], "loihi2", 2, fixed_point=True, timesteps=6, write=False)
    assert m["fixed_point"] and m["agreement"]["spike_count_agreement"] == 1.0
    assert m["energy_per_inference_j"] is None and m["quantisation"]["layers"][0]["du"] == 4095


def test_deploy_rejects_bad_profiles(tiny_run, capsys):
    from ff_neuro.cli import main

    assert (
        main(["deploy", str(tiny_run[0]), "--profile", "ideal", "--samples", "1", "--fixed-point"])
        == 2
    )
    assert "float profile" in capsys.readouterr().err
    assert main(["deploy", str(tiny_run[0]), "--profile", "nope", "--samples", "1"]) == 2


@pytest.mark.slow
def test_compare_writes_the_table(tiny_run, capsys):
    from ff_neuro.cli import main

    run_dir = tiny_run[0]
    assert main(["compare", str(run_dir), "--samples", "3", "--timesteps", "6"]) == 0
    out = json.loads((run_dir / "compare.json").read_text())
    assert [r["model"] for r in out["rows"]] == ["rate", "snntorch", "lava-float", "lava-fixed"]
    assert all(r["samples"] == 3 for r in out["rows"])
    assert {"loihi", "loihi2", "ideal", "truenorth"} <= set(out["cost_by_profile"])
    assert not out["cost_by_profile"]["truenorth"]["fits"]
    rate, snn, flt, fix = out["rows"]
    assert rate["gap_linear_pp"] == 0.0 and rate["agreement_linear"] == 1.0
    # Lava float runs the very network snnTorch runs: same spikes, same classes
    assert flt["spike_count_agreement"] == 1.0 and flt["reference"] == "snnTorch"
    assert flt["acc_linear"] == snn["acc_linear"]
    assert flt["gap_linear_pp"] == pytest.approx(100 * (flt["acc_linear"] - rate["acc_linear"]))
    assert fix["reference"] == "integer emulation" and fix["spike_count_agreement"] == 1.0
    assert fix["acc_goodness"] is None and fix["goodness_samples"] is None  # no --goodness
    assert out["lava"]["lava-fixed"]["fixed_point"] and not out["lava"]["lava-float"]["fixed_point"]
    printed = capsys.readouterr().out
    assert "Δ rate" in printed and "not published" in printed and "n/a" not in printed


def test_export_every_format(tiny_run, tiny_spec, tmp_path):
    from ff_neuro.cli import main
    from ff_neuro.hardware.export import export_spec

    assert (
        main(
            [
                "export",
                str(tiny_run[0]),
                "--profile",
                "loihi2",
                "--out",
                str(tmp_path / "lava"),
                "--format",
                "lava",
                "--timesteps",
                "4",
            ]
        )
        == 0
    )
    assert (tmp_path / "lava" / "lava_net.npz").is_file()
    for fmt, name in (("netx", "network.net"), ("nir", "network.nir")):
        paths = export_spec(tiny_spec, "loihi2", tmp_path / fmt, fmt)
        assert (tmp_path / fmt / name) in paths and (tmp_path / fmt / "labels.json").is_file()
