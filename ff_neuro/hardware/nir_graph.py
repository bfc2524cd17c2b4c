"""NIR export of a spiking spec, and the one shim snnTorch 1.0's importer needs.

Graph: ``input → conv0 → lif0 → conv1 → lif1 → … → output`` with ``nir.Conv2d`` (torch layout,
bias = the constant input current per step) and, per layer, for the time step dt = 1 (metadata ``dt``):

  * β = 1: ``nir.IF(r = 1, v_threshold = θ, v_reset = 0)``: v ← v + I;
  * β < 1: ``nir.LIF(tau = 1/(1 − β), r = tau, v_leak = 0, v_threshold = θ, v_reset = 0)``, whose Euler
    step v ← (1 − dt/τ)·v + (dt/τ)·r·I is exactly v ← β·v + I.

Our neuron spikes when v > θ (strict) and resets v to 0, one spike per step at most. NIR's IF and LIF
say "v > v_threshold, then v = v_reset", so they carry it exactly. What the clients do with it:

  * norse 1.1.0 ``norse.torch.from_nir(graph)``: IF → ``IAFCell`` (v ← v + I, v > θ, reset to v_reset):
    exact. LIF: norse ignores r (it warns), so β < 1 graphs are not exact there.
  * snnTorch 1.0.0 ``snntorch.import_nir.import_from_nir``: builds IF as ``Leaky(beta=0.9,
    init_hidden=False)`` with subtract reset (the next conv then receives a tuple and fails), and
    LIF with a hard-coded dt = 1e-4. :func:`snntorch_from_nir` is the documented call: snnTorch's own
    converter for every node except IF/LIF, which become ``snn.Leaky(beta = 1 − dt/τ (1 for IF),
    threshold = θ/(r·dt/τ) (θ·r for IF), reset_mechanism="zero", init_hidden=True, reset_delay=False)``
    with the graph's dt. Reset the hidden state between samples: ``snntorch.utils.reset(module)``.
  * sinabs 3.1.3 ``sinabs.from_nir(graph, batch_size=N)``: IF → ``IAFSqueeze`` with sinabs' defaults:
    several spikes per step (⌊v/θ⌋), subtract reset, v ≥ θ, v floored at −θ. Not our neuron.

The label overlay, the input encoding and the linear head (RMS-normalised window rates) are not NIR
nodes: the export writes them into ``manifest.json`` / ``manifest.npz`` beside the graph.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def spec_to_nir(spec):
    import nir

    nodes, edges = (
        {"input": nir.Input(input_type={"input": np.asarray(spec.layers[0].in_shape)})},
        [],
    )
    prev = "input"
    for i, layer in enumerate(spec.layers):
        w = np.asarray(layer.weight, np.float32)
        nodes[f"conv{i}"] = nir.Conv2d(
            input_shape=tuple(layer.in_shape[1:]),
            weight=w,
            stride=int(layer.stride),
            padding=int(layer.padding),
            dilation=1,
            groups=1,
            bias=np.asarray(layer.bias, np.float32),
        )
        shape = tuple(layer.out_shape)
        thr = np.full(shape, float(layer.threshold), np.float32)
        zero = np.zeros(shape, np.float32)
        beta = float(layer.beta)
        if beta >= 1.0:
            nodes[f"lif{i}"] = nir.IF(r=np.ones(shape, np.float32), v_threshold=thr, v_reset=zero)
        else:
            tau = np.full(shape, 1.0 / (1.0 - beta), np.float32)
            nodes[f"lif{i}"] = nir.LIF(
                tau=tau, r=tau.copy(), v_leak=zero, v_threshold=thr, v_reset=zero
            )
        edges += [(prev, f"conv{i}"), (f"conv{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["output"] = nir.Output(output_type={"output": np.asarray(spec.layers[-1].out_shape)})
    edges.append((prev, "output"))
    meta = {
        "dt": 1.0,
        "timesteps": int(spec.timesteps),
        "encoding": spec.encoding,
        "reset": "zero (v_reset = 0)",
        "threshold": "strict (v > v_threshold)",
        "manifest": "manifest.json",
        "not_carried": "label overlay (Fourier labels), input encoding, RMS-normalised linear head: see manifest",
    }
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def write_nir(spec, path: str | Path) -> Path:
    """Write the NIR graph of ``spec`` to ``path`` (atomically)."""
    import nir

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    nir.write(str(tmp), spec_to_nir(spec))
    tmp.replace(path)
    return path


def lif_node_names(graph) -> list[str]:
    """Names of the IF/LIF nodes in the order of the graph's edges from ``input``."""
    import nir

    nxt, names, node = dict(graph.edges), [], "input"
    while node in nxt:
        node = nxt[node]
        if isinstance(graph.nodes[node], (nir.IF, nir.LIF)):
            names.append(node)
    return names


def _single(x, what: str) -> float:
    vals = np.unique(np.asarray(x))
    if vals.size != 1:
        raise ValueError(f"snnTorch's Leaky needs one {what} per layer, the graph has {vals.size}")
    return float(vals[0])


def snntorch_from_nir(graph, dt: float | None = None):
    """snnTorch 1.0 module of a NIR graph: ``snntorch.import_nir``'s converter and nirtorch's executor,
    with IF/LIF mapped onto ``snn.Leaky`` with reset to zero at the graph's dt (metadata, else 1)."""
    import nir
    import nirtorch
    import snntorch as snn
    from snntorch.import_nir import _nir_to_snntorch_module

    dt = float(graph.metadata.get("dt", 1.0)) if dt is None else float(dt)

    def leaky(node):
        if isinstance(node, nir.IF):
            beta, threshold = 1.0, _single(node.v_threshold, "threshold") * _single(node.r, "r")
        else:
            tau = _single(node.tau, "tau")
            beta, threshold = (
                1.0 - dt / tau,
                _single(node.v_threshold, "threshold") * tau / (_single(node.r, "r") * dt),
            )
        v_reset = getattr(node, "v_reset", None)
        if v_reset is not None and not np.allclose(np.asarray(v_reset), 0.0):
            raise ValueError("snn.Leaky resets to zero only: the graph has v_reset != 0")
        return snn.Leaky(
            beta=beta,
            threshold=threshold,
            reset_mechanism="zero",
            init_hidden=True,
            reset_delay=False,
        )

    node_map = {
        t: (lambda n: _nir_to_snntorch_module(n, init_hidden=True))
        for t in (nir.Affine, nir.Linear, nir.Conv2d, nir.Flatten, nir.AvgPool2d)
    }
    node_map.update({nir.IF: leaky, nir.LIF: leaky})
    return nirtorch.nir_to_torch(graph, node_map)
