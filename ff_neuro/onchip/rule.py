"""The Forward-Forward update on spike counts, written once (numpy only: Lava models cannot use
torch).

One sample window of T steps, H post neurons, N pre neurons, label sign s (+1 positive, −1
negative):

    x_j = Σ_t pre_j(t)              pre count (0 … T)          Loihi: pre trace x1, no decay
    c_i = Σ_t post_i(t)             post count (0 … T)         Loihi: post trace y1, no decay
    G   = (1/H) Σ_i (c_i / T)²      mean goodness in rate units (integer form: G_int = Σ_i c_i²)
    e   = s · σ(−s · α · (G − θ))   third factor: −∂/∂G of the loss softplus(−s·α·(G − θ))
    p_i = c_i · [c_i < T − m]       post factor: the rate c/T times the relu1 gate (saturated → 0),
                                    m = ``saturation_margin`` (0 by default; p_i = c_i with
                                    ``saturation_gate=False``, straight-through)
    ΔW_ij ∝ e · p_i · x_j           (docs/onchip.md derives it from the loss)

Fixed point (profile weight_bits b, e_bits, learning-rate shift k), all integer:

    Θ_int = round(θ · H · T²);   d = s · (G_int − Θ_int)
    idx   = clip((d · M + 2^(S−1)) >> S, −R·Q, R·Q) ≈ Q·z,   M = round(α · Q · 2^S / (H · T²))
    e_int = s · LUT[idx],  LUT[i] = round(E · σ(−i / Q)),  E = 2^(e_bits − 1) − 1
    ΔW    = ⌊(Σ_windows e_int · p_i · x_j + r_ij) / 2^k⌋     r_ij ∈ [0, 2^k): stochastic rounding,
            r_ij = hash(seed, epoch, i·N + j) mod 2^k, or r = 2^(k−1) (rounding to nearest)
    W     = clip(W + ΔW, −(2^(b−1) − 1), 2^(b−1) − 1)

Optional weight decay (``decay_shift`` d > 0, off by default): every update also adds −2^(k−d)·W to
the product sum before the one rounding, so each weight shrinks by 2^−d per update in expectation
(Loihi: the learning engine's product term −2^−d·w, evaluated for every synapse at each epoch). It
bounds the random walk that stochastic rounding adds to the weights.

Optional extra precision (``frac_bits`` f > 0, off by default): the learned state is
W_f = W·2^f with the update shift k − f and the clip ±(2^(b−1) − 1)·2^f, and the synapse
transmits W = ⌊(W_f + 2^(f−1)) / 2^f⌋ (a b-bit weight plus f low bits, like a weight with a
Loihi tag).

Optional learning-rate steps (``lr_steps``, empty by default): at each listed window index the
learning rate halves (k → k + 1), the window itself included, so window w learns with
k + #{s ∈ lr_steps : s ≤ w} (``RuleParams.at``). On a chip this is the host (or the embedded CPU)
rewriting the rule's shift between windows, not arithmetic of the learning engine.

Floating point, the same hyper-parameters: W in threshold units (the integer weight / vth),

    ΔW = lr · Σ_windows e · p ⊗ x − 2^−d·W,   lr = E / (2^k · vth)   (so ΔW·vth = the expected ΔW_int)

A diagnosis of the rate-coded twin (``lattice_add``, off by default): the float W kept on the
fixed-point lattice, W·vth·2^f an integer, each ΔW rounded with the fixed point's dither r.

Both sides (the Lava ProcessModels and the PyTorch reference) call these functions, so the rule's
integers are identical by construction; the tests check it end to end.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

ROUNDINGS = ("stochastic", "nearest")
_M64 = (1 << 64) - 1


class RuleParams(NamedTuple):
    """Hyper-parameters of the rule; ``vth`` is the post neurons' threshold in integer weight
    units."""

    timesteps: int  # T: steps per sample window
    hidden: int  # H: post neurons
    theta: float = 0.1  # θ: threshold on the mean goodness G ∈ [0, 1]
    alpha: float = 16.0  # α: scale of the logit α·(G − θ)
    lr_shift: int = 16  # k: learning rate 2^−k (times E / vth in float)
    vth: int = 256  # fixed point: threshold of the post LIF in weight units
    weight_bits: int = 8  # b: weights in ±(2^(b−1) − 1)
    e_bits: int = 8  # third factor in ±(2^(e_bits−1) − 1)
    lut_steps: int = 16  # Q: LUT entries per unit of the logit z
    lut_range: int = 8  # R: z clipped to [−R, R]
    rounding: str = "stochastic"
    seed: int = 0
    shift_bits: int = 24  # S: precision of the integer logit multiplier M
    frac_bits: int = 0  # f: extra low bits of the learned weight (a Loihi-style tag), unused
    #    by the synapse: it transmits round(W_f / 2^f)
    decay_shift: int = 0  # d: weight decay W ← W − 2^−d·W at every update (0: off)
    saturation_gate: bool = True  # p = c·[c < T − m] (relu1's derivative); False: p = c
    saturation_margin: int = 0  # m: a count ≥ T − m counts as saturated (spiking neurons)
    lr_steps: tuple[int, ...] = ()  # windows from which the learning rate halves (k += 1 each)

    def at(self, window: int) -> RuleParams:
        """The parameters window ``window`` learns with: k + the number of ``lr_steps`` ≤ window."""
        n = sum(1 for s in self.lr_steps if s <= window)
        return self._replace(lr_shift=self.lr_shift + n) if n else self

    @property
    def e_max(self) -> int:
        return (1 << (self.e_bits - 1)) - 1

    @property
    def w_max(self) -> int:
        return (1 << (self.weight_bits - 1)) - 1

    @property
    def state_max(self) -> int:
        """Bound of the learned integer state W_f = W · 2^f."""
        return self.w_max << self.frac_bits

    @property
    def update_shift(self) -> int:
        """k − f: the shift of the integer update on the W_f scale."""
        return self.lr_shift - self.frac_bits

    @property
    def theta_int(self) -> int:
        return int(round(self.theta * self.hidden * self.timesteps**2))

    @property
    def logit_mult(self) -> int:
        return int(
            round(
                self.alpha * self.lut_steps * 2**self.shift_bits / (self.hidden * self.timesteps**2)
            )
        )

    @property
    def lr_float(self) -> float:
        return self.e_max / (2.0**self.lr_shift * self.vth)


def check_params(p: RuleParams) -> None:
    """ValueError for parameters the integer arithmetic cannot hold."""
    if p.rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {p.rounding!r}")
    if p.timesteps < 1 or p.hidden < 1 or p.vth < 1 or not 1 <= p.lr_shift <= 40:
        raise ValueError(f"bad rule parameters {p}")
    steps = list(p.lr_steps)
    if any(s < 1 for s in steps) or steps != sorted(steps) or p.lr_shift + len(steps) > 40:
        raise ValueError(
            f"lr_steps must be increasing window indices >= 1 with lr_shift + len(lr_steps) <= 40,"
            f" got {tuple(steps)} (lr_shift {p.lr_shift})"
        )
    if not 0 <= p.frac_bits < p.lr_shift:
        raise ValueError(
            f"frac_bits must be in [0, lr_shift), got {p.frac_bits} (lr_shift {p.lr_shift})"
        )
    if p.decay_shift and not 1 <= p.decay_shift <= p.update_shift:
        raise ValueError(
            f"decay_shift must be 0 (off) or in [1, lr_shift − frac_bits] = [1, {p.update_shift}],"
            f" got {p.decay_shift}"
        )
    if not 0 <= p.saturation_margin < p.timesteps:
        raise ValueError(
            f"saturation_margin must be in [0, T) = [0, {p.timesteps}), got {p.saturation_margin}"
        )
    if p.logit_mult < 1:
        raise ValueError(
            f"alpha={p.alpha} is too small for an integer logit at H={p.hidden}, T={p.timesteps}"
        )


def sigmoid_lut(p: RuleParams) -> np.ndarray:
    """LUT[i + R·Q] = round(E · σ(−i / Q)) for i ∈ [−R·Q, R·Q] (int64)."""
    i = np.arange(-p.lut_range * p.lut_steps, p.lut_range * p.lut_steps + 1)
    return np.rint(p.e_max / (1.0 + np.exp(i / p.lut_steps))).astype(np.int64)


def goodness_int(counts: np.ndarray) -> np.ndarray:
    """G_int = Σ_i c_i² per window: counts (..., H) → (...) int64."""
    c = np.asarray(counts).astype(np.int64)
    return np.einsum("...i,...i->...", c, c)


def _lut_value(d: np.ndarray, p: RuleParams, lut: np.ndarray) -> np.ndarray:
    """LUT[clip((d·M + 2^(S−1)) >> S, ±R·Q)] ≈ E·σ(−α·d / (H·T²)) for integer goodness gaps d."""
    idx = (np.asarray(d, np.int64) * p.logit_mult + (1 << (p.shift_bits - 1))) >> p.shift_bits
    r = p.lut_range * p.lut_steps
    return lut[np.clip(idx, -r, r) + r]


def third_factor_fixed(
    counts: np.ndarray, signs: np.ndarray, p: RuleParams, lut: np.ndarray | None = None
) -> np.ndarray:
    """e_int per window (int64) from post counts (B, H) and signs (B,) through the sigmoid LUT."""
    lut = sigmoid_lut(p) if lut is None else lut
    s = np.asarray(signs).astype(np.int64)
    return s * _lut_value(s * (goodness_int(counts) - p.theta_int), p, lut)


def pair_factor_fixed(
    g_pos: np.ndarray, g_neg: np.ndarray, p: RuleParams, lut: np.ndarray | None = None
) -> np.ndarray:
    """SymBa's factor per pair, E_int = LUT[α·(G⁺ − G⁻)] ≈ E·σ(−α·(G⁺ − G⁻)) (int64, ≥ 0), from the
    integer goodness Σ c² of the positive and the negative window. The positive window's update is
    +E_int · p⁺ ⊗ x⁺, the negative's −E_int · p⁻ ⊗ x⁻ (−∂/∂G± of softplus(−α·(G⁺ − G⁻)))."""
    lut = sigmoid_lut(p) if lut is None else lut
    return _lut_value(np.asarray(g_pos, np.int64) - np.asarray(g_neg, np.int64), p, lut)


