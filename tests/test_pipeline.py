"""Across the stages: the saved spike spec reaches Lava, and the report of a run that has them all."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("lava.magma")


def test_spike_then_deploy_runs_the_saved_calibration_on_lava(tiny_run, capsys):
    """spike with non-default calibration → deploy: Lava runs that spec (quantised thresholds and
    scales equal those of the saved spec, not of the default conversion), and says which it is."""
    from ff_neuro.cli import main
    from ff_neuro.ff import open_run
    from ff_neuro.hardware.quantize import quantize_spec
    from ff_neuro.lava.deploy import _quant_summary
    from ff_neuro.spiking import load_spec, spec_path, spiking_spec_from_run

    run_dir = tiny_run[0]
    assert (
        main(
            [
                "spike",
                str(run_dir),
                "--timesteps",
                "6",
                "--variant",
                "static",
                "--samples",
                "5",
                "--no-goodness",
                "--percentile",
                "99",
                "--calib-samples",
                "40",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(["deploy", str(run_dir), "--samples", "2", "--timesteps", "6", "--fixed-point"]) == 0
    )
    assert "no saved spike spec" not in capsys.readouterr().err
    m = json.loads((run_dir / "deploy_metrics.json").read_text())
    assert m["spike_spec"]["saved"] == "spiking/static-current-T6.safetensors"
    assert (
        m["spike_spec"]["calibration"]["percentile"] == 99
        and m["spike_spec"]["calibration"]["calib_samples"] == 40
    )
    run = open_run(run_dir)
    saved, _ = load_spec(spec_path(run_dir, "static", "current", 6), run)
    assert m["quantisation"] == _quant_summary(quantize_spec(saved, "loihi2", input_max=1.0))
    default = spiking_spec_from_run(run, 6)
    assert m["quantisation"] != _quant_summary(quantize_spec(default, "loihi2", input_max=1.0))


@pytest.mark.slow
def test_demo_ends_with_the_report_and_report_runs_with_device_auto(tiny_run, capsys):
    """`ff-neuro demo` (on a finished run: spike → deploy → compare → report) prints the report's path
    last; `ff-neuro report --device auto` then works on that run, which holds every stage's results."""
    from ff_neuro.cli import main

    run_dir = tiny_run[0]
    args = [
        "--out",
        str(run_dir),
        "--spike-samples",
        "10",
        "--lava-samples",
        "2",
        "--device",
        "auto",
    ]
    assert main(["demo", *args]) == 0
    out, err = capsys.readouterr()
    index = run_dir / "report" / "index.html"
    assert out.strip().splitlines()[-1] == f"report: {index}" and index.is_file()
    assert "no saved spike spec" not in err
    for name in ("spike_metrics.json", "compare.json"):
        assert (run_dir / name).is_file(), name
    cmp = json.loads((run_dir / "compare.json").read_text())
    assert [r["model"] for r in cmp["rows"]] == ["rate", "snntorch", "lava-float", "lava-fixed"]
    assert all(r["samples"] == 2 and r["goodness_samples"] == 2 for r in cmp["rows"])
    assert set(cmp["lava"]) == {"lava-float", "lava-fixed"}
    # the printed comparison: every model, the gap to the rate model, the spiking table's reference
    for text in (
        "lava-fixed",
        "Δ rate",
        "same class as rate",
        "rate (reference)",
        "ms per Lava step",
    ):
        assert text in out, text
    assert main(["report", str(run_dir), "--samples", "50", "--device", "auto"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"report: {index}" and "no saved spike spec" not in err
    manifest = json.loads((index.parent / "manifest.json").read_text())
    assert {"spiking", "lava", "cost", "cams"} <= set(manifest["sections"]) and manifest[
        "spiking_simulated"
    ]
    assert "cam_spiking.png" in manifest["figures"]["cams"]
    assert manifest["spike_spec"]["saved"] == "spiking/static-current-T16.safetensors"
