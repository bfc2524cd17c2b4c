"""NIR export of a spiking spec, and a rebuild of a NIR graph as snnTorch modules.

Graph: ``input → conv0 → lif0 → conv1 → lif1 → … → output`` with ``nir.Conv2d`` (torch layout,
bias = the constant input current per step) and, per layer, with the time step dt = 1:

  * β < 1: ``nir.LIF(tau = 1/(1 − β), r = tau, v_leak = 0, v_threshold = θ, v_reset = 0)``, whose Euler step
    v ← (1 − dt/τ)·v + (dt/τ)·r·I is exactly v ← β·v + I;
  * β = 1: ``nir.IF(r = 1, v_threshold = θ, v_reset = 0)``: v ← v + I.

The graph carries the per-step dynamics only: the label overlay and input encoding happen before
its input, and the linear head works on RMS-normalised window counts, which NIR cannot express;
both are described in ``metadata`` and the head is written beside the graph (``head.npz``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def spec_to_nir(spec):
    import nir
    nodes, edges = {"input": nir.Input(input_type={"input": np.asarray(spec.layers[0].in_shape)})}, []
    prev = "input"
    for i, layer in enumerate(spec.layers):
        w = np.asarray(layer.weight, np.float32)
        nodes[f"conv{i}"] = nir.Conv2d(input_shape=tuple(layer.in_shape[1:]), weight=w, stride=int(layer.stride),
                                       padding=int(layer.padding), dilation=1, groups=1,
                                       bias=np.asarray(layer.bias, np.float32))
        shape = tuple(layer.out_shape)
        thr = np.full(shape, float(layer.threshold), np.float32)
        zero = np.zeros(shape, np.float32)
        beta = float(layer.beta)
        if beta >= 1.0:
            nodes[f"lif{i}"] = nir.IF(r=np.ones(shape, np.float32), v_threshold=thr, v_reset=zero)
        else:
            tau = np.full(shape, 1.0 / (1.0 - beta), np.float32)
            nodes[f"lif{i}"] = nir.LIF(tau=tau, r=tau.copy(), v_leak=zero, v_threshold=thr, v_reset=zero)
        edges += [(prev, f"conv{i}"), (f"conv{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["output"] = nir.Output(output_type={"output": np.asarray(spec.layers[-1].out_shape)})
    edges.append((prev, "output"))
    meta = {"dt": 1.0, "timesteps": int(spec.timesteps), "encoding": spec.encoding,
            "reset": "zero (v_reset = 0)", "threshold": "strict (v > v_threshold)",
            "not_carried": "label overlay (Fourier labels), input encoding, RMS-normalised linear head"}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def write_nir(spec, path: str | Path) -> Path:
    import nir
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nir.write(str(path), spec_to_nir(spec))
    return path


def snntorch_layers(graph) -> list[tuple]:
    """(torch Conv2d, snn.Leaky) per layer of a graph written by :func:`spec_to_nir` (follows the edges)."""
    import nir
    import snntorch as snn
    import torch
    nxt = {a: b for a, b in graph.edges}
    out, node = [], nxt["input"]
    while node != "output":
        conv = graph.nodes[node]
        lif_name = nxt[node]
        lif = graph.nodes[lif_name]
        w = torch.as_tensor(np.asarray(conv.weight), dtype=torch.float32)
        m = torch.nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), stride=tuple(np.broadcast_to(conv.stride, 2)),
                            padding=tuple(np.broadcast_to(conv.padding, 2)))
        m.weight.data, m.bias.data = w, torch.as_tensor(np.asarray(conv.bias), dtype=torch.float32)
        thr = float(np.unique(np.asarray(lif.v_threshold))[0])
        if isinstance(lif, nir.IF):
            beta = 1.0
        else:
            beta = float(1.0 - 1.0 / np.unique(np.asarray(lif.tau))[0])
        out.append((m, snn.Leaky(beta=beta, threshold=thr, reset_mechanism="zero")))
        node = nxt[lif_name]
    return out


def run_snntorch_layers(layers, inputs) -> list:
    """Per-layer spike counts (N, C, H, W) of ``inputs`` (N, T, C, H, W), one sample at a time from rest."""
    import torch
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    counts = [[] for _ in layers]
    with torch.no_grad():
        for k in range(x.shape[0]):
            mems = [lif.init_leaky() for _, lif in layers]
            acc = [0 for _ in layers]
            for t in range(x.shape[1]):
                s = x[k:k + 1, t]
                for l, (conv, lif) in enumerate(layers):
                    s, mems[l] = lif(conv(s), mems[l])
                    acc[l] = acc[l] + s
            for l in range(len(layers)):
                counts[l].append(acc[l])
    return [torch.cat(c).numpy() for c in counts]