def pair_factor_float(g_pos: np.ndarray, g_neg: np.ndarray, p: RuleParams) -> np.ndarray:
    """E = σ(−α·(G⁺ − G⁻)) per pair (float64), G = Σ c² / (H·T²) from the integer-valued Σ c²."""
    d = (np.asarray(g_pos, np.float64) - np.asarray(g_neg, np.float64)) / (
        p.hidden * p.timesteps**2
    )
    return 1.0 / (1.0 + np.exp(p.alpha * d))


def third_factor_float(counts: np.ndarray, signs: np.ndarray, p: RuleParams) -> np.ndarray:
    """e = s · σ(−s·α·(G − θ)) per window (float64), G = mean_i (c_i/T)²."""
    c = np.asarray(counts, dtype=np.float64)
    s = np.asarray(signs, dtype=np.float64)
    g = np.einsum("...i,...i->...", c, c) / (p.hidden * p.timesteps**2)
    return s / (1.0 + np.exp(s * p.alpha * (g - p.theta)))


def post_factor(
    counts: np.ndarray, timesteps: int, gate: bool = True, margin: int = 0
) -> np.ndarray:
    """p_i = c_i · [c_i < T − m]: the post rate times the gate of relu1's derivative (same dtype).

    m = ``margin`` (0: the exact gate of the rate model, c = T·relu1(z) < T ⇔ z < 1). An
    integrate-and-fire neuron driven at or above threshold (z ≥ 1) mostly fires T − 1 or T − 2
    times, not T, because the spikes of the layers below start a step or two into the window: with
    m = 0 the gate misses most saturated spiking neurons, which then keep learning like unsaturated
    ones (docs/onchip.md). ``gate=False``: p_i = c_i, no gate at all (a straight-through estimate at
    the top of relu1; on Loihi the bare post trace)."""
    c = np.asarray(counts)
    if not gate:
        return c.copy()
    return np.where(c < timesteps - margin, c, 0).astype(c.dtype)


