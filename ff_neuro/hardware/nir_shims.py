"""The client shims that run ff_neuro's NIR files exactly (re-exported by :mod:`.nir_graph`).

What each client does with our IF/LIF nodes, and why each shim is the smallest one, is in the
docstring of :mod:`ff_neuro.hardware.nir_graph` and in docs/hardware.md. Each function builds the
client's own module from the graph and changes only what is named:

  * :func:`snntorch_from_nir`: snnTorch's converter and nirtorch's executor, IF/LIF → ``snn.Leaky``
    with the node's reset (:func:`subtract_leaky` for reset by subtraction);
  * :func:`norse_from_nir`: ``norse.torch.from_nir``, subtractive IF cells step with
    :func:`iaf_subtract_step` (norse's IAF step with norse's ``reset_subtract``);
  * :func:`sinabs_from_nir`: ``sinabs.from_nir``, with the :data:`SINABS_CONVENTIONS` asked for.
"""

from __future__ import annotations


def snntorch_from_nir(graph, dt: float | None = None, subtract=None):
    """snnTorch 1.0 module of a NIR graph: ``snntorch.import_nir``'s converter and nirtorch's executor,
    with IF/LIF mapped onto ``snn.Leaky`` at the graph's dt (metadata, else 1) and the node's reset
    (:func:`node_reset`): reset to zero, or by subtraction with ``subtract(beta, threshold)`` (default
    :func:`subtract_leaky`; ``stock_subtract_leaky`` shows what snnTorch does as it comes)."""
    import nir
    import nirtorch
    import snntorch as snn
    from snntorch.import_nir import _nir_to_snntorch_module

    from .nir_graph import neuron_of, node_reset

    dt = float(graph.metadata.get("dt", 1.0)) if dt is None else float(dt)

    def leaky(node):
        beta, threshold = neuron_of(node, dt)
        if node_reset(node) == "subtract":
            return (subtract or subtract_leaky)(beta, threshold)
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


def subtract_leaky(beta: float, threshold: float):
    """``snn.Leaky(beta, threshold, reset_mechanism="subtract", init_hidden=True, reset_delay=False)``
    with its start-of-step reset (``mem_reset``) off. snnTorch then computes, per step,

        v ← β·v + I;   s = (v − θ > 0);   v ← v − θ·s

    which is ff_neuro's neuron (v ← β·(v − θ·s[t−1]) + I, s = v > θ), in the same float order. As it
    comes, snnTorch subtracts θ once more at the start of the next step whenever the stored v is still
    above θ (a neuron driven above threshold, common with reset by subtraction), and its default
    ``reset_delay=True`` computes v ← β·v + I − θ·s[t−1]: for β = 1 the same equations as ours, summed
    in another order ((v + I) − θ instead of (v − θ) + I), which flips a spike where v lies within a
    rounding error of θ (measured: docs/results-export.md); for β < 1 another neuron."""
    import snntorch as snn
    import torch

    class SubtractOnceLeaky(snn.Leaky):
        def mem_reset(self, mem):
            return torch.zeros_like(mem)

    return SubtractOnceLeaky(
        beta=beta,
        threshold=threshold,
        reset_mechanism="subtract",
        init_hidden=True,
        reset_delay=False,
    )


def stock_subtract_leaky(beta: float, threshold: float, reset_delay: bool = True):
    """snnTorch's own ``snn.Leaky(reset_mechanism="subtract")`` (not ours: :func:`subtract_leaky`)."""
    import snntorch as snn

    return snn.Leaky(
        beta=beta,
        threshold=threshold,
        reset_mechanism="subtract",
        init_hidden=True,
        reset_delay=reset_delay,
    )


def iaf_subtract_step(input_tensor, state, p, dt: float = 0.001):
    """norse's ``iaf_feed_forward_step`` with norse's ``reset_subtract`` as its reset:

    v = v + I;   z = threshold(v − v_th);   v = (1 − z)·v + z·(v − v_th)
    """
    from norse.torch.functional.iaf import IAFFeedForwardState
    from norse.torch.functional.reset import reset_subtract
    from norse.torch.functional.threshold import threshold

    v = state.v + input_tensor
    z = threshold(v - p.v_th, p.method, p.alpha)
    return z, IAFFeedForwardState(v=reset_subtract(z, v, p.v_reset, p.v_th))


def norse_from_nir(graph, shim: bool = True):
    """norse 1.1.0 module of a NIR graph: ``norse.torch.from_nir(graph)``, then (``shim``) every IF
    node with reset='subtract' steps with :func:`iaf_subtract_step` (norse's ``reset_method`` reaches
    CubaLIF nodes only). LIF nodes with reset='subtract' are refused: norse's LIF box ignores r.
    ``shim=False``: norse as it comes (subtractive IF nodes then reset to zero)."""
    import nir
    import norse.torch

    from .nir_graph import lif_node_names, node_reset

    model = norse.torch.from_nir(graph)
    for name in lif_node_names(graph) if shim else []:
        node = graph.nodes[name]
        if node_reset(node) != "subtract":
            continue
        if not isinstance(node, nir.IF):
            raise ValueError(f"node {name!r}: norse runs reset by subtraction on IF nodes only")
        getattr(model, name).activation = iaf_subtract_step
    return model


def strict_single_spike():
    """sinabs' ``SingleSpike`` with our comparison: one spike where v > θ (sinabs: v ≥ θ)."""
    from sinabs.activation import SingleSpike

    class StrictSingleSpike(SingleSpike):
        @staticmethod
        def forward(ctx, v_mem, spike_threshold, surrogate_grad_fn):
            ctx.save_for_backward(v_mem.clone())
            ctx.spike_threshold = spike_threshold
            ctx.surrogate_grad_fn = surrogate_grad_fn
            return (v_mem - spike_threshold > 0).float()

    return StrictSingleSpike


SINABS_CONVENTIONS = ("single_spike", "strict", "no_floor", "reset")


def sinabs_from_nir(graph, batch_size: int, aligned=False):
    """sinabs 3.1.3 module of a NIR graph (``sinabs.from_nir``). ``aligned`` changes, on every IF
    node's ``IAFSqueeze``, the conventions that differ from ours and nothing else (``True``: all of
    :data:`SINABS_CONVENTIONS`; or a collection of their names):

      * "single_spike": one spike per step (sinabs' ``SingleSpike``, v ≥ θ) instead of ⌊v/θ⌋;
      * "strict": one spike where v > θ (:func:`strict_single_spike`; implies one spike per step);
      * "no_floor": ``min_v_mem = None`` (sinabs floors v at −θ);
      * "reset": the node's reset (``MembraneReset`` for reset to zero; sinabs always subtracts,
        so this changes nothing on a subtractive node).
    """
    import sinabs
    from sinabs.activation import MembraneReset, SingleSpike

    from .nir_graph import lif_node_names, node_reset

    change = set(SINABS_CONVENTIONS if aligned is True else (aligned or ()))
    if change - set(SINABS_CONVENTIONS):
        raise ValueError(f"unknown sinabs conventions {sorted(change - set(SINABS_CONVENTIONS))}")
    model = sinabs.from_nir(graph, batch_size=batch_size)
    for name in lif_node_names(graph) if change else []:
        layer = getattr(model, name)
        if "strict" in change:
            layer.spike_fn = strict_single_spike()
        elif "single_spike" in change:
            layer.spike_fn = SingleSpike
        if "no_floor" in change:
            layer.min_v_mem = None
        if "reset" in change and node_reset(graph.nodes[name]) == "zero":
            layer.reset_fn = MembraneReset()
    return model
