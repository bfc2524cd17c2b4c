"""A Lava process graph for a LIF conv network, many samples per run, few numbers read back.

Graph (one build per call; Lava segfaults when stopped processes are run again)::

    RingBuffer ─▶ Conv₀ ─▶ LIFReset₀ ─▶ Conv₁ ─▶ LIFReset₁ ─▶ …
                              │  └─▶ Dense readout (float) ─┐    │
                              ▼                              ▼    ▼
                  WindowCounter: one process, one input port per counted output

Samples are concatenated in time back to back, with period P = T: sample k's input is sent at
source steps t ∈ [kP, kP + T). Conv and Dense delay by one step, so layer l integrates sample k
during t ∈ [kP + l + 1, kP + l + 1 + T), and everything it receives then comes from sample k: its LIF
state is reset to zero at the first step of that window (LIFReset, reset_interval = P, the reset
precedes the update) and its counter sums exactly that window. This reproduces a step-by-step
simulation of T steps per sample from zero state; the pipeline needs L + 1 extra steps at the end
(the Dense readout of the last layer ends at t = nT + L), so n samples take nT + L + 1 steps.

Conv weights are converted from torch's cross-correlation layout (C_out, C_in, kH, kW) to Lava's
true convolution in (C_out, W, H, C_in); tensors (C, H, W) become Lava's (W, H, C).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..hardware.export import lava_conv_layout as lava_conv_weight
from ..hardware.quantize import LoihiNet


@dataclass
class LavaResult:
    counts: list[np.ndarray] | None  # per layer (N, C, H, W) spike counts (record_counts=True)
    stats: np.ndarray  # (N, L, 2): Σ counts and Σ counts² per layer and sample
    readout: (
        list[np.ndarray] | None
    )  # per readout layer (N, classes): Σ_t W_head,l · s_l(t) over the window
    steps: int
    period: int
    build_seconds: float
    run_seconds: float
    backend: str = "fast"  # the ProcessModels that ran it: "fast" or "reference"

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
        block = head_weight[:, start : start + n].reshape(-1, c, h, w)
        mats.append(np.ascontiguousarray(to_whc(block).reshape(head_weight.shape[0], n)))
        start += n
    if start != head_weight.shape[1]:
        raise ValueError(
            f"head has {head_weight.shape[1]} inputs but the readout layers have {start} neurons"
        )
    return mats


def _build(
    net: LoihiNet,
    data: np.ndarray,
    samples: int,
    period: int,
    record_dir: Path | None,
    readout: bool,
):
    """Source, Conv + LIFReset per layer, Dense readouts; every output counted by WindowCounters (as few
    processes as their port limit allows). Returns the source, the counters and, per counted output in
    order (layers, then readouts), (counter index, input index, number of values, keep_sums)."""
    from lava.proc.conv.process import Conv
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIFReset

    from .procs.counter import MAX_INPUTS, WindowCounter
    from .procs.lif_subtract import LIFResetSubtract

    T = net.timesteps
    src = RingBuffer(data=data)
    prev, lifs, counted = (
        src.s_out,
        [],
        [],
    )  # counted: (port, shape, offset, keep_sums, record path)
    for i, layer in enumerate(net.layers):
        graded = i == 0 and net.graded_input
        conv = Conv(
            weight=lava_conv_weight(layer.weight),
            input_shape=to_whc_shape(layer.in_shape),
            padding=layer.padding,
            stride=layer.stride,
            num_message_bits=24 if graded else 0,
        )
        shape = to_whc_shape(layer.out_shape)
        neuron = LIFResetSubtract if layer.reset == "subtract" else LIFReset
        lif = neuron(
            shape=shape,
            du=layer.du,
            dv=layer.dv,
            vth=layer.vth,
            bias_mant=np.broadcast_to(layer.bias_mant, shape).copy(),
            bias_exp=layer.bias_exp,
            reset_interval=period,
            reset_offset=(i + 2) % period,
        )
        prev.connect(conv.s_in)
        conv.a_out.connect(lif.a_in)
        prev = lif.s_out
        lifs.append(lif)
        counted.append(
            (
                lif.s_out,
                shape,
                i + 1,
                False,
                str(record_dir / f"layer{i}.npy") if record_dir is not None else None,
            )
        )
    if readout:
        mats = readout_weight(
            np.asarray(net.head_weight, np.float64),
            [net.layers[i].out_shape for i in net.readout_layers],
        )
        for i, m in zip(net.readout_layers, mats):
            dense = Dense(weights=m, num_message_bits=0)
            lifs[i].s_out.flatten().connect(dense.s_in)
            counted.append((dense.a_out, (m.shape[0],), i + 2, True, None))
    counters, entries = [], []
    for g in range(0, len(counted), MAX_INPUTS):
        group = counted[g : g + MAX_INPUTS]
        cnt = WindowCounter(
            shapes=[c[1] for c in group],
            offsets=[c[2] for c in group],
            samples=samples,
            period=period,
            window=T,
            keep_sums=[c[3] for c in group],
            record_paths=[c[4] for c in group],
        )
        for j, (port, shape, _, keep, _) in enumerate(group):
            port.connect(cnt.port(j))
            entries.append((len(counters), j, int(np.prod(shape)), keep))
        counters.append(cnt)
    return src, counters, entries


def _read_counters(counters, entries, layers: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """(N, L, 2) per-layer stats and the readouts' window sums, read from the counters' Vars."""
    stats = [np.asarray(c.stats.get()) for c in counters]
    sums = [
        np.asarray(c.sums.get()) if any(e[3] for e in entries if e[0] == k) else None
        for k, c in enumerate(counters)
    ]
    col = [0] * len(counters)
    layer_stats, heads = [], []
    for n, (k, j, size, keep) in enumerate(entries):
        if n < layers:
            layer_stats.append(stats[k][:, j])
        if keep:
            heads.append(sums[k][:, col[k] : col[k] + size])
            col[k] += size
    return np.stack(layer_stats, 1), heads


def to_whc_shape(chw: tuple[int, int, int]) -> tuple[int, int, int]:
    c, h, w = chw
    return (w, h, c)


def run_lava(
    net: LoihiNet,
    inputs: np.ndarray,
    record_counts: bool = True,
    readout: bool = False,
    chunk_steps: int | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
    backend: str = "fast",
    extra_models: dict | None = None,
) -> LavaResult:
    """Run ``inputs`` (N, T, C, H, W) through ``net`` on Lava's CPU simulator.

    ``net.fixed_point`` selects the ``fixed_pt`` process models (inputs are encoded by
    ``net.encode``), else ``floating_pt``. ``backend="fast"`` runs Conv and LIFReset with the models of
    :mod:`ff_neuro.lava.fast`, ``"reference"`` with Lava's own; ``extra_models`` ({Process class:
    ProcessModel}) overrides the selection further. The run is split into chunks of ``chunk_steps``
    (default: one chunk); ``on_chunk(done_steps, total_steps)`` is called after each. ``stop()`` always
    runs, also when the run or the callback raises.
    """
    from .fast import run_config

    inputs = np.asarray(inputs)
    if (
        inputs.ndim != 5
        or inputs.shape[1] != net.timesteps
        or tuple(inputs.shape[2:]) != tuple(net.layers[0].in_shape)
    ):
        raise ValueError(
            f"inputs must be (N, T={net.timesteps}, *{tuple(net.layers[0].in_shape)}), got {inputs.shape}"
        )
    if readout and net.head_weight is None:
        raise ValueError("readout=True needs a spec with a linear head (head_weight)")
    n, T, L = inputs.shape[0], net.timesteps, len(net.layers)
    period = T
    steps = n * period + L + 1
    enc = to_whc(net.encode(inputs))  # (N, T, W, H, C)
    data = np.zeros((*enc.shape[2:], steps), dtype=enc.dtype)
    data[..., : n * T] = enc.transpose(2, 3, 4, 0, 1).reshape(*enc.shape[2:], n * T)
    tmp = tempfile.TemporaryDirectory(prefix="ff_neuro_lava_") if record_counts else None
    try:
        return _run(
            net,
            data,
            n,
            period,
            Path(tmp.name) if tmp else None,
            readout,
            chunk_steps,
            on_chunk,
            run_config(net.fixed_point, backend, extra_models),
            backend,
        )
    finally:
        if tmp is not None:
            tmp.cleanup()


def _run(net, data, n, period, rec_dir, readout, chunk_steps, on_chunk, cfg, backend) -> LavaResult:
    from lava.magma.core.run_conditions import RunSteps

    steps = data.shape[-1]
    if rec_dir is not None:
        for i, layer in enumerate(net.layers):
            np.lib.format.open_memmap(
                rec_dir / f"layer{i}.npy", mode="w+", dtype=np.float32, shape=(n, layer.neurons)
            ).flush()
    t0 = time.perf_counter()
    src, counters, entries = _build(net, data, n, period, rec_dir, readout)
    build_s = run_s = 0.0
    try:
        src.create_runtime(run_cfg=cfg)  # compile, start the processes (not part of ms/step)
        build_s = time.perf_counter() - t0
        chunk = chunk_steps or steps
        done = 0
        while done < steps:
            todo = min(chunk, steps - done)
            t1 = time.perf_counter()
            src.run(condition=RunSteps(num_steps=todo))
            run_s += time.perf_counter() - t1
            done += todo
            if on_chunk:
                on_chunk(done, steps)
        stats, head = _read_counters(counters, entries, len(net.layers))
    finally:
        src.stop()
    counts = None
    if rec_dir is not None:
        counts = []
        for i, layer in enumerate(net.layers):
            c, h, w = layer.out_shape
            arr = np.load(rec_dir / f"layer{i}.npy")  # (N, W·H·C) in Lava order
            counts.append(np.ascontiguousarray(to_whc(arr.reshape(n, w, h, c))).astype(np.int64))
    return LavaResult(counts, stats, head or None, steps, period, build_s, run_s, backend)
