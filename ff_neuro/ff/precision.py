"""Training arithmetic: fp32, or bf16 autocast where the device has the hardware for it.

``train.precision`` is ``fp32``, ``bf16`` or ``auto``. ``auto`` chooses at run time and records why:

  * CUDA: bf16 (and channels_last) when ``torch.cuda.is_bf16_supported()``, else fp32;
  * CPU: fp32 unless /proc/cpuinfo lists bf16 instructions (``amx_bf16``, ``avx512_bf16``); with
    them, one real training step of the run's own model and batch is timed in fp32, bf16 (NCHW)
    and bf16 channels_last, and bf16 is used only when it is at least :data:`MIN_GAIN` × faster.
    CPUs without bf16 hardware emulate it and lose; CPUs without AMX gain less (docs/RESULTS.md).

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

MIN_GAIN = 1.15  # bf16 must make the measured step this much faster to be chosen


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
    copied, so the run itself is untouched) under ``precision``, after one warm-up step."""
    probe = copy.deepcopy(model)
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

    ``batch`` (images, labels) is what ``auto`` times on a CPU with bf16 instructions; ``flags``
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
    if not flags:
        return Precision(
            "fp32", cl, "auto: this CPU has no bf16 instructions (amx_bf16, avx512_bf16)"
        )
    if batch is None:
        return Precision("fp32", cl, "auto: no batch to time bf16 on")
    candidates = [Precision("fp32", False, ""), Precision("bf16", False, "")]
    if channels_last is not False:
        candidates.append(Precision("bf16", True, ""))
    if channels_last:
        candidates = [c._replace(channels_last=True) for c in candidates]
    timings = {
        f"{c.mode}{'-channels_last' if c.channels_last else ''}": time_step(model, *batch, c)
        for c in candidates
    }
    names = list(timings)
    best = min(range(len(names)), key=lambda i: timings[names[i]])
    gain = timings[names[0]] / timings[names[best]]
    where = "AMX" if "amx_bf16" in flags else "AVX512-BF16, no AMX"
    rounded = {k: round(v, 2) for k, v in timings.items()}
    if best == 0 or gain < MIN_GAIN:
        return Precision(
            "fp32",
            candidates[0].channels_last,
            f"auto: bf16 ({where}) measured only {gain:.2f}x faster than fp32 (needs {MIN_GAIN}x)",
            rounded,
        )
    chosen = candidates[best]
    return chosen._replace(
        reason=f"auto: {names[best]} measured {gain:.2f}x faster than fp32 per step ({where})",
        timings_ms=rounded,
    )
