"""Reference of the learning conv network: the Lava graph's arithmetic, batched over windows.

Forward, per window from zero state, T steps (the pipelined Lava graph gives every layer exactly
this: each layer's state is reset at its window's first step):

    fixed point (Lava fixed_pt Conv + LIFResetSubtract, ``ff_neuro.hardware.emulate``):
        a_0 = clamp24(W_0 ∗ x_int) (constant input current), a_l = clamp24(W_l ∗ s_{l−1}(t));
        u = wrap24(a · 2⁶);  v = clip(v + u + bias, ±(2²³ − 1));  s = v > vth · 2⁶;  v[s] −= vth · 2⁶
    float (Lava floating_pt, du = 1):  v = v·(1 − dv) + a + bias;  s = v > vth;  v[s] −= vth
    rate (the rate-coded comparison): r_0 = relu1((W_0 ∗ x + b_0) / θ_0), r_l = relu1(W_l ∗ r_{l−1}),
        "counts" T·r

Learning, every plastic layer from its own counts c_l and its input counts c_{l−1} (numpy, through
``ff_neuro.onchip.rule`` and ``conv_rule``: the integers of the Lava models):

    threshold:  e_b = s_b·σ(−s_b·α·(G_b − θ))   (LUT in fixed point),  K ← K + Σ_b e_b · corr(p_b, x_b)
    symba:      pairs (positive, negative): E = σ(−α·(G⁺ − G⁻)), e = (E, −E)

``batch = 1`` is the Lava rule exactly: one update per learning window (threshold) or per pair
(symba; a pair's two windows see the same weights), with epoch = the window's index in the
schedule, so fixed point is bit-identical to Lava. Learning-rate steps (``RuleParams.lr_steps``)
apply by window: an update learns with ``params.at(w)``, w its (last sample's negative) window. ``batch = B > 1`` samples share the weights and
one rounding (mini-batch FF; faster, not bit-identical). Hard negatives: each sample's C scoring
windows run first with the current weights (batched: no learning between them), the negative's
label is drawn from the scoring layer's integer goodness (``ff_neuro.onchip.negatives``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ..hardware.emulate import ConstantDrive
from ..hardware.quantize import LoihiLayer
from . import conv_rule, negatives, rule
from .conv_net import LearningNet, PlasticConv, Schedule

KINDS = ("fixed", "float", "rate")


def plastic_layer(pl: PlasticConv, k: np.ndarray, fixed: bool, lattice: bool = False) -> LoihiLayer:
    """The LoihiLayer of a plastic conv with kernel matrix K (transmitted weights in fixed point,
    and in float on the fixed-point lattice: ``lattice``, ``LearningNet.weight_lattice``)."""
    if fixed:
        w = rule.synaptic_weights(k, pl.params)
    else:
        w = rule.lattice_weights(k, pl.params) if lattice else k
    g = pl.geometry
    return LoihiLayer(
        conv_rule.torch_weight(w, g),
        np.zeros(g.out_channels),
        0,
        pl.params.vth if fixed else 1.0,
        0,
        4095 if fixed else 1.0,
        g.stride,
        g.padding,
        pl.in_chw,
        pl.out_chw,
        reset="subtract",
    )


def _layers(net: LearningNet, kmats, fixed: bool, depth: int | None = None) -> list[LoihiLayer]:
    """The network's first ``depth`` layers (all by default) as LoihiLayers."""
    depth = len(net.frozen) + len(net.plastic) if depth is None else depth
    plastic = [
        plastic_layer(pl, k, fixed, net.weight_lattice)
        for pl, k in zip(net.plastic[: max(0, depth - len(net.frozen))], kmats)
    ]
    return (list(net.frozen) + plastic)[:depth]


@torch.no_grad()
def counts_fixed(
    net: LearningNet, kmats, x: torch.Tensor, depth: int | None = None
) -> list[torch.Tensor]:
    """Per-layer spike counts (B, C, H, W) int64 for integer inputs x (B, C, H, W), of the first
    ``depth`` layers (all by default: a layer's counts depend only on the layers below it)."""
    drive = ConstantDrive(_layers(net, kmats, True, depth), x)
    counts = [s.long() for s in drive.step()]
    for _ in range(net.timesteps - 1):
        for c, s in zip(counts, drive.step()):
            c.add_(s)
    return counts


