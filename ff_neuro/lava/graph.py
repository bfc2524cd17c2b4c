"""A Lava process graph for a LIF conv network, many samples per run, few numbers read back.

Graph (one build per call; Lava segfaults when stopped processes are run again)::

    RingBuffer ─▶ Conv₀ ─▶ LIFReset₀ ─▶ Conv₁ ─▶ LIFReset₁ ─▶ …
                              └──▶ WindowCounter₀       └──▶ WindowCounter₁
                                   (optional) Dense readout ─▶ WindowCounter

Samples are concatenated in time with period P = T + L + 2. Sample k's input is sent at source
steps [kP, kP + T) (zeros elsewhere). Conv and Dense delay by one step, so layer l integrates
sample k during t ∈ [kP + l + 1, kP + l + 1 + T): its LIF state is reset to zero at the start of that
window (LIFReset, reset_interval = P) and its counter sums exactly that window. This reproduces a
step-by-step simulation of T steps per sample from zero state.

Conv weights are converted from torch's cross-correlation layout (C_out, C_in, kH, kW) to Lava's
true convolution in (C_out, W, H, C_in); tensors (C, H, W) become Lava's (W, H, C).
"""
from __future__ import annotations

import multiprocessing
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..hardware.export import lava_conv_layout as lava_conv_weight
from ..hardware.quantize import LoihiNet


@dataclass
class LavaResult:
    counts: list[np.ndarray] | None     # per layer (N, C, H, W) spike counts (record_counts=True)
    stats: np.ndarray                   # (N, L, 2): Σ counts and Σ counts² per layer and sample
    readout: list[np.ndarray] | None    # per readout layer (N, classes): Σ_t W_head,l · s_l(t) over the window
    steps: int
    period: int
    build_seconds: float
    run_seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def ms_per_step(self) -> float:
        return 1000.0 * self.run_seconds / max(self.steps, 1)


def to_whc(x: np.ndarray) -> np.ndarray:
    """(..., C, H, W) → (..., W, H, C)."""
    return np.swapaxes(x, -1, -3)


def readout_weight(head_weight: np.ndarray, shapes: list[tuple[int, int, int]]) -> list[np.ndarray]:
    """Split the head's columns (torch (C, H, W) flattening per readout layer, concatenated) into one
    Dense weight per readout layer, with columns permuted to Lava's flattened (W, H, C) order."""
    mats, start = [], 0
    for c, h, w in shapes:
        n = c * h * w
        block = head_weight[:, start:start + n].reshape(-1, c, h, w)
        mats.append(np.ascontiguousarray(to_whc(block).reshape(head_weight.shape[0], n)))
        start += n
    if start != head_weight.shape[1]:
        raise ValueError(f"head has {head_weight.shape[1]} inputs but the readout layers have {start} neurons")
    return mats


def _build(net: LoihiNet, data: np.ndarray, samples: int, period: int, record_dir: Path | None,
           readout: bool):
    from lava.proc.conv.process import Conv
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIFReset

    from .procs.counter import WindowCounter

    T = net.timesteps
    src = RingBuffer(data=data)
    prev, counters, procs = src.s_out, [], [src]
    lifs = []
    for i, layer in enumerate(net.layers):
        graded = i == 0 and net.graded_input
        conv = Conv(weight=lava_conv_weight(layer.weight), input_shape=to_whc_shape(layer.in_shape),
                    padding=layer.padding, stride=layer.stride, num_message_bits=24 if graded else 0)
        shape = to_whc_shape(layer.out_shape)
        lif = LIFReset(shape=shape, du=layer.du, dv=layer.dv, vth=layer.vth,
                       bias_mant=np.broadcast_to(layer.bias_mant, shape).copy(), bias_exp=layer.bias_exp,
                       reset_interval=period, reset_offset=(i + 2) % period)
        rec = str(record_dir / f"layer{i}.npy") if record_dir is not None else None
        cnt = WindowCounter(shape=shape, samples=samples, period=period, window=T, offset=i + 1, record_path=rec)
        prev.connect(conv.s_in)
        conv.a_out.connect(lif.a_in)
        lif.s_out.connect(cnt.s_in)
        prev = lif.s_out
        counters.append(cnt)
        lifs.append(lif)
        procs += [conv, lif, cnt]
    heads = []
    if readout:
        mats = readout_weight(np.asarray(net.head_weight, np.float64),
                              [net.layers[i].out_shape for i in net.readout_layers])
        for i, m in zip(net.readout_layers, mats):
            dense = Dense(weights=m, num_message_bits=0)
            cnt = WindowCounter(shape=(m.shape[0],), samples=samples, period=period, window=T, offset=i + 2,
                                keep_sums=True)
            lifs[i].s_out.flatten().connect(dense.s_in)
            dense.a_out.connect(cnt.s_in)
            heads.append(cnt)
            procs += [dense, cnt]
    return src, counters, heads


