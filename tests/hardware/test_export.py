"""Export files: the netx form lava-dl reads, the netx rescaling that keeps biases, the manifest, the Lava npz."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ff_neuro.hardware.emulate import emulate_fixed
from ff_neuro.hardware.export import export_spec
from ff_neuro.hardware.netx import NETX_BIAS_EXP, netx_net, netx_report
from ff_neuro.hardware.profiles import ProfileError
from ff_neuro.hardware.quantize import quantize_spec
from ff_neuro.spiking.spec import LIFConvSpec, SpikingNetSpec


def spec_of(rng, beta=(1.0, 1.0), bias=(0.05, 0.05), T=6):
    l0 = LIFConvSpec(
        rng.normal(0, 0.6, (4, 1, 3, 3)).astype(np.float32),
        rng.normal(0, bias[0], 4).astype(np.float32),
        1,
        1,
        beta[0],
        1.0,
        (1, 8, 8),
        (4, 8, 8),
    )
    l1 = LIFConvSpec(
        rng.normal(0, 0.5, (6, 4, 3, 3)).astype(np.float32),
        rng.normal(0, bias[1], 6).astype(np.float32),
        2,
        1,
        beta[1],
        1.0,
        (4, 8, 8),
        (6, 4, 4),
    )
    head = rng.normal(0, 0.1, (10, 96)).astype(np.float32)
    return SpikingNetSpec(
        [l0, l1],
        T,
        "current",
        [1],
        [1],
        head,
        np.zeros(10, np.float32),
        {"labels": {"set": 1, "K": 0.35, "num_classes": 10}, "in_shape": [1, 8, 8]},
    )


def test_netx_file_has_the_form_lava_dl_runs(rng, tmp_path):
    import h5py

    spec = spec_of(rng)
    paths = export_spec(spec, "loihi2", tmp_path, "netx")
    nx = netx_net(quantize_spec(spec, "loihi2"))
    with h5py.File(paths[0], "r") as f:
        layers = f["layer"]
        assert sorted(layers.keys()) == ["0", "1", "2"]
        assert set(layers["0"].keys()) == {
            "type",
            "shape",
        }  # no neuron: netx takes the graded input as is
        assert layers["0"]["type"][()] == b"input" and list(layers["0"]["shape"][()]) == [1, 8, 8]
        assert f.attrs["input_message_bits"] == 24
        for i, layer in enumerate(nx.layers, start=1):
            g = layers[str(i)]
            assert g["type"][()] == b"conv" and list(g["shape"][()]) == list(layer.out_shape)
            np.testing.assert_array_equal(g["weight"][()], layer.weight)
            np.testing.assert_array_equal(g["bias"][()], layer.bias_mant)
            assert (
                list(g["stride"][()]) == [layer.stride] * 2
                and list(g["padding"][()]) == [layer.padding] * 2
            )
            n = g["neuron"]
            assert n["type"][()] == b"CUBA" and int(n["iDecay"][()]) == 4096
            assert int(n["vDecay"][()]) == layer.dv and int(n["vThMant"][()]) == layer.vth


def test_netx_rescaling_keeps_small_biases_exactly(rng):
    """netx fixes bias_exp = 6; scaling W, vth by 2^k keeps the deployed bias exactly (β = 1)."""
    spec = spec_of(rng, bias=(0.2, 0.002))  # like a trained net: small biases after layer 0
    net = quantize_spec(spec, "loihi2")
    assert (
        min(layer.bias_exp for layer in net.layers) < NETX_BIAS_EXP
    )  # biases below 2^6 units exist
    naive = [np.rint(np.asarray(l.bias_mant) * 2.0 ** (l.bias_exp - 6)) for l in net.layers]
    assert any(
        (b == 0).sum() > (np.asarray(l.bias_mant) == 0).sum() for b, l in zip(naive, net.layers)
    )
    nx = netx_net(net)
    for layer, scaled, rep in zip(net.layers, nx.layers, netx_report(net)):
        k = rep["k"]
        assert (
            rep["bias_exact"] and scaled.bias_exp == NETX_BIAS_EXP and scaled.vth == layer.vth << k
        )
        np.testing.assert_array_equal(
            np.asarray(scaled.bias_mant) << 6, np.asarray(layer.bias_mant) << (layer.bias_exp + k)
        )
    x = rng.random((5, spec.timesteps, 1, 8, 8))
    ref, got = emulate_fixed(net, x), emulate_fixed(nx, x)
    assert sum(int(c.sum()) for c in ref) > 0
    for a, b in zip(ref, got):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_netx_scale_stops_at_the_state_and_threshold_bits(rng):
    """Where 2^k·(largest input current) would overflow u's 24 bits, or vth' its 17 bits, k stops and the bias rounds."""
    from ff_neuro.hardware.quantize import max_input_current

    net = quantize_spec(spec_of(rng, bias=(0.002, 0.002)), "loihi2")
    rep, l0 = netx_report(net)[0], net.layers[0]
    assert (
        rep["k"] < rep["k_needed"]
        and not rep["bias_exact"]
        and 0 < rep["max_bias_error_a_in"] <= 0.5
    )
    a_max = (
        max_input_current(np.asarray(l0.weight), net.input_scale * net.input_max) * 2 ** rep["k"]
    )
    assert a_max * 2**6 < 2**23 and rep["vth"] < 2**17
    assert a_max * 2**7 >= 2**23 or rep["vth"] * 2 >= 2**17


def test_observed_current_bound_raises_k_and_is_recorded(rng, tmp_path):
    """Where the worst-case current stops k short, the observed bound (1.5 × the largest |a_in| on the
    inputs) raises k: the bias error shrinks, the report says overflow is no longer impossible but the
    observed currents fit, and the file records the k used."""
    from ff_neuro.hardware.netx import (
        OBSERVED_MARGIN,
        netx_scales,
        observed_currents,
        read_scales,
        write_netx,
    )

    net = quantize_spec(spec_of(rng, bias=(0.002, 0.002)), "loihi2")
    x = rng.random((6, net.timesteps, 1, 8, 8)) * 0.2  # dim images: far below the worst case
    seen: list[int] = []
    emulate_fixed(net, x, max_current=seen)
    bounds = observed_currents(net, x)
    assert bounds == [OBSERVED_MARGIN * a for a in seen] and all(a > 0 for a in seen)
    assert observed_currents(net, x, 3.0) == [3.0 * a for a in seen]
    worst, obs = netx_scales(net), netx_scales(net, a_bounds=bounds)
    assert obs[0] > worst[0] and all(o >= w for o, w in zip(obs, worst))
    rep_w, rep_o = netx_report(net)[0], netx_report(net, ks=obs, a_bounds=bounds)[0]
    assert rep_w["overflow_impossible"] and not rep_o["overflow_impossible"]
    assert rep_o["a_in_fits_up_to"] >= bounds[0] and rep_o["a_in_bound_used"] == bounds[0]
    assert rep_o["max_bias_error_a_in"] < rep_w["max_bias_error_a_in"]
    path = write_netx(net, tmp_path / "n.net", a_bounds=bounds)
    assert read_scales(path) == (obs, "observed")
    assert read_scales(write_netx(net, tmp_path / "w.net")) == (worst, "worst-case")
    with pytest.raises(ValueError, match="current bounds"):
        netx_scales(net, a_bounds=bounds[:1])


def test_netx_needs_a_fixed_point_profile(rng, tmp_path):
    with pytest.raises(ProfileError, match="fixed-point profile"):
        export_spec(spec_of(rng), "ideal", tmp_path, "netx")
    with pytest.raises(ProfileError, match="cost estimates only"):
        export_spec(spec_of(rng), "truenorth", tmp_path, "lava")
    with pytest.raises(ProfileError, match="unknown export format"):
        export_spec(spec_of(rng), "loihi", tmp_path, "onnx")


def test_manifest_rebuilds_the_input_and_the_head_without_ff_neuro(rng, tmp_path):
    from ff_neuro.spiking.network import labels_for

    spec = spec_of(rng)
    export_spec(spec, "ideal", tmp_path, "nir", dataset="mnist")
    man = json.loads((tmp_path / "manifest.json").read_text())
    arr = np.load(tmp_path / "manifest.npz", allow_pickle=False)
    assert man["timesteps"] == 6 and man["dt"] == 1.0 and man["encoding"] == "current"
    assert (
        man["input"]["dataset"] == "mnist"
        and man["head"]["nodes"] == ["lif1"]
        and man["files"]["network"] == "network.nir"
    )
    np.testing.assert_array_equal(arr["head_weight"], spec.head_weight)
    x = torch.rand(3, 1, 8, 8)
    K, z = man["input"]["K"], None
    z = (1 - K) * x.numpy() + K * arr["neutral_pattern"]
    lo, hi = z.min((1, 2, 3), keepdims=True), z.max((1, 2, 3), keepdims=True)
    rebuilt = (z - lo) / np.maximum(hi - lo, 1e-8)
    np.testing.assert_allclose(rebuilt, labels_for(spec).neutral(x).numpy(), atol=1e-6)
    assert arr["label_patterns"].shape == (10, 8, 8)


def test_lava_npz_holds_lava_layout_and_no_pickles(rng, tmp_path):
    spec = spec_of(rng)
    export_spec(spec, "loihi", tmp_path, "lava")
    arrs = np.load(tmp_path / "lava_net.npz", allow_pickle=False)
    w = spec.layers[1].weight
    assert arrs["layer1.weight"].shape == (w.shape[0], w.shape[3], w.shape[2], w.shape[1])
    desc = json.loads((tmp_path / "lava_net.json").read_text())
    assert desc["fixed_point"] and desc["layers"][1]["stride"] == 2
    assert (
        json.loads((tmp_path / "manifest.json").read_text())["input"]["fixed_point"]["input_scale"]
        > 1
    )


def test_reset_by_subtraction_netx_needs_the_ff_neuro_neuron_type(rng, tmp_path):
    """netx refuses reset by subtraction with one line that says what to do; --netx-reset subtract
    writes CUBA_SUBTRACT neurons with the deployed bias_exp, unscaled; lava and NIR keep the reset."""
    import h5py

    spec = spec_of(rng)
    for layer in spec.layers:
        layer.reset = "subtract"
    with pytest.raises(ProfileError, match="reset by subtraction") as e:
        export_spec(spec, "loihi2", tmp_path / "netx", "netx")
    msg = str(e.value)
    assert "\n" not in msg and "--netx-reset subtract" in msg and "--format nir" in msg
    path = export_spec(spec, "loihi2", tmp_path / "netx", "netx", netx_reset="subtract")[0]
    net = quantize_spec(spec, "loihi2")
    with h5py.File(path, "r") as f:
        for i, layer in enumerate(net.layers, start=1):
            n = f["layer"][str(i)]["neuron"]
            assert n["type"][()] == b"CUBA_SUBTRACT" and int(n["biasExp"][()]) == layer.bias_exp
            np.testing.assert_array_equal(f["layer"][str(i)]["weight"][()], layer.weight)
            assert int(n["vThMant"][()]) == layer.vth
        assert list(f.attrs["scale_k"]) == [0] * len(net.layers)
    man = json.loads((tmp_path / "netx" / "manifest.json").read_text())
    assert man["reset"]["mode"] == "subtract" and "netx_reset_subtract" in str(man["clients"])
    export_spec(spec, "loihi2", tmp_path / "lava", "lava")
    desc = json.loads((tmp_path / "lava" / "lava_net.json").read_text())
    assert [layer["reset"] for layer in desc["layers"]] == ["subtract"] * len(spec.layers)
    export_spec(spec, "loihi2", tmp_path / "nir", "nir")


def test_netx_reset_is_for_subtractive_netx_only(rng, tmp_path):
    import h5py

    spec = spec_of(rng)
    with pytest.raises(ProfileError, match="resets to zero"):
        export_spec(spec, "loihi2", tmp_path, "netx", netx_reset="subtract")
    with pytest.raises(ProfileError, match="for --format netx"):
        export_spec(spec, "loihi2", tmp_path, "nir", netx_reset="subtract")
    path = export_spec(spec, "loihi2", tmp_path, "netx")[0]  # reset to zero: CUBA, as before
    with h5py.File(path, "r") as f:
        assert f["layer"]["1"]["neuron"]["type"][()] == b"CUBA"
        assert "biasExp" not in f["layer"]["1"]["neuron"]
