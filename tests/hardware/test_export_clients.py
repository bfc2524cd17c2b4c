"""Our export files in the real third-party clients: norse, snnTorch and sinabs (NIR), lava-dl in Lava (netx).

No client is mocked: each test writes a file with ``export_spec`` and runs it in the installed client
(``make install`` installs them; see the Makefile).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ff_neuro.hardware.clients import count_agreement, run_nir_client
from ff_neuro.hardware.export import export_spec
from ff_neuro.hardware.quantize import exact_float_grid
from ff_neuro.spiking import simulate_spec

from ..lava.conftest import tiny_inputs, tiny_spec  # noqa: F401  (fixtures: the tiny trained run's spec, images)
from .test_export import spec_of


def ours(spec, x):
    return [s.sum(0).numpy() for s in simulate_spec(spec, torch.as_tensor(x).transpose(0, 1))]


@pytest.fixture
def nir_export(rng, tmp_path):
    """(spec, inputs, path): a two-layer IF network on the exact float grid, written as NIR."""
    spec = spec_of(rng)
    x = rng.random((4, spec.timesteps, 1, 8, 8)).astype(np.float32)
    spec, x = exact_float_grid(spec, x)
    return spec, x, export_spec(spec, "ideal", tmp_path, "nir")[0]


@pytest.mark.parametrize("client", ["norse", "snntorch"])
def test_nir_runs_in_the_client_with_our_spike_counts(client, nir_export):
    spec, x, path = nir_export
    ref, got = ours(spec, x), run_nir_client(client, path, x)
    assert sum(int(c.sum()) for c in ref) > 100
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)


def test_leaky_nir_runs_in_snntorch_through_the_shim(rng, tmp_path):
    """β < 1 becomes nir.LIF(tau, r = tau) at dt = 1; the shim maps it to Leaky(beta) exactly."""
    spec = spec_of(rng, beta=(0.875, 0.75))
    x = rng.random((3, spec.timesteps, 1, 8, 8)).astype(np.float32)
    spec, x = exact_float_grid(spec, x)
    path = export_spec(spec, "ideal", tmp_path, "nir")[0]
    ref, got = ours(spec, x), run_nir_client("snntorch", path, x)
    assert count_agreement(ref, got) == 1.0 and sum(int(c.sum()) for c in ref) > 0


def test_snntorchs_own_importer_fails_on_if_nodes(nir_export):
    """Why the shim exists: snnTorch 1.0.0 builds IF as Leaky(init_hidden=False), the next conv gets a tuple."""
    import nir
    from snntorch.import_nir import import_from_nir

    spec, x, path = nir_export
    with pytest.raises(TypeError):
        import_from_nir(nir.read(str(path)))(torch.as_tensor(x[:, 0]))


def test_nir_runs_in_sinabs_with_its_own_neuron(nir_export):
    """sinabs runs the graph with a multi-spike, subtract-reset, v >= θ neuron: counts may exceed T."""
    spec, x, path = nir_export
    got = run_nir_client("sinabs", path, x)
    ref = ours(spec, x)
    assert [g.shape for g in got] == [r.shape for r in ref]
    assert all(g.min() >= 0 for g in got) and 0.0 < count_agreement(ref, got) < 1.0


@pytest.mark.lava
@pytest.mark.parametrize("bound", ["worst-case", "observed"])
def test_netx_runs_in_lava_dl_with_the_emulated_counts(tiny_spec, tiny_inputs, tmp_path, bound):
    """lava-dl 0.6.0 loads our netx file and runs it in Lava: its counts equal the fixed-point emulation
    of the integer network the file describes (``netx_net``), on real MNIST through the tiny trained run,
    and stay close to the deployed network's (they differ only where a rescaled bias still rounds)."""
    from ff_neuro.hardware.emulate import emulate_fixed
    from ff_neuro.hardware.netx import netx_net, netx_scales, read_scales
    from ff_neuro.hardware.netx_lava import run_netx
    from ff_neuro.hardware.quantize import quantize_spec

    bound_inputs = tiny_inputs[3:] if bound == "observed" else None
    path = export_spec(tiny_spec, "loihi2", tmp_path, "netx", netx_inputs=bound_inputs)[0]
    net = quantize_spec(tiny_spec, "loihi2")
    ks, recorded = read_scales(path)
    assert recorded == bound and (bound == "observed" or ks == netx_scales(net))
    x = tiny_inputs[:3]
    ref = [c.numpy() for c in emulate_fixed(netx_net(net, ks=ks), x)]
    got = run_netx(path, net.encode(x), tiny_spec.timesteps)
    assert sum(int(c.sum()) for c in ref) > 0
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)
    assert count_agreement([c.numpy() for c in emulate_fixed(net, x)], got) > 0.99
    assert (
        json.loads((tmp_path / "manifest.json").read_text())["input"]["fixed_point"]["input_scale"]
        == net.input_scale
    )


@pytest.mark.slow
def test_verify_a_reset_to_zero_run_every_label(tiny_run, tmp_path):
    """Reset-to-zero networks export as before (no node metadata) and verify under every label:
    norse, snnTorch and sinabs with its four conventions aligned (reset to zero included) give our counts."""
    import nir

    from ff_neuro.hardware.export import export_run
    from ff_neuro.hardware.verify import verify_export

    path = export_run(tiny_run[0], "ideal", tmp_path, "nir", timesteps=4)[0]
    graph = nir.read(str(path))
    assert all(graph.nodes[n].metadata == {} for n in ("lif0", "lif1", "lif2"))
    res = verify_export(tiny_run[0], tmp_path, "nir", 3, timesteps=4)
    assert res["rows"]["ff_neuro simulate_spec of the file (reference)"]["resets"] == ["zero"]
    for client in ("norse", "snntorch", "sinabs-aligned"):
        row = res["rows"][client]
        assert row["spike_count_agreement"] == 1.0 and row["goodness_equal"] == 1.0, client
    assert res["rows"]["sinabs"]["labels_spike_count_agreement"] < 1.0
