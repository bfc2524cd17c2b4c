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


def test_snntorch_runs_leaky_subtractive_layers_too(rng, tmp_path):
    """β < 1: snn.Leaky with its start-of-step reset off is v ← β·v + I, s = v > θ, v ← v − θ·s: ours."""
    import snntorch as snn

    from ff_neuro.hardware.nir_graph import snntorch_from_nir

    spec = with_reset(spec_of(rng, beta=(0.875, 0.75), T=12), "subtract")
    x = 2.0 * rng.random((3, spec.timesteps, 1, 8, 8)).astype(np.float32)
    spec, x = exact_float_grid(spec, x)
    path = export_spec(spec, "ideal", tmp_path, "nir")[0]
    assert isinstance(snntorch_from_nir(nir.read(str(path))).lif0, snn.Leaky)
    ref = ours(spec, x)
    assert count_agreement(ref, run_nir_client("snntorch", path, x)) == 1.0
    assert sum(int(c.sum()) for c in ref) > 0


def test_snntorchs_stock_subtract_leaky_subtracts_twice(subtract_export):
    """Why the start-of-step reset is off: as it comes, snn.Leaky(reset_mechanism="subtract",
    reset_delay=False) subtracts θ again while the stored v is above θ (a neuron driven above threshold)."""
    import snntorch as snn
    import torch

    spec, x, _ = subtract_export
    layer = spec.layers[0]
    w, b = torch.as_tensor(layer.weight), torch.as_tensor(layer.bias)
    stock = snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract", reset_delay=False)
    mem, count = stock.init_leaky(), 0
    for t in range(spec.timesteps):
        spk, mem = stock(torch.nn.functional.conv2d(torch.as_tensor(x[:, t]), w, b, 1, 1), mem)
        count = count + spk
    ref = ours(spec, x)[0]
    assert layer.threshold == 1.0 and ref.sum() > 0
    assert not np.array_equal(count.numpy(), ref) and count.sum() < ref.sum()  # subtracted twice


def test_shims_refuse_what_they_cannot_run_exactly(rng, tmp_path):
    from ff_neuro.hardware.nir_graph import norse_from_nir

    spec = with_reset(spec_of(rng, beta=(0.875, 0.75)), "subtract")
    graph = nir.read(str(export_spec(spec, "ideal", tmp_path, "nir")[0]))
    with pytest.raises(ValueError, match="IF nodes only"):
        norse_from_nir(graph)
    graph.nodes["lif0"].metadata["reset"] = "halve"
    with pytest.raises(ValueError, match="unknown node metadata"):
        spec_from_nir(graph, spec)


@pytest.mark.slow
def test_verify_on_a_trained_subtractive_network_every_label(
    native_run_trained, mnist, tmp_path, capsys
):
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
    # netx refuses the network with one line that says what to do (exit 2)
    netx = ["export", str(native_run_trained), "--format", "netx", "--out", str(tmp_path / "netx")]
    capsys.readouterr()
    assert main(netx) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("ff-neuro: error:")]
    assert len(err) == 1 and "--netx-reset subtract" in err[0] and "--format nir" in err[0]
    # the example classifies from the export files alone, without ff_neuro, as norse did in verify
    line = run_example_06(out, 4, idx_folder(mnist, tmp_path / "idx", 4))
    norse = res["rows"]["norse"]
    assert "reset subtract" in line
    assert f"linear head {100 * norse['accuracy']:.2f} %" in line
    assert f"goodness {100 * norse['goodness_accuracy']:.2f} %" in line


def idx_folder(mnist, folder, n):
    """The first n MNIST test images and labels as IDX files (what the example reads)."""
    folder.mkdir(parents=True)
    x, y = mnist.test.x[:n].astype(np.uint8), mnist.test.y[:n].astype(np.uint8)
    head = np.array([0x0803, n, x.shape[1], x.shape[2]], ">u4").tobytes()
    (folder / "t10k-images-idx3-ubyte").write_bytes(head + x.tobytes())
    (folder / "t10k-labels-idx1-ubyte").write_bytes(
        np.array([0x0801, n], ">u4").tobytes() + y.tobytes()
    )
    return folder


def run_example_06(export_dir, n, folder) -> str:
    """Run examples/06_export_in_norse.py with ``import ff_neuro`` made impossible; its last line."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "06_export_in_norse.py"
    code = (
        "import runpy, sys; sys.modules['ff_neuro'] = None; "
        f"sys.argv = [{str(script)!r}, {str(export_dir)!r}, '{n}', {str(folder)!r}]; "
        f"runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]