@torch.no_grad()
def counts_float(
    net: LearningNet, kmats, x: torch.Tensor, depth: int | None = None
) -> list[torch.Tensor]:
    """Per-layer spike counts (B, C, H, W) float64 of the float network for inputs x (B, C, H, W),
    of the first ``depth`` layers (all by default)."""
    layers = _layers(net, kmats, False, depth)
    ws = [torch.as_tensor(np.asarray(la.weight), dtype=torch.float64) for la in layers]
    bs = [
        torch.as_tensor(np.asarray(la.bias_mant), dtype=torch.float64).view(1, -1, 1, 1)
        for la in layers
    ]
    a0 = F.conv2d(x.double(), ws[0], None, layers[0].stride, layers[0].padding)
    v, counts, s = [None] * len(layers), [None] * len(layers), None
    for _ in range(net.timesteps):
        for i, la in enumerate(layers):
            a = a0 if i == 0 else F.conv2d(s, ws[i], None, la.stride, la.padding)
            if v[i] is None:
                v[i], counts[i] = torch.zeros_like(a), torch.zeros_like(a)
            v[i] = (v[i] * (1.0 - float(la.dv)) + a) + bs[i]
            spk = v[i] > float(la.vth)
            v[i] = torch.where(spk, v[i] - float(la.vth), v[i])
            counts[i] += spk
            s = spk.double()
    return counts


@torch.no_grad()
def counts_rate(
    net: LearningNet, kmats, x: torch.Tensor, depth: int | None = None
) -> list[torch.Tensor]:
    """T · rates (B, C, H, W) float64 per layer of the rate model (``net``: a float LearningNet), of
    the first ``depth`` layers (all by default); ⌊T · r⌋ with ``net.integer_counts``, each layer
    then driven by the counts of the one below over T."""
    layers = _layers(net, kmats, False, depth)
    r, out, T = x.double(), [], net.timesteps
    for la in layers:
        w = torch.as_tensor(np.asarray(la.weight), dtype=torch.float64)
        b = torch.as_tensor(np.asarray(la.bias_mant), dtype=torch.float64)
        r = ((F.conv2d(r, w, b, la.stride, la.padding)) / float(la.vth)).clamp(0.0, 1.0)
        if net.integer_counts:
            r = torch.floor(T * r) / T
        out.append(T * r)
    return out


def counts(
    net: LearningNet, kmats, x: torch.Tensor, kind: str, depth: int | None = None
) -> list[torch.Tensor]:
    fn = {"fixed": counts_fixed, "float": counts_float, "rate": counts_rate}[kind]
    return fn(net, kmats, x, depth)


