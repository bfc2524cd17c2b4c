"""``FFDense``: a dense plastic synapse that applies the FF three-factor rule once per window.

Ports: ``s_in`` (N) pre spikes, ``s_post`` (H) the post neurons' spikes (Loihi's back-propagating
action potential), ``e_in`` (1) the third factor, ``a_out`` (H) synaptic input. Per step
(t = time_step − 1 = k·P + φ), like Lava's Dense (one step of synaptic delay):

    send a_buf;  a_buf = W · pre(t);  x += pre(t) for φ < T        (pre trace: count, no decay)
    y += post(t) for 1 ≤ φ ≤ T                                     (post trace: count, no decay)
    φ = T:  W ← rule.update_{fixed,float}(W, e(t), p(y), x, epoch = k)   (t_epoch = one window)

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


class FFDense(AbstractProcess):
    """Plastic dense synapse (H, N) under the FF rule (``rule`` = RuleParams as a dict)."""

    def __init__(
        self,
        *,
        weights: np.ndarray,
        rule: dict,
        windows: int,
        period: int,
        snapshot_path: str | None = None,
        snapshot_every: int = 0,
        **kwargs,
    ):
        super().__init__(
            rule=rule,
            windows=windows,
            period=period,
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


class _FFDenseModel(PyLoihiProcessModel):
    fixed = False

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self.p = rule.RuleParams(**p["rule"])
        self.windows, self.P, self.T = p["windows"], p["period"], self.p.timesteps
        self.marks = snapshot_windows(self.windows, p["snapshot_every"])
        self.snap = None if not p["snapshot_path"] else np.load(p["snapshot_path"], mmap_mode="r+")
        self.lut = rule.sigmoid_lut(self.p)
        self.x = self.y = self.a_buf = self.w_syn = None

    def run_spk(self) -> None:
        if self.a_buf is None:
            h, n = self.weights.shape
            dt = np.int64 if self.fixed else np.float64
            self.x, self.y = np.zeros(n, np.int64), np.zeros(h, dt)
            self.a_buf = np.zeros(h, np.int32 if self.fixed else np.float64)
        self.a_out.send(self.a_buf)
        pre = np.asarray(self.s_in.recv()).astype(bool)
        k, phase = divmod(self.time_step - 1, self.P)
        if self.w_syn is None:
            self.w_syn = rule.synaptic_weights(self.weights, self.p) if self.fixed else self.weights
        self.a_buf = self.w_syn[:, pre].sum(1).astype(self.a_buf.dtype)
        if phase == 0:
            self.x[:] = 0
        if phase < self.T:
            self.x += pre
        post = self.s_post.recv()
        if phase == 1:
            self.y[:] = 0
        if 1 <= phase <= self.T:
            self.y += np.asarray(post).astype(bool)
        e = self.e_in.recv()
        if phase == self.T and k < self.windows:
            self.learn(float(e[0]), k)

    def learn(self, e: float, k: int) -> None:
        post = rule.post_factor(self.y, self.T)[None]
        if self.fixed:
            rule.update_fixed(self.weights, np.array([int(e)]), post, self.x[None], self.p, k)
            self.w_syn = None  # the transmitted weights are recomputed
        else:
            rule.update_float(self.weights, np.array([e]), post, self.x[None], self.p)
        if self.snap is not None and k + 1 in self.marks:
            self.snap[self.marks.index(k + 1)] = self.weights
            self.snap.flush()


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