def post_of(counts: np.ndarray, p: RuleParams) -> np.ndarray:
    """The post factor of the rule ``p``: :func:`post_factor` with its gate and margin."""
    return post_factor(counts, p.timesteps, p.saturation_gate, p.saturation_margin)


def twin_params(p: RuleParams) -> RuleParams:
    """The rate-coded twin's rule: its counts are exact rates T·a, so relu1's gate c·[c < T] is exact
    and needs no margin (the margin m only absorbs the late start of spiking neurons)."""
    return p._replace(saturation_margin=0)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def rounding_offsets(
    p: RuleParams, epoch: int, rows: np.ndarray, cols: np.ndarray, n_cols: int
) -> np.ndarray:
    """r (len(rows), len(cols)) int64 in [0, 2^k): the dither of the update of weights (rows ×
    cols).

    Stochastic: a counter-based hash of (seed, epoch, i·N + j), so any process that knows the
    epoch and the weight index draws the same number; nearest: 2^(k−1) everywhere."""
    k = p.update_shift
    if p.rounding == "nearest":
        return np.full((len(rows), len(cols)), 1 << (k - 1), dtype=np.int64)
    key = (int(p.seed) * 0x9E3779B97F4A7C15 + (int(epoch) + 1) * 0xD1B54A32D192ED03) & _M64
    idx = rows.astype(np.uint64)[:, None] * np.uint64(n_cols) + cols.astype(np.uint64)[None, :]
    with np.errstate(over="ignore"):
        h = _splitmix(idx + np.uint64(key))
    return (h & np.uint64((1 << k) - 1)).astype(np.int64)


