"""Every figure of the report on a tiny trained model: written, of the expected pixel size, not blank."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ff_neuro.analysis import (
    goodness_samples,
    plot_cam_grid,
    plot_goodness_separation,
    plot_label_overlay,
    plot_label_patterns,
    plot_learning_curves,
    rate_model_cams,
    separation_score,
)
from ff_neuro.analysis.cam import pick_examples
from ff_neuro.analysis.plots import AnalysisInputError
from ff_neuro.ff import open_run

from .helpers import assert_png


@pytest.fixture(scope="module")
def tiny(tiny_run_trained, mnist_small):
    run_dir, _ = tiny_run_trained
    run = open_run(run_dir, "cpu")
    model, cfg = run.model, run.cfg
    x = torch.from_numpy(mnist_small.test.x[:300]).unsqueeze(1).float() / 255
    y = torch.from_numpy(mnist_small.test.y[:300])
    return run_dir, model, cfg, x, y


def test_label_figures(tiny, tmp_path):
    _, model, _, x, y = tiny
    assert_png(plot_label_patterns(model.labels, tmp_path / "p.png"), (800, 385))
    assert_png(
        plot_label_overlay(
            model.labels, x[0, 0], int(y[0]), (int(y[0]) + 1) % 10, tmp_path / "o.png"
        ),
        (800, 240),
    )
    with pytest.raises(ValueError, match="must differ"):
        plot_label_overlay(model.labels, x[0, 0], 3, 3, tmp_path / "bad.png")


def test_cam_grid(tiny, tmp_path):
    _, model, _, x, y = tiny
    idx = pick_examples(y.numpy(), model.predict_linear(x).numpy(), 1, 10)
    cams = rate_model_cams(model, x[idx])
    img = assert_png(
        plot_cam_grid(x[idx], y[idx].tolist(), cams, tmp_path / "cam.png"), (740, 1600)
    )
    assert img.shape[:2] == (1600, 740)


def test_learning_curves(tiny, tmp_path):
    run_dir = tiny[0]
    history = [json.loads(s) for s in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert_png(plot_learning_curves(history, tmp_path / "c.png"), (900, 360))
    with pytest.raises(AnalysisInputError):
        plot_learning_curves([], tmp_path / "none.png")


def test_goodness_separation(tiny, tmp_path):
    _, model, cfg, x, y = tiny
    g = goodness_samples(model, x, y, batch_size=128)
    assert sorted(g) == [0, 1, 2]
    assert all(g[l]["pos"].shape == (300,) and g[l]["neg"].shape == (300,) for l in g)
    assert all(np.all(g[l]["pos"] >= 0) for l in g)
    assert_png(
        plot_goodness_separation(
            g, model.net.thresholds, tmp_path / "s.png", cfg.model.loss_layers
        ),
        (1080, 320),
    )


def test_separation_score_is_exact():
    pos, neg = np.array([5.0, 1.0, 7.0, 9.0]), np.array([1.0, 2.0, 6.0, 0.5])
    # θ = 4: P[G⁺ > θ] = 3/4, P[G⁻ ≤ θ] = 3/4
    assert separation_score(pos, neg, 4.0) == 0.75
