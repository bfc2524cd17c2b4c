"""Per-process timing of a Lava run, and the framework floor (the same graph with the compute removed).

``timed(model)`` subclasses a ProcessModel so that each ``run_spk`` adds to a small memory-mapped
record in ``directory`` (one file per OS process, ``<label>-<pid>.npy``)::

    [steps, cpu_s, port_cpu_s, wall_s, port_wall_s, process_cpu_first_s, process_cpu_last_s]

cpu and wall cover the whole ``run_spk`` (calling thread); the ``port_*`` parts are spent inside the
ports' recv/send (message passing, and for wall time the wait for the upstream process). Compute
CPU time per step is (cpu − port_cpu) / steps. The last two are the process's CPU time (all its
threads: Lava's port and management threads, BLAS) after its first and its latest step, so
(last − first) / steps is everything the process costs per step. The first step, where models
build their caches and buffers, is left out of every figure.

``floor(model)`` keeps the model's ports and Var types but replaces the compute by receiving every
input and sending zeros (send first for the delayed synapses, Conv and Dense, as they do).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

FIELDS = (
    "steps",
    "cpu_s",
    "port_cpu_s",
    "wall_s",
    "port_wall_s",
    "process_cpu_first_s",
    "process_cpu_last_s",
)


def _timed_call(fn, acc: np.ndarray):
    def call(*args, **kwargs):
        c0, w0 = time.thread_time(), time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            acc[0] += time.thread_time() - c0
            acc[1] += time.perf_counter() - w0

    return call


def timed(model: type, directory: str | os.PathLike, label: str) -> type:
    """A subclass of ``model`` that records its step timing under ``directory`` (see the module docstring)."""
    directory = str(directory)

    def run_spk(self) -> None:
        if getattr(self, "_rec", None) is None:
            self._rec = np.lib.format.open_memmap(
                os.path.join(directory, f"{label}-{os.getpid()}.npy"),
                mode="w+",
                dtype=np.float64,
                shape=(len(FIELDS),),
            )
            self._port_acc = np.zeros(2)
            for port in list(self.py_ports):
                for name in ("recv", "send"):
                    if hasattr(port, name):
                        setattr(port, name, _timed_call(getattr(port, name), self._port_acc))
        before = self._port_acc.copy()
        c0, w0 = time.thread_time(), time.perf_counter()
        model.run_spk(self)
        cpu, wall = time.thread_time() - c0, time.perf_counter() - w0
        port_cpu, port_wall = self._port_acc - before
        self._rec[6] = time.process_time()
        if getattr(self, "_warm", False):
            self._rec[:5] += (1.0, cpu, port_cpu, wall, port_wall)
        else:  # the first step (caches, buffers) is left out
            self._warm = True
            self._rec[5] = self._rec[6]

    return type(
        f"Timed{model.__name__}", (model,), {"run_spk": run_spk, "__module__": model.__module__}
    )


def floor(model: type, delayed: bool = False) -> type:
    """A subclass of ``model`` whose ``run_spk`` only moves messages (zeros out, inputs received)."""

    def run_spk(self) -> None:
        ins = [p for p in self.py_ports if hasattr(p, "recv") and not hasattr(p, "send")]
        outs = [p for p in self.py_ports if hasattr(p, "send") and not hasattr(p, "recv")]
        zeros = getattr(self, "_floor_zeros", None)
        if zeros is None:
            zeros = self._floor_zeros = [np.zeros(p.shape) for p in outs]
        if delayed:
            for p, z in zip(outs, zeros):
                p.send(z)
        for p in ins:
            p.recv()
        if not delayed:
            for p, z in zip(outs, zeros):
                p.send(z)

    return type(
        f"Floor{model.__name__}", (model,), {"run_spk": run_spk, "__module__": model.__module__}
    )


def read_timings(directory: str | os.PathLike) -> dict[str, dict]:
    """Per label, in ms per step summed over that label's processes: ``compute_cpu`` (run_spk outside the
    ports), ``port_cpu`` (inside recv/send) and ``process_cpu`` (the whole process, every thread)."""
    out: dict[str, dict] = {}
    for f in sorted(Path(directory).glob("*.npy")):
        steps, cpu, port_cpu, _, _, first, last = np.load(f)
        d = out.setdefault(
            f.stem.rsplit("-", 1)[0],
            {
                "processes": 0,
                "compute_cpu_ms_per_step": 0.0,
                "port_cpu_ms_per_step": 0.0,
                "process_cpu_ms_per_step": 0.0,
            },
        )
        d["processes"] += 1
        d["compute_cpu_ms_per_step"] += 1000 * (cpu - port_cpu) / max(steps, 1)
        d["port_cpu_ms_per_step"] += 1000 * port_cpu / max(steps, 1)
        d["process_cpu_ms_per_step"] += 1000 * (last - first) / max(steps, 1)
    return {
        k: {n: round(v, 4) if isinstance(v, float) else v for n, v in d.items()}
        for k, d in out.items()
    }


def children_cpu_seconds() -> float | None:
    """CPU seconds (user + system) of this process's living child processes (Lava's model and runtime-service
    processes while a graph runs); None where /proc is not available."""
    if not os.path.isdir("/proc/self"):
        return None
    me, total = os.getpid(), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == me:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")
