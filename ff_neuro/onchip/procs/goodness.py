"""``FFGoodness``: counts the post spikes of each window, computes goodness and the third factor e.

The window of sample k is t ∈ [kP + o, kP + o + T) (t = time_step − 1, o = ``offset``: 1 behind
the input in the dense graph, l + 1 for layer l of the pipelined conv graph). The process counts
the spikes c of the window and at its last step sends

    threshold, fixed point:  e_int = rule.third_factor_fixed(c, s_k)   (integer goodness, sigmoid LUT)
    threshold, float:        e     = rule.third_factor_float(c, s_k)   (s_k · σ(−s_k·α·(G − θ)))
    symba (pairs: positive, then its negative):  0 after the positive window, whose G⁺ = Σ c² it
        keeps; after the negative one E = rule.pair_factor_{fixed,float}(G⁺, G⁻) = σ(−α·(G⁺ − G⁻))
    a scoring window (s_k = 0): e = 0

and 0 at every other step. On ``g_out`` it sends G_int = Σ c² at the window's last step (0
otherwise): the scores the hard-negative draw reads (:class:`~ff_neuro.onchip.procs.source.
ImageSource`). The signs s_k (+1 positive, −1 negative, 0 scoring) come with the labelled stream.
G_int and e of every window are written to a .npy record (windows, 2) if a path is given.
On Loihi 2 this is the part that needs a programmable (microcode) neuron or the embedded CPU.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from ff_neuro.onchip import rule


class FFGoodness(AbstractProcess):
    """Goodness and third factor per window of the post neurons (``size``: a count or a shape)."""

    def __init__(
        self,
        *,
        size,
        signs: np.ndarray,
        rule: dict,
        period: int,
        offset: int = 1,
        objective: str = "threshold",
        record_path: str | None = None,
        **kwargs,
    ):
        shape = (size,) if np.isscalar(size) else tuple(int(d) for d in size)
        super().__init__(
            shape=shape,
            signs=np.asarray(signs, np.int64),
            rule=rule,
            period=period,
            offset=offset,
            objective=objective,
            record_path=record_path,
            **kwargs,
        )
        self.s_in = InPort(shape=shape)
        self.e_out = OutPort(shape=(1,))
        self.g_out = OutPort(shape=(1,))


class _FFGoodnessModel(PyLoihiProcessModel):
    fixed = False

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.p = rule.RuleParams(**p["rule"])
        self.signs, self.P, self.T, self.o = p["signs"], p["period"], self.p.timesteps, p["offset"]
        self.symba = p["objective"] == "symba"
        self.lut = rule.sigmoid_lut(self.p)
        self.count = np.zeros(p["shape"], np.int64).reshape(-1)
        self.g_pos = 0
        self.rec = None if not p["record_path"] else np.load(p["record_path"], mmap_mode="r+")
        self.zero = np.zeros(1, np.int32 if self.fixed else np.float64)

    def run_spk(self) -> None:
        s = np.asarray(self.s_in.recv()).astype(bool).reshape(-1)
        k, phase = divmod(self.time_step - 1 - self.o, self.P)
        if k < 0 or phase >= self.T:
            self._send(self.zero, self.zero)
            return
        if phase == 0:
            self.count[:] = 0
        self.count += s
        if phase != self.T - 1 or k >= len(self.signs):
            self._send(self.zero, self.zero)
            return
        g = int(rule.goodness_int(self.count))
        e = self._factor(g, int(self.signs[k]))
        if self.rec is not None:
            self.rec[k] = (float(g), float(e[0]))
            if k == len(self.signs) - 1:
                self.rec.flush()
        self._send(e, np.array([g], self.zero.dtype))

    def _factor(self, g: int, sign: int) -> np.ndarray:
        if sign == 0:
            return self.zero
        if self.symba:
            if sign > 0:
                self.g_pos = g
                return self.zero
            pair = rule.pair_factor_fixed if self.fixed else rule.pair_factor_float
            e = pair(
                np.array([self.g_pos]), np.array([g]), self.p, *((self.lut,) if self.fixed else ())
            )
        elif self.fixed:
            e = rule.third_factor_fixed(self.count[None], np.array([sign]), self.p, self.lut)
        else:
            e = rule.third_factor_float(
                self.count[None].astype(np.float64), np.array([sign]), self.p
            )
        return e.astype(self.zero.dtype)

    def _send(self, e: np.ndarray, g: np.ndarray) -> None:
        self.e_out.send(e)
        self.g_out.send(g)


@implements(proc=FFGoodness, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyFFGoodnessFloat(_FFGoodnessModel):
    """FFGoodness (floating_pt): e = s·σ(−s·α·(G − θ)) or σ(−α·(G⁺ − G⁻)) in float64."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    e_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    g_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)


@implements(proc=FFGoodness, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyFFGoodnessFixed(_FFGoodnessModel):
    """FFGoodness (fixed_pt): integer goodness, sigmoid LUT, 8-bit signed e."""

    fixed = True
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    e_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=8)
    g_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
