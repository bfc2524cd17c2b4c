"""Training arithmetic: fp32, or bf16 autocast where the device has the hardware for it.

``train.precision`` is ``fp32``, ``bf16`` or ``auto``. ``auto`` chooses at run time and records why:

  * CUDA: bf16 (and channels_last) when ``torch.cuda.is_bf16_supported()``, else fp32;
  * CPU: real training steps of the run's own model and batch are timed in fp32 NCHW and fp32
    channels_last (the same arithmetic in another memory layout), and channels_last is kept when it
    is at least :data:`MIN_LAYOUT_GAIN` × faster (``train.channels_last`` true or false skips the
    choice). Where /proc/cpuinfo lists bf16 instructions (``amx_bf16``, ``avx512_bf16``), bf16 (NCHW
    and channels_last) is timed too and used only when it is at least :data:`MIN_GAIN` × faster than
    the chosen fp32. CPUs without bf16 hardware emulate it and lose, so it is not even timed there;
    CPUs without AMX gain less (docs/RESULTS.md).

Only training passes run under autocast: the conv layers of the FF step, the scoring of hard
negatives and the head's neutral-label features. Goodness reductions and losses are computed in
fp32 (``layer_goodness`` casts first), and every evaluation (validation, test, goodness scores, what
spiking or Lava comparisons read) runs in fp32, as do the stored weights.
"""

from __future__ import annotations

import contextlib
import copy
import time
from typing import NamedTuple

import torch

from ..runtime import cpu_bf16_flags
from .distributed import SINGLE

MIN_GAIN = 1.15  # bf16 must make the measured step this much faster than fp32 to be chosen
MIN_LAYOUT_GAIN = 1.05  # channels_last must make the fp32 step this much faster to be chosen


class Precision(NamedTuple):
    """The resolved training arithmetic: ``mode`` fp32 | bf16, the memory format, and why."""

    mode: str
    channels_last: bool
    reason: str
    timings_ms: dict[str, float] | None = None

    def autocast(self, device: torch.device):
        if self.mode == "bf16":
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def record(self) -> dict:
        return {
            "mode": self.mode,
            "channels_last": self.channels_last,
            "reason": self.reason,
            "timings_ms": self.timings_ms,
        }

    @classmethod
    def from_record(cls, rec: dict) -> Precision:
        return cls(
            str(rec["mode"]), bool(rec["channels_last"]), str(rec["reason"]), rec.get("timings_ms")
        )


FP32 = Precision("fp32", False, "fp32 (default)")


def time_step(
    model, x: torch.Tensor, y: torch.Tensor, precision: Precision, reps: int = 3
) -> float:
    """Median ms of ``reps`` training steps of a copy of ``model`` (weights and optimiser state
    copied, so the run itself is untouched) under ``precision``, after one warm-up step. The copy
    steps alone (no gradient all-reduce): under torchrun rank 0 times it while the others wait."""
    probe = copy.deepcopy(model)
    probe.dist = SINGLE
    probe.set_precision(precision)
    gen = torch.Generator().manual_seed(0)
    probe.train_step(x, y, gen)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        probe.train_step(x, y, gen)
        if x.device.type == "cuda":
            torch.cuda.synchronize(x.device)
        times.append(1000 * (time.perf_counter() - t0))
    return sorted(times)[len(times) // 2]


def resolve_precision(
    requested: str,
    model,
    batch: tuple[torch.Tensor, torch.Tensor] | None = None,
    channels_last: bool | None = None,
    flags: list[str] | None = None,
) -> Precision:
    """The :class:`Precision` a run trains with, for ``train.precision`` = ``requested``.

    ``batch`` (images, labels) is what ``auto`` times on a CPU (without it: fp32 NCHW); ``flags``
    overrides the CPU's reported instruction sets (tests)."""
    dev = model.device
    if dev.type == "cuda":
        cl = True if channels_last is None else channels_last
        if requested == "fp32":
            return Precision("fp32", cl, "fp32 (train.precision)")
        if requested == "bf16" or torch.cuda.is_bf16_supported():
            why = "train.precision bf16" if requested == "bf16" else "auto: the GPU supports bf16"
            return Precision("bf16", cl, why)
        return Precision("fp32", cl, "auto: the GPU has no bf16 support")
    cl = bool(channels_last)
    if requested == "fp32":
        return Precision("fp32", cl, "fp32 (train.precision)")
    flags = cpu_bf16_flags() if flags is None else flags
    if requested == "bf16":
        why = "train.precision bf16" + (
            f" ({', '.join(flags)})" if flags else " (this CPU has no bf16 instructions: emulated)"
        )
        return Precision("bf16", cl, why)
    no_bf16 = "this CPU has no bf16 instructions (amx_bf16, avx512_bf16)"
    if batch is None or (not flags and channels_last is not None):
        why = no_bf16 if not flags else "no batch to time bf16 on"
        return Precision("fp32", cl, f"auto: {why}")
    layouts = [False, True] if channels_last is None else [cl]
    candidates = [Precision("fp32", c, "") for c in layouts]
    if flags:
        candidates += [Precision("bf16", c, "") for c in layouts]
    timings = {_name(c): time_step(model, *batch, c) for c in candidates}
    rounded = {k: round(v, 2) for k, v in timings.items()}
    fp32 = candidates[0]
    layout = ""
    if len(layouts) == 2:
        lgain = timings["fp32"] / timings["fp32-channels_last"]
        if lgain >= MIN_LAYOUT_GAIN:
            fp32 = candidates[1]
            layout = f"; fp32 channels_last measured {lgain:.2f}x faster than NCHW"
        else:
            layout = f"; channels_last measured {lgain:.2f}x (needs {MIN_LAYOUT_GAIN}x): NCHW"
    if not flags:
        return fp32._replace(reason=f"auto: {no_bf16}{layout}", timings_ms=rounded)
    where = "AMX" if "amx_bf16" in flags else "AVX512-BF16, no AMX"
    bf16 = min((c for c in candidates if c.mode == "bf16"), key=lambda c: timings[_name(c)])
    gain = timings[_name(fp32)] / timings[_name(bf16)]
    if gain < MIN_GAIN:
        return fp32._replace(
            reason=f"auto: bf16 ({where}) measured only {gain:.2f}x faster than {_name(fp32)} "
            f"(needs {MIN_GAIN}x){layout}",
            timings_ms=rounded,
        )
    return bf16._replace(
        reason=f"auto: {_name(bf16)} measured {gain:.2f}x faster than {_name(fp32)} per step "
        f"({where}){layout}",
        timings_ms=rounded,
    )


def _name(p: Precision) -> str:
    return p.mode + ("-channels_last" if p.channels_last else "")