def update_fixed(
    w: np.ndarray, e: np.ndarray, post: np.ndarray, pre: np.ndarray, p: RuleParams, epoch: int
) -> None:
    """W ← clip(W + ⌊(Σ_b e_b · p_b ⊗ x_b − 2^(k−d)·W + r) / 2^k⌋) in place, W (H, N) integer.

    ``e`` (B,) e_int, ``post`` (B, H) post factors p, ``pre`` (B, N) pre counts x. The decay term
    −2^(k−d)·W (``decay_shift`` d > 0; on the W_f scale with k − f for k) shrinks every weight by
    2^−d per update in expectation, rounded with the product in one stochastic rounding. Without
    decay only weights with a non-zero product change: elsewhere ⌊r / 2^k⌋ = 0 (r < 2^k), and the
    clip is a no-op because W is always in range. B = 1 is one window (the Lava synapse and the
    sequential reference); B > 1 the reference's batched mode (one rounding for the sum)."""
    e = np.asarray(e, dtype=np.int64)
    pe = np.asarray(post, dtype=np.int64) * e[:, None]  # (B, H)
    x = np.asarray(pre, dtype=np.int64)
    if p.decay_shift:
        rows, cols = np.arange(w.shape[0]), np.arange(w.shape[1])
    else:
        rows = np.flatnonzero(np.any(pe != 0, axis=0))
        cols = np.flatnonzero(np.any(x != 0, axis=0))
        if rows.size == 0 or cols.size == 0:
            return
    prod = _exact_matmul(pe[:, rows].T, x[:, cols])
    block = w[np.ix_(rows, cols)].astype(np.int64)
    if p.decay_shift:
        prod -= block << (p.update_shift - p.decay_shift)
    dw = (prod + rounding_offsets(p, epoch, rows, cols, w.shape[1])) >> p.update_shift
    w[np.ix_(rows, cols)] = np.clip(block + dw, -p.state_max, p.state_max)


