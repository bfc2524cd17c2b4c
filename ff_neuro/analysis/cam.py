"""Class Activation Maps (CAMs) of the linear head, as in Scodellaro et al.

The head computes logits z = W f + b on f = concat over readout layers l of flatten(a_l), with
a_l = rms_norm(activation of layer l) (shape K_l × H × W) for the neutral-labelled image: the head
divides each readout layer's activation by its RMS, whatever ``model.norm`` does to the layers'
inputs (none in the shipped spike-unit configs, whose activations are firing rates × λ_l).
Splitting W into per-layer blocks W_l of shape (classes, K_l, H, W), the CAM of class c is

    CAM_l[c](x, y) = Σ_k a_l[k, x, y] · W_l[c, k, x, y]          per readout layer l
    CAM[c](x, y)   = Σ_l CAM_l[c](x, y)                          combined (e.g. the paper's layers 2+3)

We use the normalised activations, i.e. exactly what the head sees, so the maps decompose the
logits: Σ_{x,y} CAM[c](x, y) + b_c = z_c. For the spiking model a_l is the per-layer spike count
(the same formula with the spiking head's weights).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..ff.functional import rms_norm
from .figures import new_figure, save_figure

COMBINED = "combined"


def split_head_weight(
    weight: torch.Tensor, shapes: Sequence[tuple[int, int, int]], readout_layers: Sequence[int]
) -> dict[int, torch.Tensor]:
    """Per readout layer l, the block of ``weight`` (classes, F) reshaped to (classes, K_l, H_l, W_l)."""
    blocks, offset = {}, 0
    for l in readout_layers:
        n = int(np.prod(shapes[l]))
        blocks[l] = weight[:, offset : offset + n].reshape(weight.shape[0], *shapes[l])
        offset += n
    if offset != weight.shape[1]:
        raise ValueError(
            f"head has {weight.shape[1]} inputs but readout layers {list(readout_layers)} "
            f"give {offset}; the weights do not belong to this network"
        )
    return blocks


def class_activation_maps(
    features: Mapping[int, torch.Tensor],
    weight: torch.Tensor,
    shapes: Sequence[tuple[int, int, int]],
    readout_layers: Sequence[int],
) -> dict[int | str, torch.Tensor]:
    """CAMs (N, classes, H, W) per readout layer and ``"combined"`` from per-layer features (N, K_l, H, W).

    The combined map sums the per-layer maps; layers of a different spatial size are resized
    bilinearly to the first readout layer's size first (not needed with 'same' padding).
    """
    blocks = split_head_weight(weight.float(), shapes, readout_layers)
    cams: dict[int | str, torch.Tensor] = {
        l: torch.einsum("nkhw,ckhw->nchw", features[l].float(), blocks[l]) for l in readout_layers
    }
    size = cams[readout_layers[0]].shape[-2:]
    cams[COMBINED] = sum(
        m
        if m.shape[-2:] == size
        else F.interpolate(m, size=size, mode="bilinear", align_corners=False)
        for m in (cams[l] for l in readout_layers)
    )
    return cams


@torch.no_grad()
def rate_model_cams(model, x: torch.Tensor) -> dict[int | str, torch.Tensor]:
    """CAMs of a :class:`~ff_neuro.ff.RateModel` for images ``x`` (N, 1, H, W) in [0, 1]."""
    net, layers = model.net, list(model.cfg.model.readout_layers)
    acts = net(model.labels.neutral(x.to(model.device)))
    feats = {l: rms_norm(acts[l].float()) for l in layers}
    return class_activation_maps(feats, model.head.fc.weight, net.shapes, layers)


def pick_examples(
    y: np.ndarray,
    pred: np.ndarray | None = None,
    per_class: int = 1,
    num_classes: int | None = None,
) -> np.ndarray:
    """Indices of the first ``per_class`` images of every class, preferring correctly classified ones."""
    num_classes = num_classes or int(y.max()) + 1
    out = []
    for c in range(num_classes):
        idx = np.flatnonzero(y == c)
        if pred is not None:
            idx = np.concatenate([idx[pred[idx] == c], idx[pred[idx] != c]])
        out.extend(idx[:per_class].tolist())
    return np.asarray(out, dtype=np.int64)


def layer_title(key: int | str) -> str:
    """Column title: config index and the paper's 1-based name (index 1 = the paper's layer 2)."""
    return "layers combined" if key == COMBINED else f"layer {key} (paper L{int(key) + 1})"


def plot_cam_grid(
    images: torch.Tensor,
    classes: Sequence[int],
    cams: Mapping[int | str, torch.Tensor],
    path: str | Path,
    class_names: Sequence[str] | None = None,
    title: str = "Class Activation Maps",
    predictions: Sequence[int] | None = None,
) -> Path:
    """One row per image: the image, then the CAM of its true class for every key of ``cams``.

    Maps use a diverging colour scale symmetric around 0 per panel (red: evidence for the class,
    blue: against); the image's stroke outline (level 0.5) is drawn on top.
    """
    images = images.reshape(len(classes), *images.shape[-2:]).float().cpu().numpy()
    keys = list(cams)
    rows, cols = len(classes), 1 + len(keys)
    fig = new_figure(1.7 * cols + 0.6, 1.55 * rows + 0.5)
    fig.suptitle(title, fontsize=11)
    name = (lambda c: class_names[c]) if class_names else str
    for r, c in enumerate(classes):
        ax = fig.add_subplot(rows, cols, r * cols + 1)
        ax.imshow(images[r], cmap="gray", vmin=0, vmax=1)
        label = f"class {name(c)}" + (
            f", pred {name(int(predictions[r]))}" if predictions is not None else ""
        )
        ax.set_title(label, fontsize=8)
        ax.set_axis_off()
        for j, key in enumerate(keys):
            m = cams[key][r, c].float().cpu().numpy()
            lim = float(np.abs(m).max()) or 1.0
            ax = fig.add_subplot(rows, cols, r * cols + 2 + j)
            ax.imshow(m, cmap="RdBu_r", vmin=-lim, vmax=lim)
            if m.shape == images[r].shape:
                ax.contour(images[r], levels=[0.5], colors="k", linewidths=0.5)
            if r == 0:
                ax.set_title(layer_title(key), fontsize=8)
            ax.set_axis_off()
    return save_figure(fig, path)
