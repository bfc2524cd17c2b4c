"""Device selection, seeding and a description of the hardware for result records."""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

from .errors import FFNeuroError


class DeviceError(FFNeuroError, RuntimeError):
    """The requested device is not available (a user error: one line, exit code 2)."""


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' → CUDA when available, else CPU. Asking for CUDA without one is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise DeviceError(f"unknown device {str(device)!r}; use auto, cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            "--device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto"
        )
    return dev


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def keep_freed_memory(threshold: int = 32 * 2**20) -> bool:
    """Let glibc's malloc reuse freed blocks of up to ``threshold`` bytes instead of returning them to
    the OS at every free (its default for blocks above 128 KiB, which adapts only slowly).

    CPU training allocates and frees the same activation buffers (MBs each) every step; with the
    default each one is a fresh mmap whose pages fault in again, which cost 35–55 % of a bf16 step
    here (docs/RESULTS.md, training speed). The resident memory then stays at its peak instead of
    shrinking between steps; it does not grow. A no-op (False) where glibc is not the C library."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, threshold) == 1
        ok &= libc.mallopt(_M_TRIM_THRESHOLD, 4 * threshold) == 1
        ok &= libc.mallopt(_M_TOP_PAD, threshold) == 1
        return bool(ok)
    except (OSError, AttributeError):
        return False


BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_bf16_flags(cpuinfo: str = "/proc/cpuinfo") -> list[str]:
    """The bf16 instruction sets the CPU reports (``amx_bf16``, ``avx512_bf16``); [] when none or unknown."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [name for name in BF16_FLAGS if name in flags]
    except OSError:
        pass
    return []


def hardware_description(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    bf16 = ", ".join(cpu_bf16_flags()) or "no bf16 instructions"
    return f"{cpu}, {torch.get_num_threads()} threads ({os.cpu_count()} CPUs visible), {bf16}"


def measurement_stamp(device: torch.device | None = None) -> dict:
    """Where and when a measurement ran: hardware (CPU model and bf16 flags, or the GPU), torch,
    threads and the UTC date; benchmarks put it beside their results."""
    import datetime as dt

    return {
        "hardware": hardware_description(device or torch.device("cpu")),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
