"""Fast ProcessModels for Lava's own ``Conv`` process: one im2col matrix product per step.

Lava's reference models (``lava.proc.conv.models.PyConvModelFloat / PyConvModelFixed``) do, at each
time step t (one-step synaptic delay: the previous step's result is sent first)::

    send a_out ← a_buf
    s      = s_in(t)                 cast to bool when num_message_bits == 0
    a_buf  = clamp(conv(s, W))

with Lava's true convolution in (X, Y, C) = (W, H, C) layout, weight W of shape (C_out, Kx, Ky, C_in/g),
padding p, stride σ, dilation d and g groups (c runs over the input channels of k's group)::

    conv(s, W)[x, y, k] = Σ_{i, j, c} s_pad[σx·x + dx·i, σy·y + dy·j, c] · W[k, Kx−1−i, Ky−1−j, c]

clamp is the identity in floating point; in fixed point the float64 sum is cast to the weight's
int32 and wrapped into signed 24 bits, ((a + 2²³) mod 2²⁴) − 2²³. The reference evaluates conv with
one ``scipy.signal.convolve2d`` per (output, input) channel pair. These models gather the patches
of s_pad (im2col, a strided view copied into a preallocated (Xo·Yo, Kx·Ky·C_in/g) buffer) and
multiply once by the flipped, reshaped weight matrix per group.

Exactness: fixed point multiplies in float32 when every output sum is provably below 2²⁴
(max|s| · max_k Σ|W_k| < 2²⁴; then every partial sum is an exact integer in float32), else in
float64 like the reference; the cast and the wrap are the reference's, so the output is bit-identical.
Floating point multiplies in float64 like the reference; only the summation order differs, which
changes nothing when the sums are exact (the exact float grid) and the last bit otherwise.
Weights are cached and rebuilt after a ``Var.set`` (``on_var_update``); weight_exp is ignored as by
the reference. Each Conv runs in its own Lava process, so the models limit BLAS to one thread there
(threadpoolctl): OpenBLAS worker threads that spin-wait between the small per-step products cost
more CPU than they save on a machine with few cores.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import tag
from lava.proc.conv.models import PyConvModelFixed, PyConvModelFloat

EXACT_F32 = 2**24


def flipped_weight_matrices(weight: np.ndarray, groups: int, dtype) -> list[np.ndarray]:
    """Per group, the (Kx·Ky·C_in/g, C_out/g) matrix M[(i, j, c), k] = W[k, Kx−1−i, Ky−1−j, c]."""
    k_out = weight.shape[0] // groups
    flipped = np.asarray(weight)[:, ::-1, ::-1, :]
    return [
        np.ascontiguousarray(
            flipped[g * k_out : (g + 1) * k_out].transpose(1, 2, 3, 0).reshape(-1, k_out)
        ).astype(dtype)
        for g in range(groups)
    ]


class Im2colConv:
    """conv(s, W) of the module docstring for one fixed geometry, with preallocated buffers."""

    def __init__(self, in_shape, out_shape, weight, padding, stride, dilation, groups):
        self.in_shape, self.out_shape = (
            tuple(int(v) for v in in_shape),
            tuple(int(v) for v in out_shape),
        )
        self.kernel = tuple(int(v) for v in weight.shape[1:3])
        self.padding, self.stride = tuple(int(v) for v in padding), tuple(int(v) for v in stride)
        self.dilation, self.groups = tuple(int(v) for v in dilation), int(groups)
        self.set_weight(weight)
        self._buffers: dict = {}

    def set_weight(self, weight: np.ndarray) -> None:
        self.mats = {
            dt: flipped_weight_matrices(weight, self.groups, dt) for dt in (np.float32, np.float64)
        }
        self.abs_row_sum = float(
            np.abs(np.asarray(weight, np.float64)).reshape(weight.shape[0], -1).sum(1).max()
        )

    def _buffer(self, dtype):
        if dtype not in self._buffers:
            (X, Y, C), (px, py) = self.in_shape, self.padding
            Xo, Yo, _ = self.out_shape
            cg = C // self.groups
            pad = np.zeros((X + 2 * px, Y + 2 * py, C), dtype)
            cols = [
                np.empty((Xo * Yo, self.kernel[0] * self.kernel[1] * cg), dtype)
                for _ in range(self.groups)
            ]
            self._buffers[dtype] = (pad, cols)
        return self._buffers[dtype]

    def __call__(self, s: np.ndarray, dtype=np.float64) -> np.ndarray:
        (X, Y, C), (px, py) = self.in_shape, self.padding
        Xo, Yo, K = self.out_shape
        (kx, ky), (sx, sy), (dx, dy) = self.kernel, self.stride, self.dilation
        pad, cols = self._buffer(dtype)
        pad[px : px + X, py : py + Y] = s
        cg, kg = C // self.groups, K // self.groups
        out = np.empty((Xo * Yo, K), dtype)
        b0, b1, b2 = pad.strides
        for g, (col, mat) in enumerate(zip(cols, self.mats[dtype])):
            view = np.lib.stride_tricks.as_strided(
                pad[:, :, g * cg :],
                shape=(Xo, Yo, kx, ky, cg),
                strides=(sx * b0, sy * b1, dx * b0, dy * b1, b2),
                writeable=False,
            )
            np.copyto(col.reshape(Xo, Yo, kx, ky, cg), view)
            np.matmul(col, mat, out=out[:, g * kg : (g + 1) * kg] if self.groups > 1 else out)
        return out.reshape(Xo, Yo, K)


def single_blas_thread() -> None:
    """Limit BLAS to one thread in this (Lava model) process, when threadpoolctl is installed."""
    try:
        from threadpoolctl import threadpool_limits
    except (
        ImportError
    ):  # pragma: no cover - threadpoolctl comes with scikit-learn, a lava dependency
        return
    threadpool_limits(1, user_api="blas")


class _FastConv:
    """run_spk of the reference (delay, bool cast, clamp) with :class:`Im2colConv` as the convolution."""

    _plan: Im2colConv | None = None

    def _conv(self) -> Im2colConv:
        if self._plan is None:
            single_blas_thread()
            self._plan = Im2colConv(
                self.s_in.shape,
                self.a_out.shape,
                self.weight,
                self.padding,
                self.stride,
                self.dilation,
                self.groups[0],
            )
        return self._plan

    def on_var_update(self) -> None:
        self._plan = None  # weights (or geometry) may have been set from the host

    def run_spk(self) -> None:
        self.a_out.send(self.a_buf)
        s = self.s_in.recv()
        if self.num_message_bits.item() <= 0:
            s = s.astype(bool)
        self.a_buf = self.clamp_precision(self.convolve(s))

    def convolve(self, s: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@tag("fast")
class FastConvFloat(_FastConv, PyConvModelFloat):
    """Floating-point Conv (tags floating_pt, fast): float64 im2col product."""

    def convolve(self, s: np.ndarray) -> np.ndarray:
        return self._conv()(s, np.float64)


@tag("fast")
class FastConvFixed(_FastConv, PyConvModelFixed):
    """Fixed-point Conv (tags fixed_pt, fast): exact integer sums, int32 cast and signed 24-bit wrap."""

    def convolve(self, s: np.ndarray) -> np.ndarray:
        plan = self._conv()
        s_max = 1.0 if s.dtype == bool else float(np.abs(s).max(initial=0))
        dtype = np.float32 if s_max * plan.abs_row_sum < EXACT_F32 else np.float64
        return plan(s, dtype).astype(self.weight.dtype)

    def clamp_precision(self, x: np.ndarray) -> np.ndarray:
        return ((x + (1 << 23)) & ((1 << 24) - 1)) - (1 << 23)
