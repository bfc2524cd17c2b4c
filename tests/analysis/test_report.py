"""``build_report`` / ``ff-neuro report`` on a tiny trained run, with and without later-stage data."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from ff_neuro.analysis import ReportError, build_report
from ff_neuro.analysis.report import SECTION_TITLES
from ff_neuro.cli import main

from .helpers import assert_png
from .test_plots import compare, spike_metrics

RATE_SECTIONS = ["overview", "labels", "cams", "curves", "separation", "config"]


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z]+)">', html)


def check_report(index, expected):
    html = index.read_text()
    manifest = json.loads((index.parent / "manifest.json").read_text())
    assert manifest["sections"] == expected == section_ids(html)
    for sid in SECTION_TITLES:
        assert (f'id="{sid}"' in html) == (sid in expected)
        assert (f'href="#{sid}"' in html) == (sid in expected)
    for sid in expected:
        assert f">{SECTION_TITLES[sid]}</h2>" in html
    figures = [f for names in manifest["figures"].values() for f in names]
    assert html.count('src="data:image/png;base64,') == len(figures)
    for name in figures:
        assert_png(index.parent / name)
    assert "http://" not in html and "https://" not in html  # self-contained
    return html, manifest


def test_report_of_a_rate_run(tiny_run, mnist_small, tmp_path):
    run_dir, metrics = tiny_run
    index = build_report(run_dir, tmp_path / "rep", dataset=mnist_small, samples=100, spiking=False)
    assert index == tmp_path / "rep" / "index.html"
    html, manifest = check_report(index, RATE_SECTIONS)
    assert manifest["figures"]["cams"] == ["cam_rate.png"]
    assert f"{100 * metrics['test_acc_linear']:.2f} %" in html
    assert (run_dir / "config.yaml").read_text().splitlines()[0] in html


def test_report_with_spiking_and_lava_data(tiny_run, mnist_small, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run[0], run_dir, ignore=shutil.ignore_patterns("report"))
    (run_dir / "spike_metrics.json").write_text(json.dumps(spike_metrics()))
    (run_dir / "compare.json").write_text(json.dumps(compare()))
    (run_dir / "deploy_metrics.json").write_text(
        json.dumps(
            {
                "profile": "loihi2",
                "fixed_point": True,
                "samples": 20,
                "timesteps": 16,
                "accuracy": {"linear": 0.9, "goodness": None},
                "agreement": {"spike_count_agreement": 1.0, "samples_compared": 20},
                "spikes_per_inference": 1234.0,
                "synops_per_inference": 5.0e5,
                "energy_per_inference_j": 2e-6,
                "latency_per_inference_s": 1e-3,
                "cores_used": 12,
                "fits": True,
                "wall_seconds": 3.2,
                "steps_per_second": 100.0,
                "lava_ms_per_step": 10.0,
            }
        )
    )
    index = build_report(run_dir, dataset=mnist_small, samples=100, spiking=False)
    assert index == run_dir / "report" / "index.html"
    html, manifest = check_report(
        index, ["overview", "labels", "cams", "curves", "separation", "spiking", "cost", "config"]
    )
    assert manifest["figures"]["spiking"] == [
        "spiking_accuracy_vs_T.png",
        "spiking_firing_rates.png",
    ]
    assert manifest["figures"]["cost"] == ["hardware_cost.png"]
    assert (
        "Rate / spike / Lava comparison" in html
        and "lava-fixed" in html
        and "synops_per_inference" in html
    )


def test_cli_report(tiny_run, tmp_path, capsys):
    run_dir, _ = tiny_run
    assert (
        main(
            [
                "report",
                str(run_dir),
                "--out",
                str(tmp_path / "r"),
                "--samples",
                "100",
                "--no-spiking",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert "report:" in capsys.readouterr().out
    check_report(tmp_path / "r" / "index.html", RATE_SECTIONS)


def test_report_errors(tmp_path, capsys):
    with pytest.raises(ReportError, match="does not exist"):
        build_report(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "no checkpoint" in capsys.readouterr().err
