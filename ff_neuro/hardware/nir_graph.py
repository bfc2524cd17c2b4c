"""NIR export of a spiking spec, its reading back, and (from :mod:`.nir_shims`) the client shims.

Graph: ``input → conv0 → lif0 → conv1 → lif1 → … → output`` with ``nir.Conv2d`` (torch layout,
bias = the constant input current per step) and, per layer, for the time step dt = 1 (metadata ``dt``):

  * β = 1: ``nir.IF(r = 1, v_threshold = θ, v_reset = 0)``: v ← v + I;
  * β < 1: ``nir.LIF(tau = 1/(1 − β), r = tau, v_leak = 0, v_threshold = θ, v_reset = 0)``, whose Euler
    step v ← (1 − dt/τ)·v + (dt/τ)·r·I is exactly v ← β·v + I.

Our neuron spikes when v > θ (strict), one spike per step at most, and then resets:

  * reset to zero (``reset = "zero"``): v ← 0. NIR ≥ 1.0.6's IF/LIF say "v > v_threshold, then
    v = v_reset", so ``v_reset = 0`` carries it exactly, with no node metadata (files as before).
  * reset by subtraction (``reset = "subtract"``, the default mnist-quick): v ← v − θ. NIR 1.0.8 has
    no field for it (1.0.0–1.0.5 defined IF/LIF as subtractive; PR #129 changed them to v_reset; PR
    #63, open, proposes ``reset="subtract"``). The node keeps ``v_reset = 0`` and carries
    ``metadata = {"reset": "subtract"}`` (:data:`RESET_KEY`), the graph metadata says so too. A
    reader that ignores node metadata runs a valid NIR graph that resets to zero: a different
    network, silently. :data:`SUBTRACT_CLIENTS` says which clients read it how.

Per step, the subtractive neuron is v[t] = v[t−1] − θ·s[t−1] + I[t] (β = 1), s[t] = v[t] > θ. What the
clients run:

  * norse 1.1.0 ``norse.torch.from_nir``: IF → ``IAFCell`` (v ← v + I, v > θ, reset to v_reset).
    Its ``reset_method`` argument reaches CubaLIF nodes only, and a CubaLIF cannot be an IF exactly
    (norse scales the input by dt/τ_mem), so :func:`norse_from_nir` is the smallest shim: norse's own
    converter, then each subtractive IF cell gets norse's IAF step with norse's
    ``functional.reset.reset_subtract`` in place of its reset to v_reset (:func:`iaf_subtract_step`).
    LIF: norse ignores r (it warns), so β < 1 graphs are not exact there.
  * snnTorch 1.0.0 ``snntorch.import_nir.import_from_nir`` builds IF as ``Leaky(beta=0.9,
    init_hidden=False)`` (the next conv then receives a tuple and fails) and LIF with a hard-coded
    dt = 1e-4. :func:`snntorch_from_nir` keeps snnTorch's converter for every other node and maps
    IF/LIF to ``snn.Leaky(beta = 1 − dt/τ (1 for IF), threshold = θ·τ/(r·dt) (θ/r for IF),
    init_hidden=True, reset_delay=False)`` at the graph's dt, with the node's reset:
    ``reset_mechanism="zero"``, or ``"subtract"`` with the start-of-step reset off
    (:func:`subtract_leaky`: snnTorch subtracts θ a second time while the stored v stays above θ).
    Reset the hidden state between samples: ``snntorch.utils.reset(module)``.
  * sinabs 3.1.3 ``sinabs.from_nir(graph, batch_size=N)``: IF → ``IAFSqueeze``, whose reset is
    subtraction (``MembraneSubtract``) whatever v_reset says, with three other conventions: ⌊v/θ⌋
    spikes per step (``MultiSpike``), v ≥ θ, v floored at −θ. :func:`sinabs_from_nir` with
    ``aligned=True`` changes exactly these three (``spike_fn`` = ``StrictSingleSpike``,
    ``min_v_mem = None``) and sets the reset the node names (``MembraneReset`` for reset to zero).

The label overlay, the input encoding, the linear head and goodness are not NIR nodes: the export
writes them into ``manifest.json`` / ``manifest.npz`` beside the graph.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

RESET_KEY = "reset"  # node metadata key; value "subtract" (absent: reset to v_reset)
RESETS = ("zero", "subtract")
SUBTRACT_NOTE = (
    "IF/LIF nodes with metadata reset='subtract' reset by subtraction, v <- v - v_threshold after a "
    "spike (v_reset unused); NIR 1.0.8 has no field for it, readers that ignore node metadata "
    "reset to v_reset = 0"
)
SUBTRACT_CLIENTS = (
    "reset by subtraction in NIR (node metadata reset='subtract'): run faithfully by sinabs 3.1.3 "
    "from_nir (subtraction is its native reset; exact with single spike, v > threshold, no v floor), "
    "norse 1.1.0 via ff_neuro.hardware.nir_graph.norse_from_nir and snnTorch 1.0.0 via "
    "ff_neuro.hardware.nir_graph.snntorch_from_nir; norse.torch.from_nir and any reader that ignores "
    "node metadata would silently reset to zero (snntorch.import_nir crashes on IF nodes)"
)


def spec_to_nir(spec):
    import nir

    nodes, edges = (
        {"input": nir.Input(input_type={"input": np.asarray(spec.layers[0].in_shape)})},
        [],
    )
    prev = "input"
    for i, layer in enumerate(spec.layers):
        if layer.reset not in RESETS:
            raise ValueError(f"layer {i}: unknown reset {layer.reset!r}; NIR export knows {RESETS}")
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
        meta = {RESET_KEY: "subtract"} if layer.reset == "subtract" else {}
        if beta >= 1.0:
            nodes[f"lif{i}"] = nir.IF(
                r=np.ones(shape, np.float32), v_threshold=thr, v_reset=zero, metadata=meta
            )
        else:
            tau = np.full(shape, 1.0 / (1.0 - beta), np.float32)
            nodes[f"lif{i}"] = nir.LIF(
                tau=tau, r=tau.copy(), v_leak=zero, v_threshold=thr, v_reset=zero, metadata=meta
            )
        edges += [(prev, f"conv{i}"), (f"conv{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["output"] = nir.Output(output_type={"output": np.asarray(spec.layers[-1].out_shape)})
    edges.append((prev, "output"))
    subtract = any(layer.reset == "subtract" for layer in spec.layers)
    meta = {
        "dt": 1.0,
        "timesteps": int(spec.timesteps),
        "encoding": spec.encoding,
        "reset": SUBTRACT_NOTE if subtract else "zero (v_reset = 0)",
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


def node_reset(node) -> str:
    """ "subtract" for a node whose metadata says reset='subtract', else "zero" (reset to v_reset, which
    must then be 0 for our neuron). Any other metadata value is an error, not a guess."""
    value = (getattr(node, "metadata", None) or {}).get(RESET_KEY, "zero")
    value = value.decode() if isinstance(value, bytes) else str(value)
    if value not in RESETS:
        raise ValueError(f"unknown node metadata reset={value!r}; known: {list(RESETS)}")
    v_reset = getattr(node, "v_reset", None)
    if value == "zero" and v_reset is not None and not np.allclose(np.asarray(v_reset), 0.0):
        raise ValueError("the graph has v_reset != 0: neither ff_neuro nor these shims run it")
    return value


def _single(x, what: str) -> float:
    vals = np.unique(np.asarray(x))
    if vals.size != 1:
        raise ValueError(f"one {what} per layer is needed, the graph has {vals.size}")
    return float(vals[0])


def neuron_of(node, dt: float = 1.0) -> tuple[float, float]:
    """(β, θ') of an IF/LIF node at time step dt, for the neuron v ← β·v + I, spike v > θ' (I the input):

    IF:  v ← v + r·I, spike v > θ                 → β = 1,            θ' = θ / r
    LIF: v ← (1 − dt/τ)·v + (dt/τ)·r·I, v > θ      → β = 1 − dt/τ,     θ' = θ·τ / (r·dt)
    """
    import nir

    if isinstance(node, nir.IF):
        return 1.0, _single(node.v_threshold, "threshold") / _single(node.r, "r")
    tau = _single(node.tau, "tau")
    return 1.0 - dt / tau, _single(node.v_threshold, "threshold") * tau / (
        _single(node.r, "r") * dt
    )


def _int(x) -> int:
    return int(np.asarray(x).ravel()[0])


def spec_from_nir(graph, like):
    """The network a NIR graph written by :func:`spec_to_nir` holds, as ``like`` (the spec it was written
    from, for shapes and everything NIR does not carry) with each layer's weight, bias, stride, padding,
    β, θ and reset read from the file: what ff_neuro's own simulator runs as "the file"."""
    import nir

    dt = float(graph.metadata.get("dt", 1.0))
    nxt, node, layers, conv = dict(graph.edges), "input", [], None
    while node in nxt:
        node = nxt[node]
        n = graph.nodes[node]
        if isinstance(n, nir.Conv2d):
            conv = n
        elif isinstance(n, (nir.IF, nir.LIF)):
            if conv is None or len(layers) >= len(like.layers):
                raise ValueError(f"node {node!r}: not the conv → neuron chain spec_to_nir writes")
            beta, threshold = neuron_of(n, dt)
            layers.append(
                replace(
                    like.layers[len(layers)],
                    weight=np.asarray(conv.weight, np.float32),
                    bias=np.asarray(conv.bias, np.float32),
                    stride=_int(conv.stride),
                    padding=_int(conv.padding),
                    beta=beta,
                    threshold=threshold,
                    reset=node_reset(n),
                )
            )
            conv = None
    if len(layers) != len(like.layers):
        raise ValueError(
            f"the graph has {len(layers)} conv → neuron layers, the spec {len(like.layers)}"
        )
    return replace(like, layers=layers)


# The clients' shims live in .nir_shims; they are documented (and imported) under this module's name.
from .nir_shims import (  # noqa: E402
    SINABS_CONVENTIONS,
    iaf_subtract_step,
    norse_from_nir,
    sinabs_from_nir,
    snntorch_from_nir,
    stock_subtract_leaky,
    strict_single_spike,
    subtract_leaky,
)

__all__ = [
    "RESET_KEY",
    "RESETS",
    "SINABS_CONVENTIONS",
    "SUBTRACT_CLIENTS",
    "SUBTRACT_NOTE",
    "iaf_subtract_step",
    "lif_node_names",
    "neuron_of",
    "node_reset",
    "norse_from_nir",
    "sinabs_from_nir",
    "snntorch_from_nir",
    "spec_from_nir",
    "spec_to_nir",
    "stock_subtract_leaky",
    "strict_single_spike",
    "subtract_leaky",
    "write_nir",
]