def to_whc_shape(chw: tuple[int, int, int]) -> tuple[int, int, int]:
    c, h, w = chw
    return (w, h, c)


def run_lava(net: LoihiNet, inputs: np.ndarray, record_counts: bool = True, readout: bool = False,
             chunk_steps: int | None = None, on_chunk: Callable[[int, int], None] | None = None) -> LavaResult:
    """Run ``inputs`` (N, T, C, H, W) through ``net`` on Lava's CPU simulator.

    ``net.fixed_point`` selects the ``fixed_pt`` process models (inputs are encoded by
    ``net.encode``), else ``floating_pt``. The run is split into chunks of ``chunk_steps`` (default:
    one chunk); ``on_chunk(done_steps, total_steps)`` is called after each. ``stop()`` always runs,
    also when the run or the callback raises.
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    inputs = np.asarray(inputs)
    if inputs.ndim != 5 or inputs.shape[1] != net.timesteps or tuple(inputs.shape[2:]) != tuple(net.layers[0].in_shape):
        raise ValueError(f"inputs must be (N, T={net.timesteps}, *{tuple(net.layers[0].in_shape)}), got {inputs.shape}")
    if readout and net.head_weight is None:
        raise ValueError("readout=True needs a spec with a linear head (head_weight)")
    n, T, L = inputs.shape[0], net.timesteps, len(net.layers)
    period = T + L + 2
    steps = n * period
    enc = net.encode(inputs)
    data = np.zeros((*to_whc_shape(net.layers[0].in_shape), steps), dtype=enc.dtype)
    for k in range(n):
        data[..., k * period:k * period + T] = np.moveaxis(to_whc(enc[k]), 0, -1)
    tmp = tempfile.TemporaryDirectory(prefix="ff_neuro_lava_") if record_counts else None
    rec_dir = Path(tmp.name) if tmp else None
    if rec_dir is not None:
        for i, layer in enumerate(net.layers):
            np.lib.format.open_memmap(rec_dir / f"layer{i}.npy", mode="w+", dtype=np.float32,
                                      shape=(n, layer.neurons)).flush()
    t0 = time.perf_counter()
    src, counters, heads = _build(net, data, n, period, rec_dir, readout)
    cfg = Loihi2SimCfg(select_tag="fixed_pt" if net.fixed_point else "floating_pt")
    build_s, run_s = time.perf_counter() - t0, 0.0
    try:
        chunk = chunk_steps or steps
        done = 0
        while done < steps:
            todo = min(chunk, steps - done)
            t1 = time.perf_counter()
            src.run(condition=RunSteps(num_steps=todo), run_cfg=cfg)
            run_s += time.perf_counter() - t1
            done += todo
            if on_chunk:
                on_chunk(done, steps)
        stats = np.stack([np.asarray(c.stats.get()) for c in counters], 1)
        head = [np.asarray(h.sums.get()) for h in heads] if heads else None
    finally:
        src.stop()
    counts = None
    try:
        if rec_dir is not None:
            counts = []
            for i, layer in enumerate(net.layers):
                c, h, w = layer.out_shape
                arr = np.load(rec_dir / f"layer{i}.npy")            # (N, W·H·C) in Lava order
                counts.append(np.ascontiguousarray(to_whc(arr.reshape(n, w, h, c))).astype(np.int64))
    finally:
        if tmp is not None:
            tmp.cleanup()
    return LavaResult(counts, stats, head, steps, period, build_s, run_s)


def no_lava_children() -> bool:
    """True when no multiprocessing child process of this process is alive."""
    return not multiprocessing.active_children()
