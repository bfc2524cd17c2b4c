"""Plots drawn from a run's JSON metrics (no model needed): spiking accuracy vs T, firing rates,
learning curves and hardware cost.

Input schemas are those written by the stages: ``spike_metrics.json`` (ff_neuro.spiking),
``metrics.jsonl`` (the trainer), ``compare.json`` (ff_neuro.lava). Every function takes the parsed
object and an output path and returns the path of the PNG it wrote.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from ..errors import FFNeuroError
from .figures import REF_COLOUR, new_figure, save_figure

ENCODING_MARKERS = {"current": "o", "rate": "s"}


class AnalysisInputError(FFNeuroError):
    """A metrics file given to an analysis function lacks the data it needs."""


def _require(obj: dict, keys: tuple[str, ...], what: str) -> None:
    missing = [k for k in keys if k not in obj]
    if missing:
        raise AnalysisInputError(f"{what} lacks {missing}; regenerate it with the stage that writes it")


def plot_accuracy_vs_timesteps(spike_metrics: dict[str, Any], path: str | Path) -> Path:
    """Accuracy of the spiking network against the number of time steps T.

    One line per (variant, encoding) and classifier (linear solid, goodness dashed); the rate
    model's accuracies are drawn as horizontal reference lines.
    """
    _require(spike_metrics, ("results",), "spike_metrics")
    if not spike_metrics["results"]:
        raise AnalysisInputError("spike_metrics has no results; run `ff-neuro spike` with at least one T")
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in spike_metrics["results"]:
        groups[(str(r.get("variant", "default")), str(r["encoding"]))].append(r)
    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot()
    colours = iter(f"C{i % 10}" for i in range(len(groups)))
    for (variant, encoding), rows in sorted(groups.items()):
        rows = sorted(rows, key=lambda r: r["timesteps"])
        ts = [r["timesteps"] for r in rows]
        colour = next(colours)
        marker = ENCODING_MARKERS.get(encoding, "^")
        name = encoding if variant in ("default", "") else f"{variant} / {encoding}"
        ax.plot(ts, [100 * r["acc_linear"] for r in rows], marker=marker, color=colour, label=f"{name}: linear")
        good = [(t, r["acc_goodness"]) for t, r in zip(ts, rows) if r.get("acc_goodness") is not None]
        if good:
            ax.plot([t for t, _ in good], [100 * g for _, g in good], marker=marker, ls="--", color=colour,
                    mfc="none", label=f"{name}: goodness")
    rate = spike_metrics.get("rate") or {}
    if rate.get("acc_linear") is not None:
        ax.axhline(100 * rate["acc_linear"], color=REF_COLOUR, ls="-", lw=1, label="rate model: linear")
    if rate.get("acc_goodness") is not None:
        ax.axhline(100 * rate["acc_goodness"], color=REF_COLOUR, ls=":", lw=1, label="rate model: goodness")
    all_t = sorted({r["timesteps"] for r in spike_metrics["results"]})
    if len(all_t) > 1 and all_t[0] > 0 and all_t[-1] / all_t[0] >= 8:
        ax.set_xscale("log", base=2)
    ax.set_xticks(all_t, [str(t) for t in all_t])
    ax.set_xlabel("time steps T")
    ax.set_ylabel("accuracy (%)")
    n = spike_metrics.get("samples")
    ax.set_title("Spiking accuracy vs time steps" + (f" ({n} {spike_metrics.get('split', 'test')} images)" if n else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return save_figure(fig, path)
