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

import numpy as np

from ..errors import FFNeuroError
from .figures import REF_COLOUR, new_figure, save_figure

ENCODING_MARKERS = {"current": "o", "rate": "s"}


class AnalysisInputError(FFNeuroError):
    """A metrics file given to an analysis function lacks the data it needs."""


def _require(obj: dict, keys: tuple[str, ...], what: str) -> None:
    missing = [k for k in keys if k not in obj]
    if missing:
        raise AnalysisInputError(
            f"{what} lacks {missing}; regenerate it with the stage that writes it"
        )


def timestep_axis(ax, results: list[dict]) -> None:
    """x axis over the T values of ``results``: log2 when they span a factor ≥ 8, ticks at every T."""
    all_t = sorted({r["timesteps"] for r in results})
    if len(all_t) > 1 and all_t[0] > 0 and all_t[-1] / all_t[0] >= 8:
        ax.set_xscale("log", base=2)
    ax.set_xticks(all_t, [str(t) for t in all_t])
    ax.minorticks_off()
    ax.set_xlabel("time steps T")


def plot_accuracy_vs_timesteps(spike_metrics: dict[str, Any], path: str | Path) -> Path:
    """Accuracy of the spiking network against the number of time steps T.

    One line per (variant, encoding) and classifier (linear solid, goodness dashed); the rate
    model's accuracies are drawn as horizontal reference lines.
    """
    _require(spike_metrics, ("results",), "spike_metrics")
    if not spike_metrics["results"]:
        raise AnalysisInputError(
            "spike_metrics has no results; run `ff-neuro spike` with at least one T"
        )
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
        ax.plot(
            ts,
            [100 * r["acc_linear"] for r in rows],
            marker=marker,
            color=colour,
            label=f"{name}: linear",
        )
        good = [
            (t, r["acc_goodness"]) for t, r in zip(ts, rows) if r.get("acc_goodness") is not None
        ]
        if good:
            ax.plot(
                [t for t, _ in good],
                [100 * g for _, g in good],
                marker=marker,
                ls="--",
                color=colour,
                mfc="none",
                label=f"{name}: goodness",
            )
    rate = spike_metrics.get("rate") or {}
    if rate.get("acc_linear") is not None:
        ax.axhline(
            100 * rate["acc_linear"], color=REF_COLOUR, ls="-", lw=1, label="rate model: linear"
        )
    if rate.get("acc_goodness") is not None:
        ax.axhline(
            100 * rate["acc_goodness"], color=REF_COLOUR, ls=":", lw=1, label="rate model: goodness"
        )
    timestep_axis(ax, spike_metrics["results"])
    ax.set_ylabel("accuracy (%)")
    n = spike_metrics.get("samples")
    ax.set_title(
        "Spiking accuracy vs time steps"
        + (f" ({n} {spike_metrics.get('split', 'test')} images)" if n else "")
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return save_figure(fig, path)


def plot_learning_curves(history: list[dict[str, Any]], path: str | Path) -> Path:
    """Per-epoch training losses (each FF layer, the head) and validation accuracy of both classifiers.

    ``history`` holds the lines of ``metrics.jsonl``: epoch, loss {layerN, head, total}, val_acc_linear,
    val_acc_goodness. Losses are drawn on a log axis when all are positive.
    """
    if not history:
        raise AnalysisInputError(
            "metrics.jsonl has no epochs; train the run for at least one epoch"
        )
    for r in history:
        _require(r, ("epoch", "loss", "val_acc_linear"), "a metrics.jsonl line")
    epochs = [r["epoch"] for r in history]
    keys = sorted(
        {k for r in history for k in r["loss"] if k != "total"},
        key=lambda k: (not k.startswith("layer"), k),
    )
    fig = new_figure(9.0, 3.6)
    ax = fig.add_subplot(1, 2, 1)
    positive = True
    for k in keys:
        vals = [r["loss"].get(k, np.nan) for r in history]
        positive &= all(v > 0 for v in vals if not np.isnan(v))
        ax.plot(epochs, vals, marker="o", ms=3, label=k if k == "head" else f"{k} (FF)")
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean training loss")
    ax.set_title("Training losses", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(
        epochs, [100 * r["val_acc_linear"] for r in history], marker="o", ms=3, label="linear head"
    )
    good = [
        (r["epoch"], r["val_acc_goodness"])
        for r in history
        if r.get("val_acc_goodness") is not None
    ]
    if good:
        ax.plot(
            [e for e, _ in good], [100 * g for _, g in good], marker="s", ms=3, label="goodness"
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("Validation accuracy", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    for a in fig.axes:
        a.xaxis.get_major_locator().set_params(integer=True)
    return save_figure(fig, path)


def _layer_order(keys) -> list[str]:
    return sorted(keys, key=lambda k: (len(k), k))


def plot_firing_rates(spike_metrics: dict[str, Any], path: str | Path) -> Path:
    """Left: firing rate per layer (spikes per neuron per step). Right: spikes per inference per layer
    against T, for every (variant, encoding) of ``spike_metrics``."""
    _require(spike_metrics, ("results", "firing_rates"), "spike_metrics")
    rates = spike_metrics["firing_rates"]
    fig = new_figure(9.0, 3.6)
    ax = fig.add_subplot(1, 2, 1)
    names = _layer_order(rates)
    bars = ax.bar(names, [rates[k] for k in names], color=[f"C{i}" for i in range(len(names))])
    ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_ylabel("spikes / neuron / step")
    ax.set_title("Firing rate per layer", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax = fig.add_subplot(1, 2, 2)
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in spike_metrics["results"]:
        groups[(str(r.get("variant", "default")), str(r["encoding"]))].append(r)
    styles = ["-", "--", ":", "-."]
    for g, ((variant, encoding), rows) in enumerate(sorted(groups.items())):
        rows = sorted(rows, key=lambda r: r["timesteps"])
        layers = _layer_order(rows[0].get("spikes_per_inference", {}))
        name = encoding if variant in ("default", "") else f"{variant}/{encoding}"
        for i, layer in enumerate(layers):
            ax.plot(
                [r["timesteps"] for r in rows],
                [r["spikes_per_inference"].get(layer, np.nan) for r in rows],
                color=f"C{i}",
                ls=styles[g % len(styles)],
                marker=ENCODING_MARKERS.get(encoding, "^"),
                ms=3,
                label=f"{layer} ({name})",
            )
    timestep_axis(ax, spike_metrics["results"])
    ax.set_ylabel("spikes per inference")
    ax.set_yscale("log")
    ax.set_title("Spikes per inference", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2)
    return save_figure(fig, path)


def plot_spike_raster(
    trains: dict[str, np.ndarray], path: str | Path, title: str = "Spike raster"
) -> Path:
    """One panel per layer: a tick at (t, neuron) where the neuron fired at step t. ``trains``
    maps a layer name to a boolean/0-1 array (T, neurons) of the chosen neurons."""
    if not trains:
        raise AnalysisInputError("no spike trains given; simulate the spiking network first")
    names = list(trains)
    fig = new_figure(9.0, 1.0 + 1.6 * len(names))
    fig.suptitle(title, fontsize=10)
    for i, name in enumerate(names):
        s = np.asarray(trains[name]).astype(bool)
        ax = fig.add_subplot(len(names), 1, i + 1)
        t, n = np.nonzero(s)
        ax.vlines(t, n - 0.4, n + 0.4, color=f"C{i}", linewidth=2)
        ax.set_xlim(-0.5, s.shape[0] - 0.5)
        ax.set_ylim(-0.5, s.shape[1] - 0.5)
        ax.set_yticks([0, s.shape[1] - 1])
        ax.grid(alpha=0.2, axis="x")
        ax.set_ylabel(f"{name}\n{int(s.sum())} spikes\nneuron", fontsize=8)
        if i == len(names) - 1:
            ax.set_xlabel("time step")
    return save_figure(fig, path)


COST_PANELS = (
    ("energy_per_inference_j", "energy / inference (J)"),
    ("latency_per_inference_s", "latency / inference (s)"),
    ("cores_used", "neuro-cores used"),
)


def no_figure(profile: str) -> str:
    """The bar label of an estimate a profile cannot give: its figures are not published (a chip) or
    not modelled (a float profile such as ``ideal``)."""
    from ..hardware.profiles import ProfileError, load_profile

    try:
        return "not\npublished" if load_profile(profile).fixed_point else "not\nmodelled"
    except ProfileError:
        return "not\npublished"


def plot_hardware_cost(compare: dict[str, Any], path: str | Path) -> Path:
    """Bars of energy, latency and cores per inference for each hardware profile in
    ``compare["cost_by_profile"]``; profiles on which the network does not fit are hatched."""
    _require(compare, ("cost_by_profile",), "compare.json")
    cost = compare["cost_by_profile"]
    if not cost:
        raise AnalysisInputError(
            "compare.json has no profiles in cost_by_profile; run `ff-neuro lava compare`"
        )
    profiles = list(cost)
    fig = new_figure(9.0, 3.4)
    fig.suptitle("Estimated hardware cost per inference (hatched: does not fit)", fontsize=10)
    for j, (key, label) in enumerate(COST_PANELS):
        ax = fig.add_subplot(1, len(COST_PANELS), j + 1)
        vals = [cost[p].get(key) for p in profiles]
        heights = [
            0.0 if v is None else float(v) for v in vals
        ]  # no figure: an empty bar, labelled
        bars = ax.bar(
            profiles,
            heights,
            color=[f"C{i}" for i in range(len(profiles))],
            hatch=None,
            edgecolor="k",
            linewidth=0.5,
        )
        for b, p in zip(bars, profiles):
            if cost[p].get("fits") is False:
                b.set_hatch("//")
        ax.bar_label(
            bars,
            labels=[
                no_figure(p) if v is None else f"{float(v):.3g}" for p, v in zip(profiles, vals)
            ],
            fontsize=7,
        )
        finite = [h for h in heights if np.isfinite(h) and h > 0]
        if key != "cores_used" and finite and max(finite) / min(finite) > 100:
            ax.set_yscale("log")
        ax.set_xlim(-0.5, len(profiles) - 0.5)
        ax.set_title(label, fontsize=9)
        ax.tick_params(axis="x", labelsize=8, rotation=20)
        ax.grid(alpha=0.3, axis="y")
    return save_figure(fig, path)


def plot_recipe_curves(recipes: dict[str, Any], path: str | Path) -> Path:
    """Validation goodness and linear accuracy against training minutes, one line per recipe.

    ``recipes`` is the JSON written by ``benchmarks/goodness_recipes.py``: {"recipes": {name: {"curve":
    [{epoch, val_acc_goodness, val_acc_linear, train_seconds}, ...]}}}. Dotted lines mark 95/97/98 %.
    """
    _require(recipes, ("recipes",), "the recipe results")
    if not recipes["recipes"]:
        raise AnalysisInputError(
            "the recipe results hold no recipe; run benchmarks/goodness_recipes.py"
        )
    fig = new_figure(10.0, 4.0)
    panels = [
        (fig.add_subplot(1, 2, 1), "val_acc_goodness", "goodness"),
        (fig.add_subplot(1, 2, 2), "val_acc_linear", "linear head"),
    ]
    for i, (name, rec) in enumerate(recipes["recipes"].items()):
        curve = rec["curve"]
        minutes = [r["train_seconds"] / 60 for r in curve]
        for ax, key, _ in panels:
            vals = [100 * r[key] if r[key] is not None else np.nan for r in curve]
            ax.plot(minutes, vals, marker="o", ms=3, color=f"C{i % 10}", label=name)
    for ax, _, title in panels:
        for target in (95, 97, 98):
            ax.axhline(target, color=REF_COLOUR, lw=0.6, ls=":")
        ax.set_xlabel("training minutes")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(f"Validation accuracy, {title}", fontsize=10)
        ax.grid(alpha=0.3)
    panels[0][0].legend(fontsize=7)
    return save_figure(fig, path)
