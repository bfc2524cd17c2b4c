"""Hard negatives as an on-chip rule: the wrong label drawn with probability ∝ exp(α_h·G(label)).

Before image m's positive and negative windows, the chip runs m under every label c (scoring
windows, no learning) and reads the integer goodness G_c = Σ_i c_i² of the scoring layer (H neurons,
T steps). The negative label is then drawn among the wrong labels c ≠ y:

fixed point (all integer, one draw per image):

    d_c = G_c − max_{c' ≠ y} G_c'  (≤ 0)
    i_c = clip((d_c · M_h + 2^(S−1)) >> S, −R_h·Q, 0),   M_h = round(α_h · Q · 2^S / (H · T²))
    w_c = EXP[i_c] = round(2^15 · exp(i_c / Q)) for c ≠ y,   w_y = 0
    u   = hash(seed, m) mod Σ_c w_c,   label = min{c : w_0 + … + w_c > u}

float: w_c = exp(α_h · (G_c − G_max) / (H · T²)) for c ≠ y, u = (hash(seed, m) / 2⁶⁴) · Σ w.

The hash is the counter-based SplitMix64 of :mod:`ff_neuro.onchip.rule` (a key of its own), so the
Lava source and the reference draw the same label without sharing state. α_h = 0 is uniform.
"""

from __future__ import annotations

import numpy as np

from .rule import _M64, RuleParams, _splitmix

EXP_BITS = 15  # EXP[0] = 2^15
EXP_RANGE = 16  # R_h: exp(−16) · 2^15 < 1, the table's end


def exp_lut(p: RuleParams) -> np.ndarray:
    """EXP[i + R_h·Q] = round(2^15 · exp(i / Q)) for i ∈ [−R_h·Q, 0] (int64)."""
    i = np.arange(-EXP_RANGE * p.lut_steps, 1)
    return np.rint(2.0**EXP_BITS * np.exp(i / p.lut_steps)).astype(np.int64)


def _mult(p: RuleParams, alpha: float) -> int:
    return int(round(alpha * p.lut_steps * 2**p.shift_bits / (p.hidden * p.timesteps**2)))


def _uniform64(p: RuleParams, images: np.ndarray) -> np.ndarray:
    key = (int(p.seed) * 0x9E3779B97F4A7C15 + 0xA0761D6478BD642F) & _M64
    with np.errstate(over="ignore"):
        return _splitmix(
            np.asarray(images, np.uint64) * np.uint64(0xE7037ED1A0B428DB) + np.uint64(key)
        )


def draw_fixed(
    g: np.ndarray, labels: np.ndarray, images: np.ndarray, p: RuleParams, alpha: float
) -> np.ndarray:
    """Wrong labels (B,) int64 from integer goodness g (B, C), true labels and image indices (B,)."""
    g = np.asarray(g, np.int64)
    wrong = np.arange(g.shape[1])[None, :] != np.asarray(labels)[:, None]
    gmax = np.where(wrong, g, np.iinfo(np.int64).min).max(1, keepdims=True)
    idx = ((g - gmax) * _mult(p, alpha) + (1 << (p.shift_bits - 1))) >> p.shift_bits
    r = EXP_RANGE * p.lut_steps
    w = np.where(wrong, exp_lut(p)[np.clip(idx, -r, 0) + r], 0)
    u = (_uniform64(p, images) % w.sum(1).astype(np.uint64)).astype(np.int64)
    return (np.cumsum(w, 1) > u[:, None]).argmax(1).astype(np.int64)


def draw_float(
    g: np.ndarray, labels: np.ndarray, images: np.ndarray, p: RuleParams, alpha: float
) -> np.ndarray:
    """Wrong labels (B,) from goodness g (B, C) on the Σ c² scale (float), like :func:`draw_fixed`."""
    g = np.asarray(g, np.float64) / (p.hidden * p.timesteps**2)
    wrong = np.arange(g.shape[1])[None, :] != np.asarray(labels)[:, None]
    gmax = np.where(wrong, g, -np.inf).max(1, keepdims=True)
    w = np.where(wrong, np.exp(alpha * (g - gmax)), 0.0)
    u = _uniform64(p, images).astype(np.float64) / 2.0**64 * w.sum(1)
    pick = (np.cumsum(w, 1) > u[:, None]).argmax(1)
    return np.where(wrong[np.arange(len(pick)), pick], pick, wrong.argmax(1)).astype(np.int64)


def draw(g, labels, images, p: RuleParams, alpha: float, fixed: bool) -> np.ndarray:
    return (draw_fixed if fixed else draw_float)(g, labels, images, p, alpha)
