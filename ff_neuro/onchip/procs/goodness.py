"""``FFGoodness``: counts the post spikes of each window, computes goodness and the third factor e.

At t = k·P + φ (t = time_step − 1) it counts post spikes for 1 ≤ φ ≤ T (the window of sample k,
one step behind its input) and at φ = T sends

    fixed point:  e_int = rule.third_factor_fixed(c, s_k)   (integer goodness, sigmoid LUT)
    float:        e     = rule.third_factor_float(c, s_k)   (s_k · σ(−s_k·α·(G − θ)))

and 0 at every other step. The signs s_k (+1 positive, −1 negative) come with the labelled stream.
G_int (Σ c²) and e of every window are written to a .npy record (windows, 2) if a path is given.
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
    """Goodness and third factor per window of H post neurons."""

    def __init__(
        self,
        *,
        size: int,
        signs: np.ndarray,
        rule: dict,
        period: int,
        record_path: str | None = None,
        **kwargs,
    ):
        super().__init__(
            size=size,
            signs=np.asarray(signs, np.int64),
            rule=rule,
            period=period,
            record_path=record_path,
            **kwargs,
        )
        self.s_in = InPort(shape=(size,))
        self.e_out = OutPort(shape=(1,))


class _FFGoodnessModel(PyLoihiProcessModel):
    fixed = False

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.p = rule.RuleParams(**p["rule"])
        self.signs, self.P, self.T = p["signs"], p["period"], self.p.timesteps
        self.lut = rule.sigmoid_lut(self.p)
        self.count = np.zeros(p["size"], np.int64)
        self.rec = None if not p["record_path"] else np.load(p["record_path"], mmap_mode="r+")
        self.zero = np.zeros(1, np.int32 if self.fixed else np.float64)

    def run_spk(self) -> None:
        s = np.asarray(self.s_in.recv()).astype(bool)
        k, phase = divmod(self.time_step - 1, self.P)
        if phase == 1:
            self.count[:] = 0
        if 1 <= phase <= self.T:
            self.count += s
        if phase != self.T or k >= len(self.signs):
            self.e_out.send(self.zero)
            return
        c, sign = self.count[None], self.signs[k : k + 1]
        if self.fixed:
            e = rule.third_factor_fixed(c, sign, self.p, self.lut).astype(np.int32)
        else:
            e = rule.third_factor_float(c.astype(np.float64), sign, self.p)
        if self.rec is not None:
            self.rec[k] = (float(rule.goodness_int(c)[0]), float(e[0]))
            if k == len(self.signs) - 1:
                self.rec.flush()
        self.e_out.send(e)


@implements(proc=FFGoodness, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyFFGoodnessFloat(_FFGoodnessModel):
    """FFGoodness (floating_pt): e = s·σ(−s·α·(G − θ)) in float64."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    e_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)


@implements(proc=FFGoodness, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyFFGoodnessFixed(_FFGoodnessModel):
    """FFGoodness (fixed_pt): integer goodness, sigmoid LUT, 8-bit signed e."""

    fixed = True
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    e_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=8)
