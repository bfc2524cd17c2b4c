"""The conv network that learns on the simulated chip, and its window schedule.

A :class:`LearningNet` is the run's frozen leading layers (Lava parameters of its spiking spec:
``ff_neuro.hardware.quantize.LoihiLayer``, fixed point or float) followed by plastic conv layers
(:class:`PlasticConv`: geometry and rule parameters). Every plastic layer is H = C·X·Y
integrate-and-fire neurons with reset by subtraction, no leak, no bias, threshold vth (fixed point,
weights in integer units) or 1 (float, weights in threshold units): ``LIFResetSubtract`` with
du = 4095 (float: 1), dv = 0. Each plastic layer learns from its own goodness
G_l = (1/H_l) Σ_i (c_i / T)² (the local FF objective of the rate model).

Schedule: the training samples (image, label) become windows. Uniform negatives: per sample a
positive (true label, s = +1) then a negative (a uniformly drawn wrong label, s = −1). Hard
negatives: per sample C scoring windows (the image under every label, s = 0, no learning), the
positive, then the negative whose label is drawn from the scoring layer's goodness of the scoring
windows (``ff_neuro.onchip.negatives``). Inputs are stored per sample and slot: uniform
(samples, 2): [positive, negative]; hard (samples, C): one slot per label.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import conv_rule, rule
from .synapse import OBJECTIVES


class PlasticConv(NamedTuple):
    geometry: conv_rule.ConvGeometry
    params: rule.RuleParams  # hidden = the layer's neurons; vth in integer weight units

    @property
    def in_chw(self) -> tuple[int, int, int]:
        X, Y, C = self.geometry.in_shape
        return (C, Y, X)

    @property
    def out_chw(self) -> tuple[int, int, int]:
        X, Y, C = self.geometry.out_shape
        return (C, Y, X)


class LearningNet(NamedTuple):
    frozen: list  # LoihiLayer per frozen leading layer
    plastic: list[PlasticConv]
    timesteps: int
    fixed_point: bool
    objective: str = "threshold"
    hard_layer: int | None = None  # index into ``plastic`` whose goodness scores hard negatives
    hard_alpha: float = 0.0
    # the rate-coded twin only (the reference's kind "rate"): weights kept on the fixed-point
    # lattice of its rule (b bits, f low bits, stochastic rounding: ``rule.lattice_add``), a diagnosis
    # of what the chip's weight arithmetic costs apart from its spike counts
    weight_lattice: bool = False
    # the rate-coded twin only: every layer's count T·r rounded down to an integer and the next layer
    # driven by that count over T (what a constant-current IF neuron with reset by subtraction fires
    # in T steps from rest), a diagnosis of what integer spike counts cost apart from the weights
    integer_counts: bool = False

    @property
    def depth(self) -> int:
        return len(self.frozen) + len(self.plastic)

    def offset(self, i: int) -> int:
        """Pipeline offset of plastic layer i's synapse (its LIF and goodness: offset + 1)."""
        return len(self.frozen) + i

    def check(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        for pl in self.plastic:
            rule.check_params(pl.params)


class Schedule(NamedTuple):
    """Windows in order: input row (sample) and slot (−1: drawn on the chip), sign; draws:
    (D, 4) rows (negative window, first scoring window, true label, key)."""

    rows: np.ndarray
    slots: np.ndarray
    signs: np.ndarray
    draws: np.ndarray
    classes: int
    hard: bool

    @property
    def windows(self) -> int:
        return len(self.rows)

    @property
    def per_sample(self) -> int:
        return self.classes + 2 if self.hard else 2

    def window_of(self, sample: int, which: str) -> int:
        """Index of a sample's "pos" or "neg" window."""
        base = sample * self.per_sample + (self.classes if self.hard else 0)
        return base + (0 if which == "pos" else 1)


def schedule(labels: np.ndarray, classes: int, hard: bool, key0: int = 0) -> Schedule:
    """The windows of the samples with true ``labels`` (keys of the hard draws: key0 + sample)."""
    labels = np.asarray(labels, np.int64)
    n = len(labels)
    m = np.arange(n)
    if not hard:
        return Schedule(
            np.repeat(m, 2),
            np.tile([0, 1], n),
            np.tile([1, -1], n),
            np.zeros((0, 4), np.int64),
            classes,
            False,
        )
    per = classes + 2
    slots = np.concatenate(
        [np.tile(np.arange(classes), (n, 1)), labels[:, None], np.full((n, 1), -1)], 1
    )
    signs = np.tile(np.r_[np.zeros(classes, np.int64), [1, -1]], n)
    draws = np.stack([m * per + classes + 1, m * per, labels, key0 + m], 1)
    return Schedule(
        np.repeat(m, per), slots.reshape(-1), signs, draws.astype(np.int64), classes, True
    )
