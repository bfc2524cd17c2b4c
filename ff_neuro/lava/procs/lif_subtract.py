"""``LIFResetSubtract``: Lava's LIFReset with reset by subtraction, as a Process with its own models.

Lava's LIF processes reset the voltage to zero after a spike. With a constant input current I that
gives the staircase rate 1/(⌊θ/I⌋ + 1), a coarse quantiser that erases the small, label-dependent
differences of current FF's goodness lives on (docs/RESULTS.md, section 0). Reset by subtraction keeps
the charge above threshold:

    floating point:  u = u·(1 − du) + a_in;  v = v·(1 − dv) + u + bias_mant;  s = v > vth;  v[s] −= vth
    fixed point:     the bit-accurate LIFReset update (``ff_neuro.lava.fast.lif``), then v[s] −= vth << 6

so the count over T steps of a constant current is ⌈T·I/θ⌉ − 1: the rate min(max(I/θ, 0), 1) quantised
uniformly (the rate model's ``relu1``). Every other rule is LIFReset's, inherited from the fast models
(the periodic reset of u and v to zero per window, the 24-bit wrap of u, the clip of v); the
subtraction cannot leave the clip range, since v > vth > 0 before it. The fixed-point update uses
only integer add/shift/compare, the operations of the bit-accurate LIF, so it stays within what a
programmable-neuron chip computes (Loihi 2's neurons are microcode-programmed, Intel Loihi 2 brief,
2021); it has not been run on Loihi 2 hardware.

The models live next to the Process, so Lava's compiler finds them by its normal search and selects
them by tag (``floating_pt`` / ``fixed_pt``), with or without ``ff_neuro.lava.fast.run_config``.
"""

from __future__ import annotations

import numpy as np
from lava.proc.lif.process import LIFReset

from ff_neuro.lava.fast.lif import FastLIFResetFixed, FastLIFResetFloat


def reset_by_subtraction(v: np.ndarray, s: np.ndarray, vth) -> None:
    """v[s] −= vth, in place."""
    np.subtract(v, vth, out=v, where=s)


class LIFResetSubtract(LIFReset):
    """LIFReset whose neurons reset by subtraction of the threshold (same ports, Vars and arguments)."""


class LIFResetSubtractFloat(FastLIFResetFloat):
    """Floating point (tags floating_pt, fast): LIFReset's update, then v[s] −= vth."""

    reset_spiked = staticmethod(reset_by_subtraction)


class LIFResetSubtractFixed(FastLIFResetFixed):
    """Fixed point (tags fixed_pt, bit_accurate_loihi, fast): LIFReset's integer update, then v[s] −= vth·2⁶."""

    reset_spiked = staticmethod(reset_by_subtraction)


# Lava's @implements refuses to re-target a subclass of a model that implements LIFReset; the compiler
# only reads this attribute (it keeps models whose implements_process is the Process's exact type).
LIFResetSubtractFloat.implements_process = LIFResetSubtract
LIFResetSubtractFixed.implements_process = LIFResetSubtract
