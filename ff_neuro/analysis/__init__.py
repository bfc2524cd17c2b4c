"""Stage 5: pictures and the run report (label gallery, CAMs, learning curves, separation, spiking,
Lava deployment, hardware cost).

Everything draws with matplotlib's Agg backend on :class:`~matplotlib.figure.Figure` objects: no
display is needed. ``build_report(run_dir)`` writes ``run_dir/report/index.html``.

Public API:
  build_report(run_dir, ...)                                  → Path of index.html
  class_activation_maps(features, weight, shapes, layers)     → CAMs per layer and "combined"
  rate_model_cams(model, x) / spiking_cams(snn, x)            → CAMs of a trained model
  goodness_samples(model, x, y) / separation_score(...)       → positive/negative goodness per layer
  plot_label_patterns, plot_label_overlay, plot_cam_grid, plot_learning_curves,
  plot_goodness_separation, plot_accuracy_vs_timesteps, plot_firing_rates, plot_spike_raster,
  plot_hardware_cost                                          → each writes one PNG and returns its path
  browser.layout(html) / browser.screenshot(html, png)        → the report in headless Chromium
"""

from .cam import class_activation_maps, plot_cam_grid, rate_model_cams, split_head_weight
from .gallery import plot_label_overlay, plot_label_patterns
from .plots import (
    AnalysisInputError,
    plot_accuracy_vs_timesteps,
    plot_firing_rates,
    plot_hardware_cost,
    plot_learning_curves,
    plot_spike_raster,
)
from .report import ReportError, build_report
from .separation import goodness_samples, plot_goodness_separation, separation_score
from .spiking_views import raster_trains, spiking_cams

__all__ = [
    "AnalysisInputError",
    "ReportError",
    "build_report",
    "class_activation_maps",
    "goodness_samples",
    "plot_accuracy_vs_timesteps",
    "plot_cam_grid",
    "plot_firing_rates",
    "plot_goodness_separation",
    "plot_hardware_cost",
    "plot_label_overlay",
    "plot_label_patterns",
    "plot_learning_curves",
    "plot_spike_raster",
    "raster_trains",
    "rate_model_cams",
    "separation_score",
    "spiking_cams",
    "split_head_weight",
]
