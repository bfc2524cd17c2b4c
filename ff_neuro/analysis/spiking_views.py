"""Pictures of the spiking network: CAMs of spike counts and spike rasters.

The spiking network comes from :mod:`ff_neuro.spiking` (``SpikingNetwork(run_spec(run)[0])``). The
spiking head reads f = concat_l rms_norm(c_l / T) from the spike counts c_l of the
neutral-labelled image (``ff_neuro.spiking.readout.spike_features``); its CAMs are those of
:mod:`ff_neuro.analysis.cam` with a_l = rms_norm(c_l / T) and the spiking head's weights.
"""

from __future__ import annotations

import numpy as np
import torch

from ..spiking.readout import spike_features
from .cam import class_activation_maps


@torch.no_grad()
def spiking_cams(snn, x: torch.Tensor) -> dict[int | str, torch.Tensor]:
    """CAMs (N, classes, H, W) per readout layer and combined from the spike counts of images ``x``."""
    if snn.head is None:
        raise ValueError("this spiking network has no linear head; convert a run that has one")
    spec = snn.spec
    counts = snn.spike_counts(snn.labels.neutral(x.to(snn.device)))
    shapes = [tuple(layer.out_shape) for layer in spec.layers]
    feats = {
        l: spike_features(counts, snn.T, [l]).view(-1, *shapes[l]) for l in spec.readout_layers
    }
    return class_activation_maps(feats, snn.head.weight, shapes, list(spec.readout_layers))


@torch.no_grad()
def raster_trains(
    snn, image: torch.Tensor, neurons: int = 24, seed: int = 0
) -> dict[str, np.ndarray]:
    """Spike trains (T, neurons) of ``neurons`` units per layer for one neutral-labelled image (1, H, W).

    The units are drawn (seeded) among those that fire at least once, so the raster is not empty
    (silent units fill up if too few fire), and ordered by their spike count.
    """
    trains = snn.spike_trains(
        snn.labels.neutral(image.reshape(1, 1, *image.shape[-2:]).to(snn.device))
    )
    rng = np.random.default_rng(seed)
    out = {}
    for l, s in enumerate(trains):
        flat = s[:, 0].reshape(s.shape[0], -1).cpu().numpy() > 0
        counts = flat.sum(0)
        active, silent = np.flatnonzero(counts > 0), np.flatnonzero(counts == 0)
        pick = rng.permutation(active)[:neurons]
        if len(pick) < neurons:
            pick = np.concatenate([pick, rng.permutation(silent)[: neurons - len(pick)]])
        pick = pick[np.argsort(-counts[pick], kind="stable")]
        out[f"layer{l}"] = flat[:, pick]
    return out
