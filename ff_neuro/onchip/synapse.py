"""The learning engine of a plastic synapse, shared by the dense and the conv ProcessModels (numpy).

Timing in a Lava graph (t = time_step − 1, windows of T steps with period P ≥ T): the synapse's
pre spikes of window k arrive at t ∈ [kP + o, kP + o + T) (o: the synapse's offset in the
pipeline), the post neurons integrate them one step later (Lava's synaptic delay), so their spikes
of window k arrive back at t ∈ [kP + o + 1, kP + o + T + 1), and the goodness process sends the
window's third factor e at the last of those steps, t = kP + o + T. At that step, in this order:

    y += post(t)                       post trace: count, no decay (y reset at the window's start)
    learn(window k, e, x, y)           the objective's update, see :class:`Learner`
    x += pre(t) (x reset first when t starts a pre window)

then the synapse computes its output from pre(t) with the new weights. With P = T (the pipelined
conv graph) t is also the first pre step of window k + 1, which therefore already sees the new
weights; with P = T + 1 (the dense graph) it is an empty step.

Objectives (``signs[k]``: +1 positive, −1 negative, 0 a scoring window that never learns):

    threshold:  ΔW ∝ e · p ⊗ x at every positive or negative window (e = s·σ(−s·α·(G − θ)))
    symba:      windows come in pairs (positive, then its negative); the positive window's traces
                are kept, and at the negative window's end, with E = σ(−α·(G⁺ − G⁻)) from the
                goodness process, ΔW ∝ E · (p⁺ ⊗ x⁺ − p⁻ ⊗ x⁻): one update, one rounding per pair

p = c·[c < T − m] (m: the saturation margin, 0 by default), or c without the gate
(``rule.post_factor``); the update function is the dense or the conv rule.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import rule

OBJECTIVES = ("threshold", "symba")


class Learner:
    """Applies the objective at the end of each window; ``update(e, post, pre, epoch)`` takes
    batched rows (e (B,), post factors (B, …), pre counts (B, …)) and changes the weights."""

    def __init__(
        self, objective: str, signs: np.ndarray, params: rule.RuleParams, update: Callable
    ):
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        self.objective, self.signs, self.p, self.update = objective, signs, params, update
        self.kept = None  # symba: (x⁺, p⁺) of the pair's positive window

    def end_window(self, k: int, e, x: np.ndarray, y: np.ndarray) -> None:
        if k >= len(self.signs) or self.signs[k] == 0:
            return
        p_post = rule.post_of(y, self.p)
        if self.objective == "threshold":
            self.update(np.array([e]), p_post[None], x[None], k)
        elif self.signs[k] > 0:
            self.kept = (x.copy(), p_post.copy())
        else:
            x_pos, p_pos = self.kept
            self.update(np.array([e, -e]), np.stack([p_pos, p_post]), np.stack([x_pos, x]), k)
            self.kept = None


class WindowTraces:
    """Pre trace x (count over the pre window) and post trace y (count over the post window) of a
    synapse at pipeline offset ``offset``, and the call of ``learn(k, x, y)`` at each window's end
    (the module docstring's order)."""

    def __init__(self, pre_shape, post_shape, timesteps: int, period: int, offset: int, dtype):
        self.x = np.zeros(pre_shape, np.int64)
        self.y = np.zeros(post_shape, dtype)
        self.T, self.P, self.o = timesteps, period, offset

    def step(self, t: int, pre: np.ndarray, post: np.ndarray, learn: Callable) -> None:
        k_post, ph_post = divmod(t - self.o - 1, self.P)
        if k_post >= 0 and ph_post < self.T:
            if ph_post == 0:
                self.y[...] = 0
            self.y += post
            if ph_post == self.T - 1:
                learn(k_post, self.x, self.y)
        k_pre, ph_pre = divmod(t - self.o, self.P)
        if k_pre >= 0 and ph_pre < self.T:
            if ph_pre == 0:
                self.x[...] = 0
            self.x += pre
