"""Goodness accuracy of the learning conv network: the first n images of a split under every label.

For each plastic layer l, the prediction is argmax over the labels of G_l = Σ_i c_i² (spike counts,
or T·rates for the rate-coded network); "network" sums the mean goodness G_l / (H_l·T²) of the
run's goodness layers that are plastic (all plastic layers when none is). The encoded inputs are
kept while they fit in ``cache_bytes`` (int16 or float32), else encoded again at every scoring.
"""

from __future__ import annotations

import numpy as np
import torch

from . import conv_reference as cref
from .conv_experiment import NetSetup, encode
from .experiment import LearnError


class NetTestSet:
    CACHE_BYTES = 512 * 2**20

    def __init__(
        self, s: NetSetup, n: int, kind: str, chunk: int = 50, split: str = "test", cache_bytes=None
    ):
        if split not in ("test", "val"):
            raise LearnError(f"split must be test or val, got {split!r}")
        self.s, self.kind, self.chunk = s, kind, chunk
        self.net = s.rate_net if kind == "rate" else s.net
        self.x, y = getattr(s.data, split).tensors(n)
        self.y = y.numpy()
        self.C = s.label_encoder.num_classes
        nf = len(s.net.frozen)
        goodness = [l - nf for l in s.spec.loss_layers if l >= nf]
        self.network_layers = goodness or list(range(len(s.net.plastic)))
        self.starts = list(range(0, len(self.y), chunk))
        per = self.C * int(np.prod(self.x.shape[1:])) * (2 if kind == "fixed" else 4)
        budget = self.CACHE_BYTES if cache_bytes is None else cache_bytes
        self.parts = [self._encode(i) for i in self.starts] if len(self.y) * per <= budget else None

    def _encode(self, start: int) -> torch.Tensor:
        xl = encode(
            self.s, self.kind, self.s.label_encoder.all_labels(self.x[start : start + self.chunk])
        )
        return xl.to(torch.int16) if self.kind == "fixed" else xl.float()

    def scores(self, kmats, activity: list | None = None) -> np.ndarray:
        """(n, plastic layers, C) goodness Σ c² of every test image under every label. With a list
        ``activity``, appends per plastic layer the fractions of its neurons that are silent
        (c = 0) and saturated (c = T), over every image and label."""
        out, T = [], self.net.timesteps
        tally = np.zeros((len(self.net.plastic), 3))  # silent, saturated, neurons
        for i, start in enumerate(self.starts):
            part = self._encode(start) if self.parts is None else self.parts[i]
            inp = part.long() if self.kind == "fixed" else part.double()
            cs = cref.counts(self.net, kmats, inp, self.kind)[len(self.net.frozen) :]
            g = np.stack([cref.goodness(c, self.kind).astype(np.float64) for c in cs], 1)
            out.append(g.reshape(-1, self.C, len(cs)).transpose(0, 2, 1))
            for l, c in enumerate(cs):
                tally[l] += [float((c <= 0).sum()), float((c >= T).sum()), c.numel()]
        if activity is not None:
            activity.extend({"silent": t[0] / t[2], "saturated": t[1] / t[2]} for t in tally)
        return np.concatenate(out)

    def accuracy(self, kmats) -> dict:
        """{"layers": [accuracy per plastic layer], "network": accuracy of the goodness layers,
        "activity": [silent and saturated fractions per plastic layer] (:meth:`scores`)}."""
        activity: list = []
        g = self.scores(kmats, activity)
        hits = g.argmax(2) == self.y[:, None]
        norm = np.array(
            [pl.params.hidden * pl.params.timesteps**2 for pl in self.net.plastic], float
        )
        net = (g[:, self.network_layers] / norm[self.network_layers, None]).sum(1)
        return {
            "layers": [float(h) for h in hits.mean(0)],
            "network": float((net.argmax(1) == self.y).mean()),
            "activity": activity,
        }
