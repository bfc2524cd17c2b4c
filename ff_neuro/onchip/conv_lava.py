"""The whole conv network learning in one Lava graph (``floating_pt`` or Loihi fixed point ``fixed_pt``).

    ImageSource ─▶ Conv₀ ─▶ LIFResetSubtract₀ ─▶ FFConv₁ ─▶ LIFResetSubtract₁ ─▶ FFConv₂ ─▶ …
        ▲          (frozen)         │               ▲ ▲            │  │
        │                           │               │ └── s_post ──┘  ▼
        │                           │               └──── e ◀──── FFGoodness₁
        └──────────── g (hard negatives: the scoring layer's goodness) ◀─┘
                    WindowCounter ◀── every LIFResetSubtract (Σ c, Σ c² per window and layer)

Windows are back to back with period P = T (t = time_step − 1): the source sends window k's
labelled image at t ∈ [kP, kP + T). Every Conv delays by one step, so layer l's neurons integrate
window k at t ∈ [kP + l + 1, kP + l + 1 + T) and are reset at its first step (LIFReset with
reset_interval P, reset_offset l + 2), exactly as ff_neuro's deploy graph (``ff_neuro.lava.graph``):
each step of each layer belongs to one window, and each window runs from zero state. Plastic
layer l's FFConv (offset l) learns at t = kP + l + T, after the last post spike of window k and
before it convolves the first input of window k + 1 (``ff_neuro.onchip.synapse``), so window k + 1
sees the weights learned from window k in every layer: the sequential rule of the reference.
n windows take (n − 1)·P + L + T + 1 steps (L: the last layer's index).

The frozen layers are Lava's own ``Conv`` (run by ff_neuro's fast im2col models through
``ff_neuro.lava.fast.run_config``) and ``LIFResetSubtract``; layer 0 receives the graded input
(num_message_bits 24). Kernel snapshots and goodness records go to memory-mapped files; the counter's
stats (windows × layers × 2 values) are the only Var read back.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import conv_rule
from .conv_net import LearningNet, Schedule


class NetLearnResult(NamedTuple):
    snapshots: list[np.ndarray]  # per plastic layer (S, C_out, F) kernel matrices after ``marks``
    marks: list[int]
    records: list[np.ndarray]  # per plastic layer (windows, 2): G_int and e per window
    stats: np.ndarray  # (windows, depth, 2): Σ c and Σ c² of every layer (frozen ones too)
    steps: int
    run_seconds: float
    build_seconds: float

    @property
    def ms_per_step(self) -> float:
        return 1000.0 * self.run_seconds / max(self.steps, 1)


def steps_for(net: LearningNet, windows: int) -> int:
    return (windows - 1) * net.timesteps + net.depth - 1 + net.timesteps + 1


def run_network_learning(
    net: LearningNet,
    kmats: list[np.ndarray],
    inputs_path: str | Path,
    sched: Schedule,
    snapshot_every: int = 0,
    chunk_steps: int = 2000,
    on_chunk: Callable[[int, int], None] | None = None,
) -> NetLearnResult:
    """Learn the plastic kernels on Lava over the windows of ``sched``; ``inputs_path``: the encoded
    inputs (samples, slots, X, Y, C). Runs in chunks of ``chunk_steps`` steps (``on_chunk(done,
    total)`` after each); stop() always runs."""
    import ff_neuro.lava  # noqa: F401, I001  (first: the Python 3.11 fix of lava)
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.conv.process import Conv

    from ..lava.fast import run_config
    from ..lava.graph import lava_conv_weight, to_whc_shape
    from ..lava.procs.counter import WindowCounter
    from ..lava.procs.lif_subtract import LIFResetSubtract
    from .conv_reference import plastic_layer
    from .procs.conv import FFConv
    from .procs.goodness import FFGoodness
    from .procs.plastic import snapshot_windows
    from .procs.source import ImageSource

    net.check()
    fixed, T = net.fixed_point, net.timesteps
    P, n = T, sched.windows
    marks = snapshot_windows(n, snapshot_every)
    with tempfile.TemporaryDirectory(prefix="ff_neuro_convlearn_") as tmp:
        snap_paths = [str(Path(tmp) / f"snap{i}.npy") for i in range(len(net.plastic))]
        rec_paths = [str(Path(tmp) / f"rec{i}.npy") for i in range(len(net.plastic))]
        for sp, rp, k in zip(snap_paths, rec_paths, kmats):
            dt = np.int64 if fixed else np.float64
            np.lib.format.open_memmap(sp, "w+", dt, (len(marks), *k.shape)).flush()
            np.lib.format.open_memmap(rp, "w+", np.float64, (n, 2)).flush()
        t0 = time.perf_counter()
        draws = None
        if sched.hard:
            hp = net.plastic[net.hard_layer].params
            draws = {
                "table": sched.draws,
                "offset": net.offset(net.hard_layer) + 1,
                "rule": hp._asdict(),
                "alpha": net.hard_alpha,
            }
        in_shape = to_whc_shape(net.frozen[0].in_shape)
        src = ImageSource(
            path=str(inputs_path),
            shape=in_shape,
            rows=sched.rows,
            slots=sched.slots,
            timesteps=T,
            period=P,
            draws=draws,
        )
        prev, lifs, goods = src.s_out, [], []
        for i, la in enumerate(net.frozen):
            conv = Conv(
                weight=lava_conv_weight(la.weight),
                input_shape=to_whc_shape(la.in_shape),
                padding=la.padding,
                stride=la.stride,
                num_message_bits=24 if i == 0 else 0,
            )
            lif = _lif(la, P, i + 1, LIFResetSubtract)
            prev.connect(conv.s_in)
            conv.a_out.connect(lif.a_in)
            prev = lif.s_out
            lifs.append(lif)
        for i, (pl, k) in enumerate(zip(net.plastic, kmats)):
            o = net.offset(i)
            syn = FFConv(
                weight=conv_rule.lava_weight(k, pl.geometry).astype(
                    np.int32 if fixed else np.float64
                ),
                input_shape=pl.geometry.in_shape,
                padding=pl.geometry.padding,
                stride=pl.geometry.stride,
                rule=pl.params._asdict(),
                windows=n,
                period=P,
                offset=o,
                signs=sched.signs,
                objective=net.objective,
                snapshot_path=snap_paths[i],
                snapshot_every=snapshot_every,
            )
            lif = _lif(plastic_layer(pl, k, fixed), P, o + 1, LIFResetSubtract)
            good = FFGoodness(
                size=pl.geometry.out_shape,
                signs=sched.signs,
                rule=pl.params._asdict(),
                period=P,
                offset=o + 1,
                objective=net.objective,
                record_path=rec_paths[i],
            )
            prev.connect(syn.s_in)
            syn.a_out.connect(lif.a_in)
            lif.s_out.connect(syn.s_post)
            lif.s_out.connect(good.s_in)
            good.e_out.connect(syn.e_in)
            if sched.hard and i == net.hard_layer:
                good.g_out.connect(src.g_in)
            prev = lif.s_out
            lifs.append(lif)
            goods.append(good)
        counter = WindowCounter(
            shapes=[tuple(lif.s_out.shape) for lif in lifs],
            offsets=[i + 1 for i in range(len(lifs))],
            samples=n,
            period=P,
            window=T,
        )
        for j, lif in enumerate(lifs):
            lif.s_out.connect(counter.port(j))
        steps, run_s, build_s = steps_for(net, n), 0.0, 0.0
        try:
            src.create_runtime(run_cfg=run_config(fixed))
            build_s = time.perf_counter() - t0
            done = 0
            while done < steps:
                todo = min(chunk_steps, steps - done)
                t1 = time.perf_counter()
                src.run(condition=RunSteps(num_steps=todo))
                run_s += time.perf_counter() - t1
                done += todo
                if on_chunk:
                    on_chunk(done, steps)
            stats = np.asarray(counter.stats.get())
        finally:
            src.stop()
        snaps = [np.array(np.load(p)) for p in snap_paths]
        recs = [np.array(np.load(p)) for p in rec_paths]
    return NetLearnResult(snaps, marks, recs, stats, steps, run_s, build_s)


def _lif(la, period: int, offset: int, cls):
    """The layer's neurons, reset at the first step t = kP + offset of each window."""
    from ..lava.graph import to_whc_shape

    shape = to_whc_shape(la.out_shape)
    return cls(
        shape=shape,
        du=la.du,
        dv=la.dv,
        vth=la.vth,
        bias_mant=np.broadcast_to(np.asarray(la.bias_mant), shape).copy(),
        bias_exp=la.bias_exp,
        reset_interval=period,
        reset_offset=(offset + 1) % period,
    )
