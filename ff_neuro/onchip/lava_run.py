"""The learning graph on Lava's CPU simulator (float ``floating_pt`` or Loihi fixed point
``fixed_pt``).

    RasterSource ─s_out─▶ FFDense (plastic W) ─a_out─▶ LIFResetSubtract (H) ─s_out─┬─▶ FFGoodness
                              ▲  ▲                                                 │       │
                              │  └────────────── s_post (post spikes) ─────────────┘       │
                              └──────────────────── e_in (third factor) ◀──────────────────┘

Window k occupies steps t ∈ [kP, (k+1)P), P = T + 1: the source sends pre for φ = t − kP < T, the
post neurons integrate W·pre one step later (φ ∈ [1, T]; their state is reset at φ = 1:
LIFReset with reset_interval P, reset_offset 2), FFGoodness sends e at φ = T and FFDense updates W
in the same step. n windows take n·P steps. The neurons are ff_neuro's ``LIFResetSubtract``
(du = 4095 / 1: no current memory; dv = 0: no leak; bias 0; threshold vth, or 1 in float).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import rule


class LavaLearnResult(NamedTuple):
    snapshots: np.ndarray  # (S, H, N) weights after ``marks`` windows
    marks: list[int]
    records: np.ndarray  # (windows, 2): G_int (Σ c²) and e per window
    steps: int
    run_seconds: float
    build_seconds: float

    @property
    def ms_per_step(self) -> float:
        return 1000.0 * self.run_seconds / max(self.steps, 1)


def write_raster(path: Path, raster: np.ndarray) -> None:
    """Pack a (windows, T, N) {0, 1} raster into a .npy of bits (windows, T, ⌈N/8⌉)."""
    np.save(path, np.packbits(np.asarray(raster, dtype=np.uint8), axis=-1))


def run_learning(
    weights: np.ndarray,
    raster_path: str | Path,
    signs: np.ndarray,
    p: rule.RuleParams,
    fixed_point: bool,
    snapshot_every: int = 0,
    chunk_windows: int = 50,
    on_chunk: Callable[[int, int], None] | None = None,
    objective: str = "threshold",
) -> LavaLearnResult:
    """Learn W (H, N) on Lava from the windows of a packed raster file; ``signs`` (windows,).
    ``objective="symba"``: the windows are pairs (positive, negative), one update per pair.

    The run is split into chunks of ``chunk_windows`` windows (``on_chunk(done, total)`` after
    each); stop() always runs."""
    from lava.magma.core.run_conditions import RunSteps

    import ff_neuro.lava  # noqa: F401  (Python 3.11 fix of lava)

    from ..lava.fast import run_config
    from ..lava.procs.lif_subtract import LIFResetSubtract
    from .procs.goodness import FFGoodness
    from .procs.plastic import FFDense, snapshot_windows
    from .procs.source import RasterSource

    rule.check_params(p)
    h, n_pre = weights.shape
    windows, T = len(signs), p.timesteps
    P = T + 1
    marks = snapshot_windows(windows, snapshot_every)
    with tempfile.TemporaryDirectory(prefix="ff_neuro_learn_") as tmp:
        snap_path, rec_path = str(Path(tmp) / "snap.npy"), str(Path(tmp) / "rec.npy")
        w_dtype = np.int32 if fixed_point else np.float64
        np.lib.format.open_memmap(snap_path, "w+", w_dtype, (len(marks), h, n_pre)).flush()
        np.lib.format.open_memmap(rec_path, "w+", np.float64, (windows, 2)).flush()
        t0 = time.perf_counter()
        src = RasterSource(
            path=str(raster_path), size=n_pre, windows=windows, timesteps=T, period=P
        )
        syn = FFDense(
            weights=np.asarray(weights, w_dtype),
            rule=p._asdict(),
            windows=windows,
            period=P,
            signs=signs,
            objective=objective,
            snapshot_path=snap_path,
            snapshot_every=snapshot_every,
        )
        lif = LIFResetSubtract(
            shape=(h,),
            du=4095 if fixed_point else 1.0,
            dv=0,
            vth=p.vth if fixed_point else 1.0,
            bias_mant=np.zeros(h),
            bias_exp=0,
            reset_interval=P,
            reset_offset=2 % P,
        )
        good = FFGoodness(
            size=h,
            signs=signs,
            rule=p._asdict(),
            period=P,
            objective=objective,
            record_path=rec_path,
        )
        src.s_out.connect(syn.s_in)
        syn.a_out.connect(lif.a_in)
        lif.s_out.connect(good.s_in)
        lif.s_out.connect(syn.s_post)
        good.e_out.connect(syn.e_in)
        steps, run_s, build_s = windows * P, 0.0, 0.0
        try:
            src.create_runtime(run_cfg=run_config(fixed_point))
            build_s = time.perf_counter() - t0
            done = 0
            while done < windows:
                todo = min(chunk_windows, windows - done)
                t1 = time.perf_counter()
                src.run(condition=RunSteps(num_steps=todo * P))
                run_s += time.perf_counter() - t1
                done += todo
                if on_chunk:
                    on_chunk(done, windows)
        finally:
            src.stop()
        snaps = np.array(np.load(snap_path))
        recs = np.array(np.load(rec_path))
    return LavaLearnResult(snaps, marks, recs, steps, run_s, build_s)
