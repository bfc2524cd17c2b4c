"""``RasterSource``: streams sample windows of a spike raster stored on disk (bounded memory).

The raster is a ``.npy`` file of packed bits (windows, T, ⌈N/8⌉) (``np.packbits`` on the last
axis). With period P ≥ T + 1 and t = Lava time_step − 1, the process sends at step t = k·P + φ

    pre(t) = raster[k, φ]  for φ < T and k < windows,   else zeros (the gap in which W is updated).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class RasterSource(AbstractProcess):
    """Sends the windows of the packed raster at ``path`` (N neurons), one window per period."""

    def __init__(
        self, *, path: str, size: int, windows: int, timesteps: int, period: int, **kwargs
    ):
        super().__init__(
            path=path, size=size, windows=windows, timesteps=timesteps, period=period, **kwargs
        )
        self.s_out = OutPort(shape=(size,))


class _RasterSourceModel(PyLoihiProcessModel):
    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.size, self.windows, self.T, self.P = (
            p["size"],
            p["windows"],
            p["timesteps"],
            p["period"],
        )
        self.raster = np.load(p["path"], mmap_mode="r")
        self.zeros = np.zeros(self.size, dtype=bool)

    def run_spk(self) -> None:
        k, phase = divmod(self.time_step - 1, self.P)
        if k < self.windows and phase < self.T:
            bits = np.unpackbits(self.raster[k, phase], count=self.size).astype(bool)
            self.s_out.send(bits)
        else:
            self.s_out.send(self.zeros)


@implements(proc=RasterSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyRasterSourceFloat(_RasterSourceModel):
    """Raster source (floating_pt): binary spikes."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)


@implements(proc=RasterSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyRasterSourceFixed(_RasterSourceModel):
    """Raster source (fixed_pt): binary spikes."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
