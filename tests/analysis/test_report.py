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


def section_html(html: str, sid: str) -> str:
    """The HTML of one section of the report."""
    return re.search(rf'<section id="{sid}">(.*?)</section>', html, re.S).group(1)


DEPLOY_ROW_NAMES = [
    "accuracy, linear head",
    "accuracy, goodness",
    "spike-count agreement with the reference",
    "ms per Lava step",
    "spikes per inference",
    "synaptic operations per inference",
    "cores needed",
    "fits on the chip",
    "energy per inference",
    "latency per inference",
]


def test_report_with_spiking_and_lava_data(tiny_run, mnist_small, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run[0], run_dir, ignore=shutil.ignore_patterns("report"))
    (run_dir / "spike_metrics.json").write_text(json.dumps(spike_metrics()))
    cmp = compare()
    cmp["cost_by_profile"]["loihi2"].update(
        energy_per_inference_j=None, latency_per_inference_s=None
    )
    (run_dir / "compare.json").write_text(json.dumps(cmp))
    (run_dir / "deploy_metrics.json").write_text(
        json.dumps(
            {
                "profile": "loihi2",
                "fixed_point": True,
                "samples": 20,
                "timesteps": 16,
                "accuracy": {"linear": 0.9, "goodness": None},
                "goodness_samples": 0,
                "agreement": {"spike_count_agreement": 1.0, "samples_compared": 20},
                "spikes_per_inference": 1234.0,
                "synops_per_inference": 5.0e5,
                "energy_per_inference_j": None,
                "latency_per_inference_s": None,
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
        index,
        ["overview", "labels", "cams", "curves", "separation", "spiking", "lava", "cost", "config"],
    )
    assert manifest["figures"]["spiking"] == [
        "spiking_accuracy_vs_T.png",
        "spiking_firing_rates.png",
    ]
    assert manifest["figures"]["cost"] == ["hardware_cost.png"]
    lava, cost = section_html(html, "lava"), section_html(html, "cost")
    # the comparison: every model by name, with the gap to the rate model in pp
    for name in ("rate model (reference)", "snnTorch", "Lava float", "Lava fixed point"):
        assert f"<td>{name}" in lava
    assert "Δ rate" in lava
    assert "-2.00\u00a0pp" in lava  # snnTorch 93 % vs rate 95 %
    # the deployment: named rows with units and a sentence each, no dict keys, no "n/a"
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]*)</td>", lava)
    assert [r[0] for r in rows if r[0] in DEPLOY_ROW_NAMES] == DEPLOY_ROW_NAMES
    assert ("ms per Lava step", "ms") in rows and ("spikes per inference", "spikes") in rows
    assert "<td>10.00</td>" in lava and "<td>1,234</td>" in lava and "<td>500,000</td>" in lava
    assert "synops_per_inference" not in html and "spike_count_agreement" not in html
    assert "n/a" not in lava and "n/a" not in cost
    # a figure loihi2 does not publish says so, with the profile's source and its full citation
    assert "not published: no per-op energy table published (intel2021)" in lava
    assert "not published: no per-op energy table published (intel2021)" in cost
    assert "Intel, Taking Neuromorphic Computing to the Next Level with Loihi 2" in cost
    # the spiking table has the rate model on the same images, and each row's gap to it
    spiking = section_html(html, "spiking")
    assert "<td>rate model (reference)</td>" in spiking
    assert "-1.00\u00a0pp" in spiking  # T = 64: 94 % vs the rate model's 95 %


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
