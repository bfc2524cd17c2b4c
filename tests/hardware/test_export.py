"""Interchange formats: netx HDF5 schema, NIR round trip through snnTorch, the Lava npz."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ff_neuro.hardware.export import export_spec
from ff_neuro.hardware.profiles import ProfileError
from ff_neuro.hardware.quantize import exact_float_grid, quantize_spec
from ff_neuro.spiking.spec import LIFConvSpec, SpikingNetSpec


def spec_of(rng, beta=(1.0, 0.9)):
    l0 = LIFConvSpec(rng.normal(0, 0.6, (4, 1, 3, 3)).astype(np.float32), rng.normal(0, 0.05, 4).astype(np.float32),
                     1, 1, beta[0], 1.0, (1, 8, 8), (4, 8, 8))
    l1 = LIFConvSpec(rng.normal(0, 0.5, (6, 4, 3, 3)).astype(np.float32), rng.normal(0, 0.05, 6).astype(np.float32),
                     2, 1, beta[1], 1.0, (4, 8, 8), (6, 4, 4))
    head = rng.normal(0, 0.1, (10, 96)).astype(np.float32)
    return SpikingNetSpec([l0, l1], 6, "current", [1], [1], head, np.zeros(10, np.float32),
                          {"labels": {"set": 1, "K": 0.35, "num_classes": 10}, "in_shape": [1, 8, 8]})


def test_netx_file_follows_the_schema(rng, tmp_path):
    import h5py
    spec = spec_of(rng)
    paths = export_spec(spec, "loihi2", tmp_path, "netx")
    net = quantize_spec(spec, "loihi2")
    with h5py.File(paths[0], "r") as f:
        layers = f["layer"]
        assert sorted(layers.keys()) == ["0", "1", "2"]
        assert layers["0"]["type"][()] == b"input" and list(layers["0"]["shape"][()]) == [1, 8, 8]
        for i, layer in enumerate(net.layers, start=1):
            g = layers[str(i)]
            assert g["type"][()] == b"conv"
            assert {"shape", "weight", "bias", "stride", "padding", "dilation", "groups", "neuron"} <= set(g.keys())
            assert list(g["shape"][()]) == list(layer.out_shape)
            w = g["weight"][()]
            assert w.shape == spec.layers[i - 1].weight.shape and np.issubdtype(w.dtype, np.integer)
            np.testing.assert_array_equal(w, layer.weight)
            assert list(g["stride"][()]) == [layer.stride] * 2 and list(g["padding"][()]) == [layer.padding] * 2
            n = g["neuron"]
            assert n["type"][()] == b"CUBA" and int(n["iDecay"][()]) == 4096
            assert int(n["vDecay"][()]) == layer.dv and int(n["vThMant"][()]) == layer.vth
            assert set(n.keys()) >= {"type", "iDecay", "vDecay", "vThMant", "refDelay"}
    assert json.loads((tmp_path / "labels.json").read_text())["encoding"] == "current"


def test_netx_needs_a_fixed_point_profile(rng, tmp_path):
    with pytest.raises(ProfileError, match="fixed-point profile"):
        export_spec(spec_of(rng), "ideal", tmp_path, "netx")
    with pytest.raises(ProfileError, match="cost estimates only"):
        export_spec(spec_of(rng), "truenorth", tmp_path, "lava")
    with pytest.raises(ProfileError, match="unknown export format"):
        export_spec(spec_of(rng), "loihi", tmp_path, "onnx")


def test_nir_round_trip_rebuilt_in_snntorch_gives_the_same_spike_counts(rng, tmp_path):
    import nir

    from ff_neuro.hardware.nir_graph import run_snntorch_layers, snntorch_layers
    from ff_neuro.spiking import simulate_spec
    spec = spec_of(rng)
    x = rng.random((3, spec.timesteps, 1, 8, 8)).astype(np.float32)
    spec, x = exact_float_grid(spec, x)
    paths = export_spec(spec, "ideal", tmp_path, "nir")
    graph = nir.read(str(paths[0]))
    assert isinstance(graph.nodes["lif0"], nir.IF) and isinstance(graph.nodes["lif1"], nir.LIF)
    np.testing.assert_array_equal(graph.nodes["conv1"].weight, spec.layers[1].weight)
    got = run_snntorch_layers(snntorch_layers(graph), x)
    ref = [s.sum(0).numpy() for s in simulate_spec(spec, torch.as_tensor(x).transpose(0, 1))]
    assert sum(int(c.sum()) for c in ref) > 0
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)
    head = np.load(tmp_path / "head.npz")
    np.testing.assert_array_equal(head["weight"], spec.head_weight)


def test_lava_npz_holds_lava_layout_and_no_pickles(rng, tmp_path):
    spec = spec_of(rng)
    export_spec(spec, "loihi", tmp_path, "lava")
    arrs = np.load(tmp_path / "lava_net.npz", allow_pickle=False)
    w = spec.layers[1].weight
    assert arrs["layer1.weight"].shape == (w.shape[0], w.shape[3], w.shape[2], w.shape[1])
    desc = json.loads((tmp_path / "lava_net.json").read_text())
    assert desc["fixed_point"] and desc["layers"][1]["stride"] == 2
