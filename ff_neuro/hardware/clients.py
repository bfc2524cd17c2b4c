"""Run ff_neuro's exports in the third-party clients and compare their spike counts with ours.

Every runner takes the file as written and the layer-0 input ``inputs`` (N, T, C, H, W) and returns
per-layer spike counts (N, C, H, W) over the T-step window, one sample after another from rest:

  * netx → lava-dl 0.6.0 + Lava ``fixed_pt`` (:func:`~ff_neuro.hardware.netx_lava.run_netx`);
  * NIR → norse 1.1.0 through :func:`~ff_neuro.hardware.nir_graph.norse_from_nir` (``norse.torch.from_nir``;
    subtractive IF nodes step with norse's ``reset_subtract``), stepping ``module(x[t], state)`` and
    reading layer outputs from nirtorch's ``state.cache[node]``;
  * NIR → snnTorch 1.0.0 through :func:`~ff_neuro.hardware.nir_graph.snntorch_from_nir`, reset with
    ``snntorch.utils.reset`` per batch, layer outputs by forward hooks;
  * NIR → sinabs 3.1.3 ``sinabs.from_nir(graph, batch_size=B)`` on (B·T, C, H, W) input (sample-major):
    ``sinabs`` as it comes, ``sinabs-aligned`` with the three named conventions changed
    (:func:`~ff_neuro.hardware.nir_graph.sinabs_from_nir`).

Agreement = the share of (sample, neuron) pairs, over all layers, whose spike counts are identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import FFNeuroError

NIR_CLIENTS = ("norse", "snntorch", "sinabs", "sinabs-aligned")
PINS = {
    "norse": "norse==1.1.0",
    "snntorch": "snntorch==1.0.0",
    "sinabs": "sinabs==3.1.3 pbr (--no-deps)",
    "sinabs-aligned": "sinabs==3.1.3 pbr (--no-deps)",
    "lava": "lava-dl==0.6.0 (--no-deps --ignore-requires-python) and opencv-python-headless",
}


class ExportError(FFNeuroError):
    pass


def require(module: str, client: str):
    """Import ``module`` of a client, or raise a one-line :class:`ExportError` saying what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ExportError(
            f"{client} is not installed ({e}); `make install` adds it, or pip install {PINS[client]}"
        ) from None


def count_agreement(a, b) -> float:
    """Fraction of (sample, neuron) pairs, over all layers, with identical spike counts."""
    same = sum(int((np.asarray(x) == np.asarray(y)).sum()) for x, y in zip(a, b))
    return same / sum(np.asarray(x).size for x in a)


def _batches(inputs, batch: int):
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    for i in range(0, x.shape[0], batch):
        yield x[i : i + batch]


def _collect(per_batch: list[list[torch.Tensor]]) -> list[np.ndarray]:
    return [torch.cat(layer).numpy().astype(np.int64) for layer in zip(*per_batch)]


@torch.no_grad()
def run_norse(graph, inputs, batch: int = 50, shim: bool = True) -> list[np.ndarray]:
    from .nir_graph import lif_node_names, norse_from_nir

    require("norse.torch", "norse")
    names, out = lif_node_names(graph), []
    model = norse_from_nir(graph, shim)
    for x in _batches(inputs, batch):
        state, acc = None, [0] * len(names)
        for t in range(x.shape[1]):
            _, state = model(x[:, t], state)
            acc = [a + state.cache[n] for a, n in zip(acc, names)]
        out.append(acc)
    return _collect(out)


def _hooked(model, names):
    seen = {}
    for n in names:
        getattr(model, n).register_forward_hook(
            lambda m, i, o, n=n: seen.__setitem__(n, o[0] if isinstance(o, tuple) else o)
        )
    return seen


@torch.no_grad()
def run_snntorch(graph, inputs, batch: int = 50, subtract=None) -> list[np.ndarray]:
    from .nir_graph import lif_node_names, snntorch_from_nir

    utils = require("snntorch.utils", "snntorch")
    names, out = lif_node_names(graph), []
    model = snntorch_from_nir(graph, subtract=subtract)
    seen = _hooked(model, names)
    for x in _batches(inputs, batch):
        utils.reset(model)
        acc = [0] * len(names)
        for t in range(x.shape[1]):
            model(x[:, t])
            acc = [a + seen[n] for a, n in zip(acc, names)]
        out.append(acc)
    return _collect(out)


@torch.no_grad()
def run_sinabs(graph, inputs, batch: int = 50, aligned=False) -> list[np.ndarray]:
    from .nir_graph import lif_node_names, sinabs_from_nir

    require("sinabs", "sinabs")
    names, out = lif_node_names(graph), []
    for x in _batches(inputs, batch):
        b, T = x.shape[:2]
        model = sinabs_from_nir(graph, b, aligned)
        seen = _hooked(model, names)
        model(x.reshape(b * T, *x.shape[2:]))
        out.append([seen[n].reshape(b, T, *seen[n].shape[1:]).sum(1) for n in names])
    return _collect(out)


RUNNERS = {
    "norse": run_norse,
    "snntorch": run_snntorch,
    "sinabs": run_sinabs,
    "sinabs-aligned": lambda graph, inputs: run_sinabs(graph, inputs, aligned=True),
}


def run_nir_client(client: str, path: str | Path, inputs) -> list[np.ndarray]:
    """Per-layer counts of ``inputs`` through the NIR file ``path`` in ``client`` (:data:`NIR_CLIENTS`)."""
    import nir

    if client not in RUNNERS:
        raise ExportError(f"unknown NIR client {client!r}; choose one of {list(NIR_CLIENTS)}")
    return RUNNERS[client](nir.read(str(path)), inputs)
