"""The LIF neuron of Lava (du = 1) as a pure step function and a scan over time.

Per step, in the order of snnTorch ``Leaky(beta, threshold, reset_mechanism="zero")`` and of Lava's
LIF (``dv = 1 − beta``, ``vth = threshold``, bias folded into the input current):

    v[t] = beta · (1 − s[t−1]) · v[t−1] + I[t]        (reset "zero": to zero after a spike)
    v[t] = beta · (v[t−1] − θ · s[t−1]) + I[t]         (reset "subtract": by the threshold θ)
    s[t] = H(v[t] − θ)                                  (strict: v = θ does not fire)

Reset to zero is Lava's LIF; reset by subtraction is snnTorch's default (``reset_mechanism="subtract"``)
and ``ff_neuro.lava.procs.lif_subtract`` in Lava. Subtraction keeps the charge above threshold, so
with constant current I (β = 1) the count over T steps is ⌈T·I/θ⌉ − 1 ≈ T·I/θ: a uniform quantiser of
the rate, where reset to zero gives the staircase 1/(⌊θ/I⌋ + 1) (docs/RESULTS.md, section 0).

``H`` is the Heaviside step in the forward pass; in training a surrogate gradient (snnTorch's
``fast_sigmoid``) replaces its derivative. The reset is detached, as in snnTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from .errors import TimestepsError

RESETS = ("zero", "subtract")


class LIFParams(NamedTuple):
    beta: float = 1.0  # membrane decay per step (Lava dv = 1 − beta)
    threshold: float = 1.0  # strict threshold (Lava vth)
    reset: str = "zero"  # after a spike: "zero" (Lava's LIF) | "subtract" (v ← v − threshold)


class LIFState(NamedTuple):
    v: torch.Tensor  # membrane potential, after the reset of the previous step
    s: torch.Tensor  # spikes of the previous step


SpikeFn = Callable[[torch.Tensor], torch.Tensor]


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """Strict step: 1 where x > 0."""
    return (x > 0).to(x.dtype)


def lif_init(like: torch.Tensor) -> LIFState:
    """The resting state (v = 0, no spike) for inputs shaped like ``like``."""
    z = torch.zeros_like(like)
    return LIFState(z, z)


def lif_step(
    state: LIFState, current: torch.Tensor, p: LIFParams, spike_fn: SpikeFn = heaviside
) -> tuple[torch.Tensor, LIFState]:
    """One step: (spikes, new state). Pure; the same float operations as ``snn.Leaky``."""
    if p.reset == "subtract":
        v = (
            state.v - p.threshold * state.s.detach()
        )  # reset by subtraction where the last step spiked
    else:
        v = (1 - state.s.detach()) * state.v  # reset to zero where the last step spiked
    v = p.beta * v + current
    s = spike_fn(v - p.threshold)
    return s, LIFState(v, s)


def lif_scan(currents: torch.Tensor, p: LIFParams, spike_fn: SpikeFn = heaviside) -> torch.Tensor:
    """Spike trains (T, ...) of neurons driven by ``currents`` (T, ...), starting at rest."""
    if currents.shape[0] < 1:
        raise TimestepsError("a simulation needs at least 1 time step; pass T >= 1")
    if spike_fn is heaviside and not (torch.is_grad_enabled() and currents.requires_grad):
        return lif_scan_inference(currents, p)
    state = lif_init(currents[0])
    out = []
    for t in range(currents.shape[0]):
        s, state = lif_step(state, currents[t], p, spike_fn)
        out.append(s)
    return torch.stack(out)


@torch.no_grad()
def lif_scan_inference(currents: torch.Tensor, p: LIFParams) -> torch.Tensor:
    """:func:`lif_scan` without autograd: in-place updates, bitwise the same spikes.

    Per step: v ← 0 where the last step spiked (masked_fill, = (1 − s)·v; reset "subtract": v ← v − θ·s),
    v ← beta·v (skipped for beta = 1, where it is the identity), v ← v + I[t], s[t] = v > threshold.
    """
    spikes = torch.empty(currents.shape, dtype=torch.bool, device=currents.device)
    v = torch.zeros(currents.shape[1:], dtype=currents.dtype, device=currents.device)
    for t in range(currents.shape[0]):
        if t and p.reset == "subtract":
            v.sub_(spikes[t - 1].to(v.dtype), alpha=p.threshold)
        elif t:
            v.masked_fill_(spikes[t - 1], 0.0)
        if p.beta != 1.0:
            v.mul_(p.beta)
        v.add_(currents[t])
        torch.gt(v, p.threshold, out=spikes[t])
    return spikes.to(currents.dtype)
