"""Stage 5: pictures and the run report (label gallery, CAMs, learning curves, separation, spiking, cost).

Everything draws with matplotlib's Agg backend on :class:`~matplotlib.figure.Figure` objects: no
display is needed. ``build_report(run_dir)`` writes ``run_dir/report/index.html``.
"""
from .plots import AnalysisInputError, plot_accuracy_vs_timesteps

__all__ = ["AnalysisInputError", "plot_accuracy_vs_timesteps"]
