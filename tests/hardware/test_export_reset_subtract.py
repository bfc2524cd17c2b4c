"""Reset by subtraction leaves ff_neuro through NIR: node metadata, read by the real clients.

No client is mocked: each test writes a file with ``export_spec`` / ``export_run`` and runs it in the
installed norse, snnTorch and sinabs. The synthetic networks run on the exact float grid (every sum exact
in float32, so agreement is guaranteed whatever the summation order); the trained one on real MNIST
runs on its own, unrounded weights.
"""

from __future__ import annotations

import json
from dataclasses import replace

import nir
import numpy as np
import pytest

from ff_neuro.hardware.clients import count_agreement, run_nir_client
from ff_neuro.hardware.export import export_spec
from ff_neuro.hardware.nir_graph import spec_from_nir
from ff_neuro.hardware.quantize import exact_float_grid

from .test_export import spec_of
from .test_export_clients import ours


def with_reset(spec, reset):
    return replace(spec, layers=[replace(layer, reset=reset) for layer in spec.layers])


@pytest.fixture
def subtract_export(rng, tmp_path):
    """(spec, inputs, path): a two-layer IF network that resets by subtraction, on the exact float grid,
    driven hard enough that v often stays above threshold after a subtraction."""
    spec = with_reset(spec_of(rng, T=12), "subtract")
    x = 2.0 * rng.random((4, spec.timesteps, 1, 8, 8)).astype(np.float32)
    spec, x = exact_float_grid(spec, x)
    return spec, x, export_spec(spec, "ideal", tmp_path, "nir")[0]


def test_the_file_names_the_reset_in_node_metadata_and_reads_back(subtract_export):
    spec, _, path = subtract_export
    graph = nir.read(str(path))
    for name in ("lif0", "lif1"):
        node = graph.nodes[name]
        assert isinstance(node, nir.IF) and node.metadata == {"reset": "subtract"}
        assert np.all(node.v_reset == 0)
    assert "reset='subtract'" in graph.metadata["reset"]
    back = spec_from_nir(graph, spec)
    assert [layer.reset for layer in back.layers] == ["subtract", "subtract"]
    for a, b in zip(spec.layers, back.layers):
        np.testing.assert_array_equal(a.weight, b.weight)
        assert (a.beta, a.threshold, a.stride, a.padding) == (
            b.beta,
            b.threshold,
            b.stride,
            b.padding,
        )
    man = json.loads((path.parent / "manifest.json").read_text())
    assert man["reset"]["mode"] == "subtract" and "metadata" in man["reset"]["in_file"]
    assert [layer["reset"] for layer in man["layers"]] == ["subtract", "subtract"]
    assert "reset_subtract" in man["clients"]["norse 1.1.0"]


def test_reset_to_zero_files_carry_no_reset_metadata(rng, tmp_path):
    """Older networks export as before: v_reset = 0, no node metadata, the same graph note."""
    path = export_spec(spec_of(rng), "ideal", tmp_path, "nir")[0]
    graph = nir.read(str(path))
    assert all(graph.nodes[n].metadata == {} for n in ("lif0", "lif1"))
    assert graph.metadata["reset"] == "zero (v_reset = 0)"


def test_export_prints_which_clients_run_it(rng, tmp_path, capsys):
    export_spec(with_reset(spec_of(rng), "subtract"), "ideal", tmp_path, "nir")
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[export]")]
    assert len(line) == 1 and "silently reset to zero" in line[0] and "sinabs" in line[0]


@pytest.mark.parametrize("client", ["norse", "snntorch", "sinabs-aligned"])
def test_clients_run_reset_by_subtraction_with_our_counts(client, subtract_export):
    spec, x, path = subtract_export
    ref, got = ours(spec, x), run_nir_client(client, path, x)
    assert sum(int(c.sum()) for c in ref) > 100
    # the subtraction matters here: the same network with reset to zero spikes differently
    assert count_agreement(ours(with_reset(spec, "zero"), x), ref) < 0.99
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)


def test_sinabs_as_it_comes_is_another_neuron(subtract_export):
    """sinabs' IAFSqueeze subtracts, but emits ⌊v/θ⌋ spikes per step at v ≥ θ and floors v at −θ."""
    spec, x, path = subtract_export
    agreement = count_agreement(ours(spec, x), run_nir_client("sinabs", path, x))
    assert 0.0 < agreement < 1.0


def test_plain_norse_from_nir_resets_to_zero_silently(subtract_export):
    """Why norse needs the shim: norse.torch.from_nir builds IAFCell (reset to v_reset) for IF nodes
    whatever the metadata, and its reset_method reaches CubaLIF only."""
    import norse.torch
    import torch
    from norse.torch.functional.reset import reset_subtract

    spec, x, path = subtract_export
    model = norse.torch.from_nir(nir.read(str(path)), reset_method=reset_subtract)
    xt, state, counts = torch.as_tensor(x), None, 0
    with torch.no_grad():
        for t in range(x.shape[1]):
            _, state = model(xt[:, t], state)
            counts = counts + state.cache["lif1"]
    zero = ours(with_reset(spec, "zero"), x)[1]
    np.testing.assert_array_equal(counts.numpy(), zero)
    assert not np.array_equal(counts.numpy(), ours(spec, x)[1])


def test_shims_refuse_what_they_cannot_run_exactly(rng, tmp_path):
    from ff_neuro.hardware.nir_graph import norse_from_nir, snntorch_from_nir

    spec = with_reset(spec_of(rng, beta=(0.875, 0.75)), "subtract")
    graph = nir.read(str(export_spec(spec, "ideal", tmp_path, "nir")[0]))
    with pytest.raises(ValueError, match="after the decay"):
        snntorch_from_nir(graph)
    with pytest.raises(ValueError, match="IF nodes only"):
        norse_from_nir(graph)
    graph.nodes["lif0"].metadata["reset"] = "halve"
    with pytest.raises(ValueError, match="unknown node metadata"):
        spec_from_nir(graph, spec)


@pytest.mark.slow
def test_verify_on_a_trained_subtractive_network_every_label(native_run_trained, tmp_path):
    """``ff-neuro export RUN --format nir --verify N`` on a network trained in spike units (real MNIST):
    every client's counts, under the neutral label and every label, and the goodness computed from them
    equal ff_neuro's; sinabs as it comes differs. clients.json records it."""
    from ff_neuro.cli import main

    out = tmp_path / "nir"
    args = ["export", str(native_run_trained), "--format", "nir", "--out", str(out)]
    assert main([*args, "--verify", "4", "--timesteps", "8"]) == 0
    res = json.loads((out / "clients.json").read_text())
    ref = res["rows"]["ff_neuro simulate_spec of the file (reference)"]
    assert ref["file_equals_run_spec"] and ref["resets"] == ["subtract"]
    for client in ("norse", "snntorch", "sinabs-aligned"):
        row = res["rows"][client]
        assert row["spike_count_agreement"] == 1.0 and row["identical_images"] == 1.0, client
        assert row["labels_spike_count_agreement"] == 1.0 and row["goodness_equal"] == 1.0, client
        assert row["goodness_max_abs_difference"] == 0.0
    assert res["rows"]["sinabs"]["labels_spike_count_agreement"] < 1.0
    assert res["samples"] == 4 and res["client_versions"]["sinabs"] == "3.1.3"
