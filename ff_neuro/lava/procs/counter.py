"""WindowCounter: sums its input over one window per sample, so only a few numbers are read back.

Samples are concatenated in time with period P. For sample k the window is the T steps
``t ∈ [k·P + offset, k·P + offset + T)`` (t = Lava time_step − 1). At the end of each window the
process stores, per sample, ``stats[k] = (Σ_i c_i, Σ_i c_i²)`` — spike total and the goodness
numerator of the window sums c_i — and, for small inputs (a readout), the whole vector
``sums[k] = c``. Optionally the per-neuron window sums are written to a float32 memory-mapped file
(``record_path``, shape (samples, N)): Lava's ``Var.get`` moves one element per message, which is
far too slow for per-neuron counts of thousands of neurons.
"""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class WindowCounter(AbstractProcess):
    def __init__(self, *, shape: tuple[int, ...], samples: int, period: int, window: int, offset: int,
                 keep_sums: bool = False, record_path: str | None = None, **kwargs):
        super().__init__(shape=shape, samples=samples, period=period, window=window, offset=offset,
                         keep_sums=keep_sums, record_path=record_path, **kwargs)
        n = int(np.prod(shape))
        self.s_in = InPort(shape=shape)
        self.stats = Var(shape=(samples, 2), init=np.zeros((samples, 2)))
        self.sums = Var(shape=(samples, n if keep_sums else 1), init=np.zeros((samples, n if keep_sums else 1)))


class _WindowCounterModel(PyLoihiProcessModel):
    stats: np.ndarray = LavaPyType(np.ndarray, float)
    sums: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.samples, self.period, self.window, self.offset = p["samples"], p["period"], p["window"], p["offset"]
        self.keep_sums, path = p["keep_sums"], p["record_path"]
        self.acc = None
        self.record = None
        if path:
            n = int(np.prod(p["shape"]))
            self.record = np.lib.format.open_memmap(path, mode="r+", dtype=np.float32, shape=(self.samples, n))

    def run_spk(self) -> None:
        x = np.asarray(self.s_in.recv(), dtype=np.float64).reshape(-1)
        t = self.time_step - 1
        k, phase = divmod(t - self.offset, self.period)
        if not 0 <= k < self.samples or phase >= self.window:
            return
        if phase == 0:
            self.acc = np.zeros_like(x)
        self.acc += x
        if phase == self.window - 1:
            self.stats[k, 0] = self.acc.sum()
            self.stats[k, 1] = np.square(self.acc).sum()
            if self.keep_sums:
                self.sums[k, :] = self.acc
            if self.record is not None:
                self.record[k] = self.acc
                if k == self.samples - 1:
                    self.record.flush()


@implements(proc=WindowCounter, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyWindowCounterFloat(_WindowCounterModel):
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)


@implements(proc=WindowCounter, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyWindowCounterFixed(_WindowCounterModel):
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
