"""Run a netx file with lava-dl 0.6.0's own loader (``lava.lib.dl.netx.hdf5.Network``) in Lava.

Needs lava-nc and lava-dl (``make install`` adds both; lava-dl 0.6.0 declares Python < 3.11 and torch
< 2.4, so it is installed with ``--no-deps --ignore-requires-python``). :func:`import_netx` makes it
importable here:

  * ``ff_neuro.lava`` first: lava-nc's Python 3.11 fix;
  * torchvision: ``lava.lib.dl.netx`` imports lava-dl's object-detection utilities, which import
    torchvision at module level, though netx never calls them. When torchvision cannot be imported
    (not installed, or a build that does not match the installed torch), a stub module stands in; any
    use of it raises. Nothing else is patched: the network is built and run by lava-dl and Lava.

Protocol (the one of ``ff-neuro deploy``): samples are sent back to back, sample k during steps
t ∈ [kT, kT + T) (t = Lava time_step − 1). Conv delays by one step per layer, so layer l (0-based)
integrates sample k during t ∈ [kT + l + 1, kT + l + 1 + T), and all it receives then comes from sample k.
``Network(..., reset_interval=T, reset_offset=1)`` makes netx reset layer l when time_step ≡ l + 2
(mod T), the first step of that window (LIFReset resets before its update); ff_neuro's WindowCounter
sums each layer's spikes over its window. n samples take nT + L + 1 steps.

A file whose neurons are ``CUBA_SUBTRACT`` (reset by subtraction, :mod:`.netx`) is loaded inside
:func:`ff_neuro.lava.netx_subtract.netx_reset_subtract`, the explicit patch point that lets lava-dl
build them as ff_neuro's ``LIFResetSubtract``; every other file is loaded by lava-dl untouched.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import types
from pathlib import Path

import numpy as np

from .netx import INPUT_MESSAGE_BITS, SUBTRACT_TYPE


class _Stub(types.ModuleType):
    """A module whose every missing attribute raises: it satisfies ``from torchvision import ops`` only."""

    def __getattr__(self, name):
        raise AttributeError(
            f"{self.__name__} is a stub installed by ff_neuro.hardware.netx_lava "
            f"(torchvision is not importable here): {name!r} is not available"
        )


def stub_torchvision() -> bool:
    """Install a torchvision stub when torchvision cannot be imported. Returns True when stubbed."""
    try:
        import torchvision  # noqa: F401

        return isinstance(sys.modules.get("torchvision"), _Stub)
    except Exception:  # ImportError, or RuntimeError of a torchvision built for another torch
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
    root = _Stub("torchvision")
    root.__path__ = []
    for sub in ("ops", "transforms", "datasets", "io", "utils"):
        mod = _Stub(f"torchvision.{sub}")
        object.__setattr__(root, sub, mod)
        sys.modules[mod.__name__] = mod
    sys.modules["torchvision"] = root
    return True


def import_netx():
    """``lava.lib.dl.netx``, importable on this Python and torch (see the module docstring)."""
    from ..lava.compat import require_lava

    require_lava()
    stub_torchvision()
    from .clients import require

    return require("lava.lib.dl.netx", "lava")


def subtract_file(path: str | Path) -> bool:
    """True when a netx file's neurons are ff_neuro's ``CUBA_SUBTRACT`` (reset by subtraction)."""
    import h5py

    with h5py.File(path, "r") as f:
        types = {
            f["layer"][k]["neuron"]["type"][()] for k in f["layer"] if "neuron" in f["layer"][k]
        }
    return SUBTRACT_TYPE.encode() in types


def run_netx(
    path: str | Path,
    x_int: np.ndarray,
    timesteps: int,
    input_message_bits: int = INPUT_MESSAGE_BITS,
    backend: str = "reference",
) -> list[np.ndarray]:
    """Per-layer spike counts (N, C, H, W) of the integer inputs ``x_int`` (N, T, C, H, W) through the
    netx file ``path``, built by lava-dl and run in Lava (``fixed_pt``). ``backend="reference"`` runs
    Lava's own Conv/LIF models; ``"fast"`` ff_neuro's bit-exact faster ones (:mod:`ff_neuro.lava.fast`)."""
    netx = import_netx()
    import h5py
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.source import RingBuffer

    from ..lava.fast import run_config
    from ..lava.graph import to_whc
    from ..lava.netx_subtract import netx_reset_subtract
    from ..lava.procs.counter import WindowCounter

    x_int = np.asarray(x_int)
    n, T = x_int.shape[0], int(timesteps)
    if x_int.ndim != 5 or x_int.shape[1] != T:
        raise ValueError(f"inputs must be (N, T={T}, C, H, W) integers, got {x_int.shape}")
    with h5py.File(path, "r") as f:
        L = sum(f["layer"][k]["type"][()] != b"input" for k in f["layer"])
    loading = netx_reset_subtract() if subtract_file(path) else contextlib.nullcontext()
    with loading:
        net = netx.hdf5.Network(
            net_config=str(path),
            input_message_bits=input_message_bits,
            reset_interval=T,
            reset_offset=1,
        )
    enc = to_whc(x_int)  # (N, T, W, H, C)
    data = np.zeros((*enc.shape[2:], n * T + L + 1), dtype=np.int64)
    data[..., : n * T] = enc.transpose(2, 3, 4, 0, 1).reshape(*enc.shape[2:], n * T)
    src = RingBuffer(data=data)
    src.s_out.connect(net.inp)
    shapes = [tuple(layer.neuron.s_out.shape) for layer in net.layers]  # (W, H, C)
    with tempfile.TemporaryDirectory(prefix="ff_neuro_netx_") as tmp:
        paths = [str(Path(tmp) / f"layer{i}.npy") for i in range(L)]
        for p, s in zip(paths, shapes):
            np.lib.format.open_memmap(
                p, mode="w+", dtype=np.float32, shape=(n, int(np.prod(s)))
            ).flush()
        cnt = WindowCounter(
            shapes=shapes,
            offsets=[i + 1 for i in range(L)],
            samples=n,
            period=T,
            window=T,
            record_paths=paths,
        )
        for i, layer in enumerate(net.layers):
            layer.neuron.s_out.connect(cnt.port(i))
        try:
            src.run(condition=RunSteps(num_steps=data.shape[-1]), run_cfg=run_config(True, backend))
        finally:
            src.stop()
        return [
            np.ascontiguousarray(to_whc(np.load(p).reshape(n, *s))).astype(np.int64)
            for p, s in zip(paths, shapes)
        ]
