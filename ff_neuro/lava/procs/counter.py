"""WindowCounter: sums each of its inputs over one window per sample, so only a few numbers are read back.

One process serves up to ``MAX_INPUTS`` inputs (ports ``s_in0`` … ``s_in{n−1}``; the unused ones keep
shape (1,) and are never connected): a Lava process costs a fixed overhead per step, so the deploy
graph counts every layer in one process. Samples are concatenated in time with period P. For input i
and sample k the window is the T steps ``t ∈ [k·P + offset_i, k·P + offset_i + T)`` (t = Lava
time_step − 1). At the end of each window the process stores, per sample and input,
``stats[k, i] = (Σ_j c_j, Σ_j c_j²)`` — spike total and the goodness numerator of the window sums
c_j — and, for the inputs with ``keep_sums`` (a readout), the whole vector c in its columns of
``sums[k]``. Optionally the per-neuron window sums of an input are written to a float32
memory-mapped file (``record_paths[i]``, shape (samples, N_i)): Lava's ``Var.get`` moves one element
per message, far too slow for per-neuron counts of thousands of neurons.
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

MAX_INPUTS = 8


class WindowCounter(AbstractProcess):
    def __init__(
        self,
        *,
        shapes: list[tuple[int, ...]],
        offsets: list[int],
        samples: int,
        period: int,
        window: int,
        keep_sums: list[bool] | None = None,
        record_paths: list[str | None] | None = None,
        **kwargs,
    ):
        n = len(shapes)
        shapes = [tuple(int(d) for d in s) for s in shapes]
        keep_sums = list(keep_sums or [False] * n)
        record_paths = list(record_paths or [None] * n)
        super().__init__(
            shapes=shapes,
            offsets=list(offsets),
            samples=samples,
            period=period,
            window=window,
            keep_sums=keep_sums,
            record_paths=record_paths,
            **kwargs,
        )
        if (
            not 1 <= n <= MAX_INPUTS or len(offsets) != n
        ):  # after AbstractProcess.__init__: its __del__ needs it
            raise ValueError(
                f"WindowCounter takes 1 to {MAX_INPUTS} inputs with one offset each, got {n} shapes "
                f"and {len(offsets)} offsets"
            )
        for i in range(MAX_INPUTS):
            setattr(self, f"s_in{i}", InPort(shape=shapes[i] if i < n else (1,)))
        width = max(1, sum(int(np.prod(s)) for s, keep in zip(shapes, keep_sums) if keep))
        self.stats = Var(shape=(samples, n, 2), init=np.zeros((samples, n, 2)))
        self.sums = Var(shape=(samples, width), init=np.zeros((samples, width)))

    def port(self, i: int) -> InPort:
        return getattr(self, f"s_in{i}")


class _WindowCounterModel(PyLoihiProcessModel):
    stats: np.ndarray = LavaPyType(np.ndarray, float)
    sums: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.samples, self.period, self.window = p["samples"], p["period"], p["window"]
        self.offsets, self.keep = p["offsets"], p["keep_sums"]
        sizes = [int(np.prod(s)) for s in p["shapes"]]
        starts = np.cumsum([0] + [n if keep else 0 for n, keep in zip(sizes, self.keep)])
        self.columns = [slice(int(a), int(a) + n) for a, n in zip(starts, sizes)]
        self.acc = [None] * len(sizes)
        self.records = [
            None
            if not path
            else np.lib.format.open_memmap(
                path, mode="r+", dtype=np.float32, shape=(self.samples, n)
            )
            for path, n in zip(p["record_paths"], sizes)
        ]

    def run_spk(self) -> None:
        t = self.time_step - 1
        for i, offset in enumerate(self.offsets):
            x = getattr(self, f"s_in{i}").recv()
            k, phase = divmod(t - offset, self.period)
            if 0 <= k < self.samples and phase < self.window:
                self._add(i, k, phase, np.asarray(x, dtype=np.float64).reshape(-1))

    def _add(self, i: int, k: int, phase: int, x: np.ndarray) -> None:
        if phase == 0:
            self.acc[i] = np.zeros_like(x)
        acc = self.acc[i]
        acc += x
        if phase < self.window - 1:
            return
        self.stats[k, i, 0] = acc.sum()
        self.stats[k, i, 1] = np.square(acc).sum()
        if self.keep[i]:
            self.sums[k, self.columns[i]] = acc
        if self.records[i] is not None:
            self.records[i][k] = acc
            if k == self.samples - 1:
                self.records[i].flush()


def _model(name: str, port_type: LavaPyType, tag_name: str) -> type:
    ports = {f"s_in{i}": port_type for i in range(MAX_INPUTS)}
    cls = type(
        name,
        (_WindowCounterModel,),
        {**ports, "__module__": __name__, "__doc__": f"WindowCounter model ({tag_name})."},
    )
    return implements(proc=WindowCounter, protocol=LoihiProtocol)(requires(CPU)(tag(tag_name)(cls)))


PyWindowCounterFloat = _model(
    "PyWindowCounterFloat", LavaPyType(PyInPort.VEC_DENSE, float), "floating_pt"
)
PyWindowCounterFixed = _model(
    "PyWindowCounterFixed", LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24), "fixed_pt"
)
