"""``FFDense``: a dense plastic synapse that applies the FF three-factor rule once per window.

Ports: ``s_in`` (N) pre spikes, ``s_post`` (H) the post neurons' spikes (Loihi's back-propagating
action potential), ``e_in`` (1) the third factor, ``a_out`` (H) synaptic input. Per step
(t = time_step − 1 = k·P + φ), like Lava's Dense (one step of synaptic delay):

    send a_buf;  traces and learning (``ff_neuro.onchip.synapse``, offset 0);  a_buf = W · pre(t)
    x: count of pre(t) for φ < T;  y: count of post(t) for 1 ≤ φ ≤ T
    φ = T:  W ← rule.update_{fixed,float}(W, e(t), p(y), x, epoch = k)   (t_epoch = one window)

(``objective="symba"``: at the end of each negative window, the pair's update, ``synapse.Learner``.)
The window's post spikes are those caused by pre(kP … kP+T−1) (one step later); the goodness
process sends e at φ = T, the step the last of them is counted, so W changes before the next
window's first input (P = T + 1 leaves one empty step). Snapshots of W are written to a .npy file
every ``snapshot_every`` windows and after the last (Lava's Var.get moves one value per message).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from ff_neuro.onchip import rule
from ff_neuro.onchip.synapse import Learner, WindowTraces


class FFDense(AbstractProcess):
    """Plastic dense synapse (H, N) under the FF rule (``rule`` = RuleParams as a dict)."""

    def __init__(
        self,
        *,
        weights: np.ndarray,
        rule: dict,
        windows: int,
        period: int,
        signs: np.ndarray | None = None,
        objective: str = "threshold",
        snapshot_path: str | None = None,
        snapshot_every: int = 0,
        **kwargs,
    ):
        super().__init__(
            rule=rule,
            windows=windows,
            period=period,
            signs=np.ones(windows, np.int64) if signs is None else np.asarray(signs, np.int64),
            objective=objective,
            snapshot_path=snapshot_path,
            snapshot_every=snapshot_every,
            **kwargs,
        )
        h, n = weights.shape
        self.s_in = InPort(shape=(n,))
        self.s_post = InPort(shape=(h,))
        self.e_in = InPort(shape=(1,))
        self.a_out = OutPort(shape=(h,))
        self.weights = Var(shape=(h, n), init=weights)


def snapshot_windows(windows: int, every: int) -> list[int]:
    """Window counts after which W is saved: every ``every`` windows and after the last."""
    marks = list(range(every, windows + 1, every)) if every > 0 else []
    return marks if marks and marks[-1] == windows else marks + [windows]


class Snapshots:
    """Writes the learned state into a memory-mapped (marks, …) .npy after the marked windows."""

    def __init__(self, path: str | None, windows: int, every: int):
        self.marks = snapshot_windows(windows, every)
        self.file = None if not path else np.load(path, mmap_mode="r+")

    def after(self, k: int, state: np.ndarray) -> None:
        if self.file is not None and k + 1 in self.marks:
            self.file[self.marks.index(k + 1)] = state
            self.file.flush()


class _FFDenseModel(PyLoihiProcessModel):
    fixed = False

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.p = rule.RuleParams(**p["rule"])
        self.P, self.T = p["period"], self.p.timesteps
        self.snaps = Snapshots(p["snapshot_path"], p["windows"], p["snapshot_every"])
        self.learner = Learner(p["objective"], p["signs"], self.p, self._update)
        self.traces = self.a_buf = self.w_syn = None

    def run_spk(self) -> None:
        if self.a_buf is None:
            h, n = self.weights.shape
            dt = np.int64 if self.fixed else np.float64
            self.traces = WindowTraces(n, h, self.T, self.P, 0, dt)
            self.a_buf = np.zeros(h, np.int32 if self.fixed else np.float64)
        self.a_out.send(self.a_buf)
        pre = np.asarray(self.s_in.recv()).astype(bool)
        post = np.asarray(self.s_post.recv()).astype(bool)
        e = self.e_in.recv()
        cast = int if self.fixed else float
        self.traces.step(
            self.time_step - 1, pre, post, lambda k, x, y: self._end(k, cast(e[0]), x, y)
        )
        if self.w_syn is None:
            self.w_syn = rule.synaptic_weights(self.weights, self.p) if self.fixed else self.weights
        self.a_buf = self.w_syn[:, pre].sum(1).astype(self.a_buf.dtype)

    def _end(self, k: int, e, x: np.ndarray, y: np.ndarray) -> None:
        self.learner.end_window(k, e, x, y)
        self.snaps.after(k, self.weights)

    def _update(self, e, post, pre, k: int) -> None:
        if self.fixed:
            rule.update_fixed(self.weights, e.astype(np.int64), post, pre, self.p, k)
            self.w_syn = None  # the transmitted weights are recomputed
        else:
            rule.update_float(self.weights, e, post, pre, self.p)


@implements(proc=FFDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyFFDenseFloat(_FFDenseModel):
    """FFDense (floating_pt): float64 weights in threshold units, ``rule.update_float``."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    s_post: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    e_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    weights: np.ndarray = LavaPyType(np.ndarray, float)


@implements(proc=FFDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyFFDenseFixed(_FFDenseModel):
    """FFDense (fixed_pt): integer weights of the profile's width (plus ``frac_bits`` low bits that
    only learning sees), ``rule.update_fixed``."""

    fixed = True
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    s_post: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    e_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=8)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    weights: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)  # b + frac_bits bits
