"""Sources of the learning graphs: ``RasterSource`` (spike rasters of the dense graph) and
``ImageSource`` (labelled images as constant currents, with on-chip hard negatives, for the conv
graph); both stream from disk (bounded memory).

``RasterSource``:

The raster is a ``.npy`` file of packed bits (windows, T, ⌈N/8⌉) (``np.packbits`` on the last
axis). With period P ≥ T + 1 and t = Lava time_step − 1, the process sends at step t = k·P + φ

    pre(t) = raster[k, φ]  for φ < T and k < windows,   else zeros (the gap in which W is updated).
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


class ImageSource(AbstractProcess):
    """Sends each window's encoded labelled image as a constant input (current encoding).

    ``path``: a .npy (samples, slots, X, Y, C) of encoded inputs (fixed point: integers; float:
    float64), read memory-mapped. Window k sends ``inputs[rows[k], slots[k]]`` at every step
    t ∈ [kP, kP + T) and zeros otherwise. A slot of −1 is a hard negative drawn on the way: the
    source then reads the integer goodness G of the scoring layer on ``g_in`` (sent by its
    FFGoodness, at the last step of each window of that layer's offset ``draws["offset"]``) and, when
    the C scoring windows k0 … k0 + C − 1 of the sample are in, draws the window's label with
    ``ff_neuro.onchip.negatives.draw`` (slots are labels then). ``draws``: {"table": (D, 4) int
    rows (window k, k0, true label, key), "offset", "rule" (RuleParams dict), "alpha"}.
    """

    def __init__(
        self,
        *,
        path: str,
        shape: tuple[int, int, int],
        rows: np.ndarray,
        slots: np.ndarray,
        timesteps: int,
        period: int,
        draws: dict | None = None,
        **kwargs,
    ):
        super().__init__(
            path=path,
            shape=tuple(int(d) for d in shape),
            rows=np.asarray(rows, np.int64),
            slots=np.asarray(slots, np.int64),
            timesteps=timesteps,
            period=period,
            draws=draws,
            **kwargs,
        )
        self.s_out = OutPort(shape=tuple(int(d) for d in shape))
        self.g_in = InPort(shape=(1,))


class _ImageSourceModel(PyLoihiProcessModel):
    fixed = False

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.rows, self.slots = p["rows"], p["slots"].copy()
        self.T, self.P = p["timesteps"], p["period"]
        self.inputs = np.load(p["path"], mmap_mode="r")
        self.zeros = np.zeros(p["shape"], np.int32 if self.fixed else np.float64)
        self.draws = p["draws"]
        if self.draws:
            from ff_neuro.onchip.rule import RuleParams

            self.rule = RuleParams(**self.draws["rule"])
            self.classes = self.inputs.shape[1]
            self.by_last = {
                int(k0) + self.classes - 1: (int(k), int(k0), int(y), int(key))
                for k, k0, y, key in np.asarray(self.draws["table"])
            }
            self.wanted = {
                k0 + c for _, k0, _, _ in self.by_last.values() for c in range(self.classes)
            }
            self.scores: dict[int, float] = {}

    def run_spk(self) -> None:
        t = self.time_step - 1
        k, phase = divmod(t, self.P)
        if k < len(self.rows) and phase < self.T:
            if self.slots[k] < 0:
                raise RuntimeError(f"window {k}: its hard negative was not drawn in time")
            self.s_out.send(np.asarray(self.inputs[self.rows[k], self.slots[k]], self.zeros.dtype))
        else:
            self.s_out.send(self.zeros)
        if self.draws:
            self._collect(t, self.g_in.recv()[0])

    def _collect(self, t: int, g) -> None:
        from ff_neuro.onchip.negatives import draw

        k, phase = divmod(t - self.draws["offset"], self.P)
        if phase != self.T - 1 or k not in self.wanted:
            return
        self.scores[k] = g
        if k in self.by_last:
            win, k0, y, key = self.by_last.pop(k)
            g_all = np.array([[self.scores.pop(k0 + c) for c in range(self.classes)]])
            self.slots[win] = draw(
                g_all, np.array([y]), np.array([key]), self.rule, self.draws["alpha"], self.fixed
            )[0]


@implements(proc=ImageSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyImageSourceFloat(_ImageSourceModel):
    """Image source (floating_pt): float64 currents."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    g_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)


@implements(proc=ImageSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyImageSourceFixed(_ImageSourceModel):
    """Image source (fixed_pt): integer currents (the profile's input bits)."""

    fixed = True
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    g_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
