"""Goodness separation: does each layer tell positive from negative data?

For images x with true labels y and uniformly drawn wrong labels y⁻ (``sample_negatives``), every
layer l gives G_l⁺ = g(a_l(x ⊕ L_y)) and G_l⁻ = g(a_l(x ⊕ L_y⁻)), with the run's goodness measure g
(Σ a², or Σ a² / N for ``goodness.measure: mean``), in the units of the layer's threshold θ_l. A
threshold loss separates the two when G⁺ > θ_l > G⁻; the share of correctly sided samples,

    sep_l = ½ · (P[G_l⁺ > θ_l] + P[G_l⁻ ≤ θ_l]),

is the layer's own positive/negative accuracy (0.5 = chance). A pairwise loss (SymBa) uses no
threshold, only G⁺ > G⁻ for the same image: ``pair_l`` = P[G_l⁺ > G_l⁻] (0.5 = chance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..data.labels import sample_negatives
from ..ff.objective import layer_goodness
from .figures import NEG_COLOUR, POS_COLOUR, new_figure, save_figure


@torch.no_grad()
def goodness_samples(
    model, x: torch.Tensor, y: torch.Tensor, seed: int = 0, batch_size: int = 500
) -> dict[int, dict[str, np.ndarray]]:
    """Per layer index: {"pos": G⁺ (N,), "neg": G⁻ (N,)} of a rate model on images ``x`` (N, 1, H, W)."""
    gen = torch.Generator().manual_seed(seed)
    neg = sample_negatives(y.cpu(), model.num_classes, gen)
    out: dict[int, dict[str, list]] = {
        l: {"pos": [], "neg": []} for l in range(len(model.net.layers))
    }
    for i in range(0, len(y), batch_size):
        xb = x[i : i + batch_size].to(model.device)
        for kind, labels in (("pos", y[i : i + batch_size]), ("neg", neg[i : i + batch_size])):
            acts = model.net(model.labels.overlay(xb, labels.to(model.device)))
            for l, a in enumerate(acts):
                out[l][kind].append(layer_goodness(a, model.net.measure).cpu())
    return {l: {k: torch.cat(v).numpy() for k, v in d.items()} for l, d in out.items()}


def separation_score(g_pos: np.ndarray, g_neg: np.ndarray, theta: float) -> float:
    """½ (P[G⁺ > θ] + P[G⁻ ≤ θ])."""
    return 0.5 * (float(np.mean(g_pos > theta)) + float(np.mean(g_neg <= theta)))


def pair_score(g_pos: np.ndarray, g_neg: np.ndarray) -> float:
    """P[G⁺ > G⁻] over images (each image's positive against its own negative)."""
    return float(np.mean(g_pos > g_neg))


def plot_goodness_separation(
    samples: dict[int, dict[str, np.ndarray]],
    thresholds: Sequence[float],
    path: str | Path,
    loss_layers: Sequence[int] = (),
) -> Path:
    """Histograms of log10 G for positive vs negative inputs, one panel per layer, θ_l marked."""
    layers = sorted(samples)
    fig = new_figure(3.6 * len(layers), 3.2)
    fig.suptitle("Goodness of positive vs negative data per layer (θ = threshold)", fontsize=10)
    for j, l in enumerate(layers):
        ax = fig.add_subplot(1, len(layers), j + 1)
        pos, neg, theta = samples[l]["pos"], samples[l]["neg"], float(thresholds[l])
        lp, ln = np.log10(np.maximum(pos, 1e-12)), np.log10(np.maximum(neg, 1e-12))
        lt = math.log10(max(theta, 1e-12))
        lo, hi = min(lp.min(), ln.min(), lt), max(lp.max(), ln.max(), lt)
        bins = np.linspace(lo - 0.05, hi + 0.05, 40)
        ax.hist(lp, bins=bins, alpha=0.55, color=POS_COLOUR, label="positive")
        ax.hist(ln, bins=bins, alpha=0.55, color=NEG_COLOUR, label="negative")
        ax.axvline(lt, color="k", ls="--", lw=1, label=f"θ = {theta:g}")
        trained = " (FF loss)" if l in loss_layers else ""
        ax.set_title(
            f"layer {l}{trained}: sep {100 * separation_score(pos, neg, theta):.1f} %, "
            f"G⁺ > G⁻ {100 * pair_score(pos, neg):.1f} %",
            fontsize=9,
        )
        ax.set_xlabel("log10 goodness")
        if j == 0:
            ax.set_ylabel("images")
        ax.legend(fontsize=7)
    return save_figure(fig, path)
