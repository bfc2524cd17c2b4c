"""The learning curve of ``ff-neuro learn``: test goodness accuracy against training windows."""

from __future__ import annotations

from pathlib import Path


def plot_learning_curve(metrics: dict, path: str | Path) -> Path:
    """Plot ``metrics["curve"]`` (and the rate-coded curve, the torch model's goodness) to
    ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    mode = "fixed point" if metrics["fixed_point"] else "float"
    cur = metrics["curve"]
    ax.plot(
        [c["windows"] for c in cur],
        [100 * c["test_acc_goodness"] for c in cur],
        "o-",
        label=f"{metrics['backend']} ({metrics['profile']}, {mode})",
    )
    rate = metrics.get("rate_coded")
    if rate:
        pts = [{"windows": 0, "test_acc_goodness": rate["test_acc_goodness_before"]}] + rate[
            "curve"
        ]
        ax.plot(
            [c["windows"] for c in pts],
            [100 * c["test_acc_goodness"] for c in pts],
            "s--",
            label="rate-coded FF, same layer (float)",
        )
    tm = (metrics.get("torch_rate_model") or {}).get("test_acc_goodness")
    if tm is not None:
        ax.axhline(100 * tm, color="grey", ls=":", label="torch-trained run (all layers)")
    ax.set_xlabel("training windows (positive + negative)")
    ax.set_ylabel(f"test goodness accuracy (%), {metrics['test_samples']} images")
    ax.set_title(
        f"FF layer on layer {metrics['layer']} spikes: {metrics['hidden']} neurons, "
        f"T = {metrics['timesteps']}",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_network_curves(metrics: dict, path: str | Path) -> Path:
    """Per plastic layer and for the network: test goodness accuracy against training windows, on
    the chip's rule (solid) and rate-coded (dashed), with the torch-trained run as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    mode = "fixed point" if metrics["fixed_point"] else "float"
    series = [
        (f"layer {e['layer']}", e["curve"], (e.get("rate_coded") or {}).get("curve"))
        for e in metrics["layers"]
    ]
    rate = metrics.get("rate_coded") or {}
    net_rate = None
    if rate:
        net_rate = [{"windows": 0, "test_acc_goodness": rate["test_acc_goodness_before"]}] + rate[
            "curve"
        ]
    series.append(("network", metrics["curve"], net_rate))
    for j, (name, cur, rcur) in enumerate(series):
        color = f"C{j}"
        lw = 2.2 if name == "network" else 1.2
        ax.plot(
            [c["windows"] for c in cur],
            [100 * c["test_acc_goodness"] for c in cur],
            "o-",
            color=color,
            lw=lw,
            ms=3,
            label=f"{name}, on-chip rule",
        )
        if rcur:
            ax.plot(
                [c["windows"] for c in rcur],
                [100 * c["test_acc_goodness"] for c in rcur],
                "s--",
                color=color,
                lw=1,
                ms=3,
                label=f"{name}, rate-coded",
            )
    tm = (metrics.get("torch_rate_model") or {}).get("test_acc_goodness")
    if tm is not None:
        ax.axhline(100 * tm, color="grey", ls=":", label="torch-trained run")
    ax.set_xlabel("training windows")
    ax.set_ylabel(
        f"goodness accuracy (%), {metrics['test_samples']} {metrics.get('split', 'test')} images"
    )
    ax.set_title(
        f"All conv layers learning on the chip's rule: {metrics['backend']} ({metrics['profile']}, {mode}), "
        f"{metrics['objective']}, {metrics['negatives']} negatives",
        fontsize=8,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
