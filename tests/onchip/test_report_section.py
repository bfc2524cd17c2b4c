"""The report shows ``ff-neuro learn``'s curve and numbers when the run has them."""

from __future__ import annotations

import json


def test_onchip_section(tmp_path):
    from ff_neuro.analysis.report import onchip_section
    from ff_neuro.onchip.plot import plot_learning_curve

    run, out = tmp_path / "run", tmp_path / "report"
    run.mkdir()
    out.mkdir()
    assert onchip_section(out, run) is None
    m = {
        "backend": "lava",
        "profile": "loihi2",
        "fixed_point": True,
        "samples": 10,
        "windows": 20,
        "hidden": 8,
        "layer": 0,
        "timesteps": 8,
        "test_samples": 5,
        "test_acc_goodness_before": 0.1,
        "test_acc_goodness_after": 0.4,
        "weights_bit_identical": True,
        "ms_per_step": 3.0,
        "curve": [
            {"windows": 0, "test_acc_goodness": 0.1},
            {"windows": 20, "test_acc_goodness": 0.4},
        ],
        "rate_coded": None,
        "torch_rate_model": {"test_acc_goodness": 0.9},
    }
    (run / "learn_metrics.json").write_text(json.dumps(m))
    plot_learning_curve(m, run / "learn_curve.png")
    s = onchip_section(out, run)
    assert s is not None and (out / "learn_curve.png").is_file()
    html = s.render()
    assert "weights_bit_identical" in html and "True" in html and "0.4" in html