def to_whc(c: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) → (B, W, H, C) numpy (Lava's layout)."""
    return np.ascontiguousarray(c.permute(0, 3, 2, 1).numpy())


def goodness(c: torch.Tensor, kind: str) -> np.ndarray:
    """Σ_i c_i² per window (int64 in fixed point, float64 otherwise)."""
    flat = c.flatten(1).numpy()
    return rule.goodness_int(flat) if kind == "fixed" else np.einsum("bi,bi->b", flat, flat)


def learn(
    net: LearningNet,
    kmats,
    cs: list[torch.Tensor],
    signs: np.ndarray,
    kind: str,
    epoch: int,
    window: int | None = None,
):
    """One update of every plastic kernel (in place) from the counts of a batch of windows;
    ``window``: the schedule's window the update belongs to (its learning rate, ``RuleParams.at``;
    default ``epoch``, which is the window at batch 1)."""
    nf, fixed = len(net.frozen), kind == "fixed"
    window = epoch if window is None else window
    for i, (pl, k) in enumerate(zip(net.plastic, kmats)):
        c, p = cs[nf + i], pl.params.at(window)
        if net.objective == "symba":
            g = goodness(c, kind)
            pair = (
                rule.pair_factor_fixed(g[0::2], g[1::2], p)
                if fixed
                else rule.pair_factor_float(g[0::2], g[1::2], p)
            )
            e = np.stack([pair, -pair], 1).reshape(-1)
        elif fixed:
            e = rule.third_factor_fixed(c.flatten(1).numpy(), signs, p)
        else:
            e = rule.third_factor_float(c.flatten(1).numpy(), signs, p)
        post = rule.post_of(to_whc(c), p)
        pre = to_whc(cs[nf + i - 1])
        if fixed:
            conv_rule.update_fixed(k, e, post, pre, pl.geometry, p, epoch)
        else:
            lattice = epoch if net.weight_lattice else None
            conv_rule.update_float(k, e, post, pre, pl.geometry, p, lattice)


class Chunk(NamedTuple):
    """Consecutive samples from ``start``: inputs (S, slots, C, H, W) (encoded, or images in [0, 1]
    for kind "rate") and true labels (S,)."""

    start: int
    inputs: torch.Tensor
    labels: np.ndarray


class Trace(NamedTuple):
    """What a sequential run records: per window and layer (Σ c, Σ c²) (windows, depth, 2)."""

    stats: np.ndarray


def train(
    net: LearningNet,
    kmats: list[np.ndarray],
    chunks: Iterator[Chunk],
    sched: Schedule,
    kind: str,
    batch: int = 1,
    on_sample: Callable[[int, list], None] | None = None,
    trace: Trace | None = None,
    epoch0: int = 0,
) -> int:
    """Train the kernels (in place) over the chunks' samples; ``on_sample(samples_done, kmats)``
    after each sample's (batch's) update. Returns the number of updates. With ``batch = 1`` torch
    runs on one thread for the call (its convs are tiny: a second thread only adds hand-offs, a
    thousandfold on a loaded two-core machine)."""
    threads = torch.get_num_threads()
    if batch != 1:
        return _train(net, kmats, chunks, sched, kind, batch, on_sample, trace, epoch0)

    def callback(done, km):  # the caller's work (e.g. scoring a test set) gets its threads back
        torch.set_num_threads(threads)
        on_sample(done, km)
        torch.set_num_threads(1)

    torch.set_num_threads(1)
    try:
        return _train(net, kmats, chunks, sched, kind, 1, on_sample and callback, trace, epoch0)
    finally:
        torch.set_num_threads(threads)


def _train(net, kmats, chunks, sched, kind, batch, on_sample, trace, epoch0) -> int:
    updates, nf = 0, len(net.frozen)
    fixed_draw = kind == "fixed"
    for ch in chunks:
        for i in range(0, len(ch.labels), batch):
            m0 = ch.start + i
            inp, lab = ch.inputs[i : i + batch], ch.labels[i : i + batch]
            n = len(lab)
            if sched.hard:
                flat = inp.flatten(0, 1)  # (n·C, …) the scoring windows
                # only the layers up to the scoring layer, unless the trace records every layer
                # (Lava runs the whole network in every window)
                depth = None if trace is not None else nf + net.hard_layer + 1
                cs = counts(net, kmats, flat, kind, depth)
                g = goodness(cs[nf + net.hard_layer], kind).reshape(n, sched.classes)
                keys = sched.draws[m0 : m0 + n, 3]
                neg = negatives.draw(
                    g, lab, keys, net.plastic[net.hard_layer].params, net.hard_alpha, fixed_draw
                )
                _record(
                    trace,
                    cs,
                    [
                        sched.draws[m, 1] + c
                        for m in range(m0, m0 + n)
                        for c in range(sched.classes)
                    ],
                )
                pos_x, neg_x = (
                    inp[torch.arange(n), torch.as_tensor(lab)],
                    inp[torch.arange(n), torch.as_tensor(neg)],
                )
            else:
                pos_x, neg_x = inp[:, 0], inp[:, 1]
            pairs = torch.stack([pos_x, neg_x], 1).flatten(0, 1)  # pos_0, neg_0, pos_1, …
            signs = np.tile([1, -1], n)
            wins = [sched.window_of(m, w) for m in range(m0, m0 + n) for w in ("pos", "neg")]
            if batch == 1 and net.objective == "threshold":
                for j in range(2):
                    cs = counts(net, kmats, pairs[j : j + 1], kind)
                    _record(trace, cs, wins[j : j + 1])
                    learn(net, kmats, cs, signs[j : j + 1], kind, epoch0 + wins[j], wins[j])
            else:
                cs = counts(net, kmats, pairs, kind)
                _record(trace, cs, wins)
                epoch = epoch0 + (wins[1] if batch == 1 else updates)
                learn(net, kmats, cs, signs, kind, epoch, wins[-1])
            updates += 1
            if on_sample:
                on_sample(m0 + n, kmats)
    return updates


def _record(trace: Trace | None, cs: list[torch.Tensor], windows: list[int]) -> None:
    if trace is None:
        return
    for layer, c in enumerate(cs):
        flat = c.flatten(1).double()
        trace.stats[windows, layer, 0] = flat.sum(1).numpy()
        trace.stats[windows, layer, 1] = (flat * flat).sum(1).numpy()
