"""The report as a reader sees it: laid out and screenshotted by headless Chromium, on a run that went
through every stage (tiny network, real MNIST, real Lava). Skips when Chromium is not installed."""

from __future__ import annotations

import numpy as np
import pytest

from ff_neuro.analysis.browser import find_browser, layout, screenshot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_browser() is None,
        reason="chromium is not installed (apt-get install -y chromium chromium-driver)",
    ),
]

ROWS = [  # rendered text of the Lava section: the named rows a reader looks for
    "accuracy, linear head",
    "accuracy, goodness",
    "spike-count agreement with the reference",
    "ms per Lava step",
    "spikes per inference",
    "synaptic operations per inference",
    "cores needed",
    "fits on the chip",
    "energy per inference",
]


@pytest.fixture
def report_of_every_stage(tiny_run, mnist_small):
    pytest.importorskip("lava.magma")
    from ff_neuro.analysis import build_report
    from ff_neuro.pipeline import compare_run
    from ff_neuro.spiking import spike_run

    run_dir = tiny_run[0]
    spike_run(run_dir, [6], ["current"], 20, ["static"], "cpu", dataset=mnist_small)
    compare_run(run_dir, 3, timesteps=6, dataset=mnist_small, goodness=True)
    return build_report(run_dir, dataset=mnist_small, samples=50, spiking=False)


def test_the_report_reads_as_tables_in_chromium(report_of_every_stage, tmp_path):
    page = layout(report_of_every_stage, width=1200)
    main, sections = page["main"], page["sections"]
    assert {"overview", "spiking", "lava", "cost", "config"} <= set(sections)
    lava, cost = sections["lava"], sections["cost"]
    # every table of the Lava and cost sections fits in the page's column: no sideways scrolling
    assert len(lava["tables"]) == 2 and len(cost["tables"]) == 1
    for t in lava["tables"] + cost["tables"]:
        assert main["left"] <= t["left"] and t["right"] <= main["right"] + 0.5, (t, main)
    # the rendered text: named rows and units, no dict dump, no "n/a"
    text = lava["text"]
    for row in ROWS:
        assert row in text, row
    assert "Lava float" in text and "Lava fixed point" in text and "snnTorch" in text
    assert "spike_count_agreement" not in text and "{" not in text
    assert "n/a" not in text and "n/a" not in cost["text"]
    assert "not published: no per-op energy table published (intel2021)" in cost["text"]
    assert "Intel, Taking Neuromorphic Computing to the Next Level with Loihi 2" in cost["text"]

    from PIL import Image

    png = screenshot(report_of_every_stage, tmp_path / "report.png", width=1200)
    with Image.open(png) as im:
        assert im.size == (1200, page["height"])
        box = lava["box"]
        crop = np.asarray(im.convert("L").crop((0, int(box["top"]), 1200, int(box["bottom"]))))
    # the Lava section is drawn: text and table rules, not a blank band
    assert crop.shape[0] == int(box["bottom"]) - int(box["top"]) > 300
    assert (crop < 128).mean() > 0.005 and len(np.unique(crop)) > 20
