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
