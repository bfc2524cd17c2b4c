"""``FFConv``: Lava's Conv with a plastic, shared kernel under the FF three-factor rule.

The Process is Lava's ``Conv`` (same ports, Vars and arguments: weight (C_out, k_x, k_y, C_in) in
Lava's flipped layout, (X, Y, C) tensors, binary input spikes) plus ``s_post`` (the post neurons'
spikes, shape of ``a_out``) and ``e_in`` (the third factor, (1,)). Per step (t = time_step − 1):

    send a_buf                                        one step of synaptic delay, as Conv
    traces and learning at window ends                ``ff_neuro.onchip.synapse`` (offset o)
    a_buf = clamp(conv(s_in(t), W_syn))               Conv's arithmetic (``ff_neuro.lava.fast``)

At the end of window k (t = kP + o + T): x = the pre count map (X, Y, C_in), y = the post count map
(X', Y', C_out), and the kernel matrix K (``ff_neuro.onchip.conv_rule``) changes by

    fixed point:  K ← clip(K + ⌊(e_int · Σ_π p[π] ⊗ patches(x)[π] + r) / 2^k⌋)    (integer exact)
    float:        K ← K + lr · e · Σ_π p[π] ⊗ patches(x)[π]

(``conv_rule.update_fixed`` / ``update_float``; SymBa: the pair's update at its negative window).
The synapse transmits W_syn = round(K / 2^f) (f = ``frac_bits``, 0 by default) in Lava's layout.
The forward is Lava's Conv model computed by ff_neuro's im2col models (``FastConvFloat`` /
``FastConvFixed``: bit-identical to Lava's reference Conv in fixed point), which these models
extend; the kernel matrix is written into the ``weight`` Var after every update, and into a
memory-mapped .npy (marks, C_out, k_x·k_y·C_in) after the marked windows.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort
from lava.proc.conv.process import Conv

from ff_neuro.lava.fast.conv import FastConvFixed, FastConvFloat, Im2colConv, single_blas_thread
from ff_neuro.onchip import conv_rule, rule
from ff_neuro.onchip.procs.plastic import Snapshots
from ff_neuro.onchip.synapse import Learner, WindowTraces


class FFConv(Conv):
    """Plastic Conv (binary input, groups = dilation = 1) under the FF rule (``rule`` = RuleParams
    as a dict); ``offset`` o: its first pre window starts at t = o."""

    def __init__(
        self,
        *,
        weight: np.ndarray,
        input_shape: tuple[int, int, int],
        rule: dict,
        windows: int,
        period: int,
        offset: int,
        signs: np.ndarray,
        padding: int = 0,
        stride: int = 1,
        objective: str = "threshold",
        snapshot_path: str | None = None,
        snapshot_every: int = 0,
        **kwargs,
    ):
        super().__init__(
            weight=weight, input_shape=input_shape, padding=padding, stride=stride, **kwargs
        )
        extra = dict(
            rule=rule,
            windows=windows,
            period=period,
            offset=offset,
            signs=np.asarray(signs, np.int64),
            objective=objective,
            snapshot_path=snapshot_path,
            snapshot_every=snapshot_every,
        )
        for key, value in extra.items():
            self.proc_params[key] = value
        self.s_post = InPort(shape=self.output_shape)
        self.e_in = InPort(shape=(1,))


class _FFConvModel:
    """The learning half of the FFConv models (mixed into the fast Conv models)."""

    fixed = False

    def _start(self) -> None:
        p = self.proc_params
        self.p = rule.RuleParams(**p["rule"])
        w = np.asarray(self.weight)
        self.geom = conv_rule.ConvGeometry(
            tuple(self.s_in.shape),
            w.shape[0],
            tuple(w.shape[1:3]),
            int(self.stride[0]),
            int(self.padding[0]),
        )
        self.kmat = conv_rule.kernel_matrix(w).astype(np.int64 if self.fixed else np.float64)
        self.snaps = Snapshots(p["snapshot_path"], p["windows"], p["snapshot_every"])
        self.learner = Learner(p["objective"], p["signs"], self.p, self._update)
        dt = np.int64 if self.fixed else np.float64
        self.traces = WindowTraces(
            self.s_in.shape, self.a_out.shape, self.p.timesteps, p["period"], p["offset"], dt
        )

    def _conv(self) -> Im2colConv:
        if self._plan is None:
            single_blas_thread()
            k = rule.synaptic_weights(self.kmat, self.p) if self.fixed else self.kmat
            w = conv_rule.lava_weight(k, self.geom).astype(np.asarray(self.weight).dtype)
            self._plan = Im2colConv(
                self.s_in.shape, self.a_out.shape, w, self.padding, self.stride, (1, 1), 1
            )
        return self._plan

    def run_spk(self) -> None:
        if getattr(self, "learner", None) is None:
            self._start()
        self.a_out.send(self.a_buf)
        s = np.asarray(self.s_in.recv()).astype(bool)
        post = np.asarray(self.s_post.recv()).astype(bool)
        e = self.e_in.recv()
        cast = int if self.fixed else float
        self.traces.step(
            self.time_step - 1, s, post, lambda k, x, y: self._end(k, cast(e[0]), x, y)
        )
        self.a_buf = self.clamp_precision(self.convolve(s))

    def _end(self, k: int, e, x: np.ndarray, y: np.ndarray) -> None:
        self.learner.end_window(k, e, x, y)
        self.snaps.after(k, self.kmat)

    def _update(self, e, post, pre, k: int) -> None:
        p = self.p.at(k)  # the learning rate of window k (host-set steps, ``RuleParams.lr_steps``)
        if self.fixed:
            conv_rule.update_fixed(self.kmat, e.astype(np.int64), post, pre, self.geom, p, k)
        else:
            conv_rule.update_float(self.kmat, e, post, pre, self.geom, p)
        self.weight[:] = conv_rule.lava_weight(self.kmat, self.geom)
        self._plan = None


class PyFFConvFloat(_FFConvModel, FastConvFloat):
    """FFConv (floating_pt): float64 kernel in threshold units, ``conv_rule.update_float``."""

    s_post: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    e_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)


class PyFFConvFixed(_FFConvModel, FastConvFixed):
    """FFConv (fixed_pt): integer kernel of the profile's width (plus ``frac_bits`` learned low
    bits), ``conv_rule.update_fixed``; the forward is bit-identical to Lava's fixed-point Conv."""

    fixed = True
    s_post: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    e_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=8)


# Lava's @implements refuses to re-target a subclass of a model that implements Conv; the compiler
# only reads this attribute (it keeps models whose implements_process is the Process's exact type).
PyFFConvFloat.implements_process = FFConv
PyFFConvFixed.implements_process = FFConv
