"""Label gallery: the Fourier label patterns of a label set, and one image under its labels.

Shows what the network is given: ``L_c`` for every class (see ``ff_neuro.data.labels``) and, for one
image x, the positive input minmax((1−K)·x + K·L_y), a negative input with a wrong class, and the
neutral input (mean pattern) that the linear head sees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch

from ..data.labels import FourierLabels
from .figures import new_figure, save_figure


def plot_label_patterns(
    labels: FourierLabels, path: str | Path, class_names: Sequence[str] | None = None
) -> Path:
    """All class patterns of ``labels`` in a grid of at most 5 columns, titled with (class, k, θ)."""
    c = labels.num_classes
    cols = min(5, c)
    rows = math.ceil(c / cols)
    fig = new_figure(1.6 * cols, 1.75 * rows + 0.35)
    fig.suptitle(f"Fourier label set {labels.label_set} (K = {labels.K:g})", fontsize=10)
    for i in range(rows * cols):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.set_axis_off()
        if i >= c:
            continue
        ax.imshow(labels.patterns[i].cpu().numpy(), cmap="gray", vmin=0, vmax=1)
        k, th = labels.params[i]
        name = class_names[i] if class_names else str(i)
        ax.set_title(f"{name}: k={k:g}, θ={th:g}°", fontsize=8)
    return save_figure(fig, path)


def plot_label_overlay(
    labels: FourierLabels,
    image: torch.Tensor,
    label: int,
    negative: int,
    path: str | Path,
    class_names: Sequence[str] | None = None,
) -> Path:
    """One image (H, W) in [0, 1]: raw, with its own label (positive), a wrong label, the neutral label."""
    if negative == label:
        raise ValueError(f"the negative class must differ from the true class {label}")
    x = image.float().reshape(1, 1, *labels.shape).to(labels.patterns.device)
    name = (lambda c: class_names[c]) if class_names else str
    panels = [
        ("image", x[0, 0]),
        (
            f"positive ({name(label)})",
            labels.overlay(x, torch.tensor([label], device=x.device))[0, 0],
        ),
        (
            f"negative ({name(negative)})",
            labels.overlay(x, torch.tensor([negative], device=x.device))[0, 0],
        ),
        ("neutral (linear head)", labels.neutral(x)[0, 0]),
    ]
    fig = new_figure(8.0, 2.4)
    for i, (title, img) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.imshow(img.cpu().numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    return save_figure(fig, path)