def synaptic_weights(w: np.ndarray, p: RuleParams) -> np.ndarray:
    """The weights the synapse transmits: W = round(W_f / 2^f) (half up), W_f itself when f = 0."""
    if p.frac_bits == 0:
        return w
    return (np.asarray(w, dtype=np.int64) + (1 << (p.frac_bits - 1))) >> p.frac_bits


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for integer arrays through float64 BLAS: exact while Σ|a|·|b| < 2⁵³ (checked)."""
    bound = float(np.abs(a).max(initial=0)) * float(np.abs(b).max(initial=0)) * a.shape[1]
    if bound >= 2.0**53:
        return a @ b
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


def update_float(
    w: np.ndarray,
    e: np.ndarray,
    post: np.ndarray,
    pre: np.ndarray,
    p: RuleParams,
    lattice_epoch: int | None = None,
) -> None:
    """W ← W + lr · Σ_b e_b · p_b ⊗ x_b − 2^−d · W in place (float64), lr = E / (2^k · vth), the
    decay only with ``decay_shift`` d > 0. With ``lattice_epoch`` (the update's epoch) the change
    is rounded onto the fixed-point weight lattice instead (:func:`lattice_add`)."""
    pe = (
        np.asarray(post, dtype=np.float64) * (p.lr_float * np.asarray(e, dtype=np.float64))[:, None]
    )
    dw = pe.T @ np.asarray(pre, dtype=np.float64)
    if p.decay_shift:
        dw -= w * 2.0**-p.decay_shift
    if lattice_epoch is None:
        w += dw
    else:
        lattice_add(w, dw, p, lattice_epoch)


def lattice_add(w: np.ndarray, dw: np.ndarray, p: RuleParams, epoch: int) -> None:
    """W ← clip(W·q + ⌊ΔW·q + r / 2^(k−f)⌋, ±state_max) / q in place, q = vth · 2^f: float weights in
    threshold units kept on the fixed-point lattice (W·q an integer, b bits plus f low bits), each
    change rounded with the dither r of :func:`update_fixed` (``rounding_offsets``, the same epoch).

    A diagnosis, not a chip model: the rate-coded twin with the chip's weight arithmetic and exact
    rates. Where ΔW·q equals the integer product sum over 2^(k−f) (e = e_int / E), the result is
    :func:`update_fixed`'s divided by q, except where that sum plus r is an exact multiple of
    2^(k−f): there float64's rounding of ΔW·q may move the result by one lattice step."""
    q = float(p.vth << p.frac_bits)
    rows, cols = np.arange(w.shape[0]), np.arange(w.shape[1])
    u = rounding_offsets(p, epoch, rows, cols, w.shape[1]) / float(1 << p.update_shift)
    n = np.rint(w * q) + np.floor(dw * q + u)
    w[...] = np.clip(n, -p.state_max, p.state_max) / q


def lattice_weights(w: np.ndarray, p: RuleParams) -> np.ndarray:
    """The weights a lattice twin (:func:`lattice_add`) transmits, in threshold units: W itself for
    f = 0, else :func:`synaptic_weights` of the integer state W·vth·2^f, over vth."""
    if p.frac_bits == 0:
        return w
    state = np.rint(np.asarray(w, np.float64) * float(p.vth << p.frac_bits)).astype(np.int64)
    return synaptic_weights(state, p) / float(p.vth)


def default_vth(init_std: float, weight_bits: int, headroom: float = 8.0) -> int:
    """The integer threshold that puts ±headroom·σ of the float init at the weight range's ends."""
    w_max = (1 << (weight_bits - 1)) - 1
    return max(1, int(math.floor(w_max / (headroom * max(init_std, 1e-12)))))
