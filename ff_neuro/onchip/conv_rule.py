"""The FF three-factor rule on a shared convolution kernel (numpy only: the Lava models call it).

A plastic conv layer has C_out kernels of k_x × k_y × C_in weights shared by every output position.
Tensors are in Lava's (X, Y, C) = (W, H, C) layout. The learned state is the kernel matrix

    K[o, (i, j, c)] = W_lava[o, k_x − 1 − i, k_y − 1 − j, c] = w_torch[o, c, j, i]    (C_out, k_x·k_y·C_in)

(Lava's Conv computes a true convolution: its weight is the flipped kernel), so that the layer's
input current is a(x, y, o) = Σ_(i,j,c) x_pad[σx + i, σy + j, c] · K[o, (i, j, c)] (one im2col
product, ``ff_neuro.lava.fast.conv``). For one window with pre counts x (X, Y, C_in), post factors
p (X', Y', C_out) (p = c·[c < T], ``rule.post_factor``) and third factor e, the weight change of a
kernel element sums over every output position π = (x, y):

    ΔK[o, (i, j, c)] ∝ e · Σ_π p[π, o] · x_pad[σ·π + (i, j), c]  =  e · (Pᵀ · X)[o, (i, j, c)]

with X = patches(x) (positions × k_x·k_y·C_in): one correlation of the input window with the
post-synaptic factor map, an exact integer product in fixed point. It is the dense rule
(:func:`ff_neuro.onchip.rule.update_fixed`) applied to the position-unrolled batch — every output
position is one row of post factors and its input patch one row of pre counts, all with the
window's e — so the rounding, the stochastic dither r[o, (i, j, c)] (index o·F + (i, j, c), F the
fan-in) and the clip are the dense rule's, written once. Several windows (the reference's batched
mode, SymBa's pair) add their positions as further rows before the one rounding.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import rule


class ConvGeometry(NamedTuple):
    """One conv layer in Lava's layout: input (X, Y, C_in), C_out kernels of (k_x, k_y)."""

    in_shape: tuple[int, int, int]
    out_channels: int
    kernel: tuple[int, int]
    stride: int = 1
    padding: int = 0

    @property
    def out_shape(self) -> tuple[int, int, int]:
        X, Y, _ = self.in_shape
        (kx, ky), s, p = self.kernel, self.stride, self.padding
        return ((X + 2 * p - kx) // s + 1, (Y + 2 * p - ky) // s + 1, self.out_channels)

    @property
    def positions(self) -> int:
        X, Y, _ = self.out_shape
        return X * Y

    @property
    def fan_in(self) -> int:
        return self.kernel[0] * self.kernel[1] * self.in_shape[2]

    @property
    def neurons(self) -> int:
        return int(np.prod(self.out_shape))


def geometry_of(in_chw, out_channels: int, kernel: int, stride: int, padding: int) -> ConvGeometry:
    """The geometry of a torch-layout layer with input (C, H, W) (square kernel)."""
    c, h, w = in_chw
    return ConvGeometry(
        (int(w), int(h), int(c)), int(out_channels), (kernel, kernel), stride, padding
    )


def patches(x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """im2col: (B, X, Y, C_in) → (B, positions, k_x·k_y·C_in) in the order (i, j, c) of K's columns
    (the dtype of x)."""
    x = np.asarray(x)
    B = x.shape[0]
    p, s, (kx, ky) = g.padding, g.stride, g.kernel
    pad = np.zeros((B, x.shape[1] + 2 * p, x.shape[2] + 2 * p, x.shape[3]), x.dtype)
    pad[:, p : p + x.shape[1], p : p + x.shape[2]] = x
    Xo, Yo, _ = g.out_shape
    b0, b1, b2, b3 = pad.strides
    view = np.lib.stride_tricks.as_strided(
        pad,
        shape=(B, Xo, Yo, kx, ky, x.shape[3]),
        strides=(b0, s * b1, s * b2, b1, b2, b3),
        writeable=False,
    )
    return view.reshape(B, Xo * Yo, g.fan_in)


def kernel_matrix(w_lava: np.ndarray) -> np.ndarray:
    """K (C_out, k_x·k_y·C_in) from a Lava Conv weight (C_out, k_x, k_y, C_in) (a copy)."""
    w = np.asarray(w_lava)
    return np.ascontiguousarray(w[:, ::-1, ::-1, :].reshape(w.shape[0], -1))


def lava_weight(k: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """The Lava Conv weight (C_out, k_x, k_y, C_in) of a kernel matrix K (a copy)."""
    kx, ky = g.kernel
    w = np.asarray(k).reshape(k.shape[0], kx, ky, g.in_shape[2])
    return np.ascontiguousarray(w[:, ::-1, ::-1, :])


def torch_weight(k: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """The torch cross-correlation weight (C_out, C_in, k_y, k_x) of K: w[o, c, j, i] = K[o, (i, j, c)]."""
    kx, ky = g.kernel
    return np.ascontiguousarray(
        np.asarray(k).reshape(k.shape[0], kx, ky, g.in_shape[2]).transpose(0, 3, 2, 1)
    )


def kernel_of_torch(w: np.ndarray) -> np.ndarray:
    """K from a torch weight (C_out, C_in, k_y, k_x): the inverse of :func:`torch_weight`."""
    w = np.asarray(w)
    return np.ascontiguousarray(w.transpose(0, 3, 2, 1).reshape(w.shape[0], -1))


def _rows(e: np.ndarray, post: np.ndarray, pre: np.ndarray, g: ConvGeometry):
    """The position-unrolled batch: e repeated per position, post (B·P, C_out), patches (B·P, F)."""
    post = np.asarray(post)
    B = post.shape[0]
    e_rows = np.repeat(np.asarray(e), g.positions)
    return (
        e_rows,
        post.reshape(B * g.positions, g.out_channels),
        patches(pre, g).reshape(B * g.positions, g.fan_in),
    )


def update_fixed(
    k: np.ndarray,
    e: np.ndarray,
    post: np.ndarray,
    pre: np.ndarray,
    g: ConvGeometry,
    p: rule.RuleParams,
    epoch: int,
) -> None:
    """K ← clip(K + ⌊(Σ_b e_b · Σ_π p_b[π] ⊗ X_b[π] + r) / 2^k⌋) in place (integer K, C_out × F).

    ``e`` (B,) e_int, ``post`` (B, X', Y', C_out) post factors, ``pre`` (B, X, Y, C_in) pre counts."""
    rule.update_fixed(k, *_rows(e, post, pre, g), p, epoch)


def update_float(
    k: np.ndarray,
    e: np.ndarray,
    post: np.ndarray,
    pre: np.ndarray,
    g: ConvGeometry,
    p: rule.RuleParams,
    lattice_epoch: int | None = None,
) -> None:
    """K ← K + lr · Σ_b e_b · Σ_π p_b[π] ⊗ X_b[π] in place (float64), lr = E / (2^k · vth); with
    ``lattice_epoch``, the change rounded onto the fixed-point lattice (``rule.lattice_add``)."""
    rule.update_float(k, *_rows(e, post, pre, g), p, lattice_epoch)
