"""Accelerated ProcessModels for Lava's own processes, chosen through Lava's run configuration.

``Conv`` (``FastConvFloat`` / ``FastConvFixed``: one im2col matrix product per step instead of one
scipy ``convolve2d`` per channel pair) and ``LIFReset`` (``FastLIFResetFloat`` / ``FastLIFResetFixed``:
the same arithmetic in fewer passes). Each subclasses Lava's reference model and keeps its ports, Var
types and tags (``floating_pt``, or ``fixed_pt`` and ``bit_accurate_loihi``), adding ``fast``.

Lava's compiler looks for ProcessModels only next to the Process class, so these are selected with
the run configuration's ``exception_proc_model_map`` (Lava's own mechanism)::

    run_config(fixed_point=True)                      # fast models
    run_config(fixed_point=True, backend="reference") # Lava's reference models: Loihi2SimCfg(select_tag="fixed_pt")
"""

from __future__ import annotations

from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.conv.process import Conv
from lava.proc.lif.process import LIFReset

from .conv import FastConvFixed, FastConvFloat, Im2colConv
from .lif import FastLIFResetFixed, FastLIFResetFloat

BACKENDS = ("fast", "reference")
FAST_MODELS = {
    "floating_pt": {Conv: FastConvFloat, LIFReset: FastLIFResetFloat},
    "fixed_pt": {Conv: FastConvFixed, LIFReset: FastLIFResetFixed},
}


def run_config(
    fixed_point: bool, backend: str = "fast", extra_models: dict | None = None
) -> Loihi2SimCfg:
    """A ``Loihi2SimCfg`` selecting ``fixed_pt`` or ``floating_pt`` models; ``backend="fast"`` maps Conv and
    LIFReset onto the fast models (``extra_models`` adds or overrides entries of that map)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    tag = "fixed_pt" if fixed_point else "floating_pt"
    models = dict(FAST_MODELS[tag]) if backend == "fast" else {}
    models.update(extra_models or {})
    return Loihi2SimCfg(select_tag=tag, exception_proc_model_map=models)


__all__ = [
    "BACKENDS",
    "FAST_MODELS",
    "FastConvFixed",
    "FastConvFloat",
    "FastLIFResetFixed",
    "FastLIFResetFloat",
    "Im2colConv",
    "run_config",
]
