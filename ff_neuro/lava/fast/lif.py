"""Fast ProcessModels for Lava's ``LIFReset`` process: the reference arithmetic in fewer array passes.

Reference models: ``lava.proc.lif.models.PyLifResetModelFloat / PyLifResetModelBitAcc``. Each step
receives a_in, zeroes u and v when ``time_step mod reset_interval == reset_offset``, then

floating point::

    u = u·(1 − du) + a_in;   v = v·(1 − dv) + u + bias_mant;   s = v > vth;   v[s] = 0

fixed point (bit-accurate Loihi; trunc0 rounds toward zero, M = 2²³)::

    u = wrap(int32(trunc0(u·(4096 − du − 1) / 2¹²)) + (a_in << 6))      wrap: u > M → u − 2M; u ≤ −M → u + 2M
    v = clip(int32(trunc0(v·(4096 − dv) / 2¹²)) + u + (bias_mant << bias_exp), −M + 1, M − 1)
    s = v > (vth << 6);   v[s] = 0

The fast models compute exactly this with the same dtypes (int32 state, int64 products), in place;
trunc0(y / 2¹²) = (y + ((y >> 63) & 4095)) >> 12. They skip the decay products when a decay is
the identity (du = 4095 gives u = wrap(a_in << 6), dv = 0 gives v unchanged), and compute the
bias scale once per Var update instead of every step (the threshold is scaled once, as in the
reference).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import tag
from lava.proc.lif.models import PyLifResetModelBitAcc, PyLifResetModelFloat


def trunc_decay(x: np.ndarray, factor: int, shift: int = 12) -> np.ndarray:
    """int32(trunc0(x · factor / 2^shift)) with the product in int64, as Lava's fixed-point LIF."""
    y = x.astype(np.int64) * factor
    return ((y + ((y >> 63) & ((1 << shift) - 1))) >> shift).astype(np.int32)


def _is_reset_step(model) -> bool:
    return model.time_step % model.reset_interval == model.reset_offset


def reset_to_zero(v: np.ndarray, s: np.ndarray, vth) -> None:
    """v[s] = 0: Lava's LIF reset."""
    np.putmask(v, s, 0)


@tag("fast")
class FastLIFResetFloat(PyLifResetModelFloat):
    """Floating-point LIFReset (tags floating_pt, fast): the reference's operations, in place."""

    reset_spiked = staticmethod(reset_to_zero)

    def run_spk(self) -> None:
        a = self.a_in.recv()
        u, v = self.u, self.v
        if _is_reset_step(self):
            u *= 0
            v *= 0
        u *= 1 - self.du
        u += a
        v *= 1 - self.dv
        v += u
        v += self.bias_mant
        s = v > self.vth
        self.reset_spiked(v, s, self.vth)
        self.s_out.send(s)


@tag("fast")
class FastLIFResetFixed(PyLifResetModelBitAcc):
    """Fixed-point LIFReset (tags bit_accurate_loihi, fixed_pt, fast): bit-identical to the reference."""

    _bias_ready = False
    reset_spiked = staticmethod(reset_to_zero)

    def on_var_update(self) -> None:
        self._bias_ready = False

    def run_spk(self) -> None:
        a = self.a_in.recv()
        if _is_reset_step(self):
            self.u *= 0
            self.v *= 0
        if not self._bias_ready:
            self.scale_bias()
            self._bias_ready = True
        if not self.isthrscaled:
            self.scale_threshold()
        self.subthr_dynamics(a)
        s = self.v > self.effective_vth
        self.reset_spiked(self.v, s, self.effective_vth)
        self.s_out.send(s)

    def subthr_dynamics(self, activation_in: np.ndarray) -> None:
        m = self.max_uv_val
        du = self.decay_unity - (self.du + self.ds_offset)
        shifted = np.left_shift(activation_in, self.act_shift)
        if du == 0:
            cur = shifted.astype(np.int32)
        else:
            cur = trunc_decay(self.u, du, self.decay_shift)
            cur += shifted
        if cur.max(initial=0) > m:
            np.subtract(cur, 2 * m, out=cur, where=cur > m)
        if cur.min(initial=0) <= -m:
            np.add(cur, 2 * m, out=cur, where=cur <= -m)
        self.u[:] = cur
        dv = self.decay_unity - (self.dv + self.dm_offset)
        volt = (
            self.v.copy() if dv == self.decay_unity else trunc_decay(self.v, dv, self.decay_shift)
        )
        volt += self.u
        volt += self.effective_bias
        np.clip(volt, -m + 1, m - 1, out=self.v)
