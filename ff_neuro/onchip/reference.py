"""PyTorch reference of the learning layer: the same quantised rule as the Lava graph, vectorised.

Learning layer: a dense synapse W (H, N) onto H integrate-and-fire neurons with reset by
subtraction (no leak, no current memory, no bias), from zero state at each window start:

    fixed point (Lava fixed_pt LIFResetSubtract, du = 4095, dv = 0):
        a(t) = W · pre(t)   (exact in float32 while N · w_max < 2²⁴)
        u = wrap24(a · 2⁶);   v = clip(v + u, ±(2²³ − 1));   s = v > vth · 2⁶;   v[s] −= vth · 2⁶
    float (threshold 1, W in threshold units):
        v = v + W · pre(t);   s = v > 1;   v[s] −= 1

Training: windows in order, ``batch`` at a time. For each batch, post counts under the current W,
then :func:`ff_neuro.onchip.rule.update_fixed` (or ``update_float``) with epoch = batch index.
``batch = 1`` is the sequential rule of the Lava synapse (one update per window; bit-identical in
fixed point). ``batch > 1`` is the batched mode: W is held for the batch and the integer products of
its windows are summed before one rounding (mini-batch FF; faster, not bit-identical to Lava).

Rate-coded FF (``kind="rate"``): counts are replaced by T·rates (pre: the rate model's layer L,
post: relu1(W·r)), so the update is exactly SGD on softplus(−s·α·(G − θ)) with G = mean r_post²,
with the same θ, α, learning rate, init and window order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np
import torch

from . import rule

MAX_UV = 2**23
ACT_SHIFT = 6


class Batch(NamedTuple):
    """One batch of windows: inputs (B, T, N) uint8 raster, or (B, N) float rates; signs (B,)."""

    inputs: torch.Tensor
    signs: np.ndarray


@torch.no_grad()
def post_counts_fixed(w: np.ndarray, raster: torch.Tensor, vth: int) -> np.ndarray:
    """(B, H) int64 post spike counts of the fixed-point layer for a raster (B, T, N)."""
    B, T, N = raster.shape
    wt = torch.from_numpy(np.ascontiguousarray(w.T))
    exact32 = N * int(np.abs(w).max(initial=0)) < 2**24
    dt = torch.float32 if exact32 else torch.float64
    a = torch.round(raster.to(dt) @ wt.to(dt)).long()  # (B, T, H)
    thr = int(vth) << ACT_SHIFT
    v = torch.zeros((B, w.shape[0]), dtype=torch.long)
    c = torch.zeros_like(v)
    for t in range(T):
        u = a[:, t] << ACT_SHIFT
        u = torch.where(u > MAX_UV, u - 2 * MAX_UV, u)
        u = torch.where(u <= -MAX_UV, u + 2 * MAX_UV, u)
        v = (v + u).clamp_(-MAX_UV + 1, MAX_UV - 1)
        s = v > thr
        v -= s.long() * thr
        c += s
    return c.numpy()


@torch.no_grad()
def post_counts_float(w: np.ndarray, raster: torch.Tensor) -> np.ndarray:
    """(B, H) float64 post spike counts of the float layer (threshold 1) for a raster (B, T, N)."""
    B, T, _ = raster.shape
    a = raster.double() @ torch.from_numpy(np.ascontiguousarray(w.T))
    v = torch.zeros((B, w.shape[0]), dtype=torch.float64)
    c = torch.zeros_like(v)
    for t in range(T):
        v = v + a[:, t]
        s = v > 1.0
        v = v - s.double()
        c += s
    return c.numpy()


def post_rates(w: np.ndarray, r_pre: torch.Tensor) -> np.ndarray:
    """(B, H) relu1(W · r): the rate model's post activations in spike units."""
    return np.clip(r_pre.double().numpy() @ w.T, 0.0, 1.0)


def counts(w: np.ndarray, inputs: torch.Tensor, kind: str, p: rule.RuleParams) -> np.ndarray:
    """Post counts (B, H): ``kind`` "fixed" | "float" (spike counts) | "rate" (T · rates)."""
    if kind == "fixed":
        return post_counts_fixed(rule.synaptic_weights(w, p), inputs, p.vth)
    if kind == "float":
        return post_counts_float(w, inputs)
    return p.timesteps * post_rates(w, inputs)


def pre_counts(inputs: torch.Tensor, kind: str, timesteps: int) -> np.ndarray:
    if kind == "rate":
        return timesteps * inputs.double().numpy()
    return inputs.sum(1, dtype=torch.int64).numpy()


def learn_batch(
    w: np.ndarray,
    batch: Batch,
    kind: str,
    p: rule.RuleParams,
    epoch: int,
    objective: str = "threshold",
) -> np.ndarray:
    """One update of W (in place) from a batch of windows; returns the post counts.

    ``objective="symba"``: the batch is pairs (positive, negative, positive, …) and each pair's
    windows get e = (E, −E), E = σ(−α·(G⁺ − G⁻)) (the LUT in fixed point)."""
    c = counts(w, batch.inputs, kind, p)
    x = pre_counts(batch.inputs, kind, p.timesteps)
    fixed = kind == "fixed"
    post = rule.post_of(c, p)  # kind "rate": the caller passes rule.twin_params
    if objective == "symba":
        g = rule.goodness_int(c) if fixed else np.einsum("bi,bi->b", c, c)
        pair = (rule.pair_factor_fixed if fixed else rule.pair_factor_float)(g[0::2], g[1::2], p)
        e = np.stack([pair, -pair], 1).reshape(-1)
    elif fixed:
        e = rule.third_factor_fixed(c, batch.signs, p)
    else:
        e = rule.third_factor_float(c, batch.signs, p)
    if fixed:
        rule.update_fixed(w, e, post, x, p, epoch)
    else:
        rule.update_float(w, e, post, x, p)
    return c


def train(
    w: np.ndarray,
    batches: Iterator[Batch],
    kind: str,
    p: rule.RuleParams,
    batch: int = 1,
    on_batch: Callable[[int, np.ndarray], None] | None = None,
    epoch0: int = 0,
    objective: str = "threshold",
) -> int:
    """Train W in place over the windows of ``batches`` (chunks of any size), ``batch`` windows per
    update; ``on_batch(windows_done, W)`` after each update. Returns the number of updates.

    SymBa: ``batch`` is an even number of windows (pairs); with one pair per update (batch = 2) the
    epoch of the update is the index of its negative window, as in the Lava synapse."""
    if objective == "symba" and batch % 2:
        raise ValueError("symba updates on whole pairs: batch must be even")
    epoch, done = epoch0, 0
    for chunk in batches:
        n = chunk.inputs.shape[0]
        for i in range(0, n, batch):
            b = Batch(chunk.inputs[i : i + batch], chunk.signs[i : i + batch])
            k = epoch0 + done + 1 if objective == "symba" and batch == 2 else epoch
            learn_batch(w, b, kind, p, k, objective)
            epoch += 1
            done += min(batch, n - i)
            if on_batch:
                on_batch(done, w)
    return epoch - epoch0


def goodness_scores(
    w: np.ndarray, inputs: torch.Tensor, kind: str, p: rule.RuleParams, num_classes: int
) -> np.ndarray:
    """(N, classes) Σ_i c_i² of inputs laid out image-major (row n·C + c is label c)."""
    c = counts(w, inputs, kind, p)
    g = rule.goodness_int(c) if kind == "fixed" else np.einsum("bi,bi->b", c, c)
    return g.reshape(-1, num_classes)
