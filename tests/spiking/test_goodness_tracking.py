"""On a small FF-CNN trained in spike units (norm none, relu1) on real MNIST, the goodness classifier from
spike counts tracks the rate model's goodness: the bound tightens with T, as the quantisation of counts
over T steps shrinks (reset by subtraction quantises each rate uniformly, with error < 1/T)."""

import pytest
import torch

from tests.conftest import tiny_config

NATIVE_MODEL = {
    "layers": [
        {"channels": 8, "kernel": 5, "stride": 2, "train": False, "activation_scale": 1.7},
        {"channels": 32, "kernel": 5, "stride": 2},
        {"channels": 32, "kernel": 5},
    ],
    "loss_layers": [1, 2],
    "readout_layers": [1, 2],
    "norm": "none",
    "activation": "relu1",
    "activation_scale": 4.0,
}


@pytest.fixture(scope="module")
def native_run(tmp_path_factory, mnist_small):
    from ff_neuro.config import from_dict
    from ff_neuro.ff import train

    d = tiny_config(epochs=2, lr=2e-3).to_dict()
    d["model"].update(NATIVE_MODEL)
    d["labels"]["K"] = 0.5
    d["goodness"].update({"measure": "mean", "loss": "symba", "scale": 8.0, "negatives": "uniform"})
    out = tmp_path_factory.mktemp("native_run")
    train(from_dict(d), out, device="cpu", dataset=mnist_small, progress=False)
    return out


def test_spike_goodness_tracks_rate_goodness(native_run, mnist_small):
    from ff_neuro.ff import open_run
    from ff_neuro.ff.classify import goodness_scores
    from ff_neuro.spiking import SpikingNetwork
    from ff_neuro.spiking.convert import convert

    run = open_run(native_run, dataset=mnist_small)
    (net, head, labels), cfg = run.parts, run.cfg
    x, y = mnist_small.test.tensors(300)
    with torch.no_grad():
        rate = goodness_scores(net, labels, x)
    rate_acc = float((rate.argmax(1) == y).float().mean())
    assert rate_acc > 0.3  # the model did learn a goodness classifier (chance: 0.1)
    cx, cy = run.calibration_images(20)
    gaps, agree, rel = {}, {}, {}
    for T in (16, 64):
        spec = convert(net, head, labels, cfg, "rate", cx, cy, T, "current", "static")
        assert {layer.reset for layer in spec.layers} == {"subtract"}
        spk = SpikingNetwork(spec, max_batch_steps=4096).goodness_scores(x)
        gaps[T] = abs(float((spk.argmax(1) == y).float().mean()) - rate_acc)
        agree[T] = float((spk.argmax(1) == rate.argmax(1)).float().mean())
        rel[T] = float(((spk - rate).abs() / rate.abs().clamp_min(1e-6)).median())
    print("rate", rate_acc, "gaps", gaps, "agree", agree, "median relative score error", rel)
    # Scores in the rate model's units: the counts of reset by subtraction are ⌈T·I⌉ − 1, half a spike low
    # on average, so the scores are biased low (the same for every label); the error shrinks as 1/T.
    # Measured 2026-11-27: median 0.44 at T = 16, 0.13 at T = 64; accuracy gaps 0.3 / 1.3 pp; argmax
    # agreement 79 / 96 %.
    assert rel[64] < 0.6 * rel[16], rel
    # stated bounds: accuracy within 6 pp at T = 16 and 3 pp at T = 64; argmax agreement ≥ 90 % at T = 64
    assert gaps[16] <= 0.06 and gaps[64] <= 0.03, gaps
    assert agree[64] > agree[16] and agree[64] >= 0.9, agree


def test_a_native_spec_records_that_it_needs_no_calibration(native_run, mnist_small):
    """A model trained in spike units converts without calibration: its saved spec and the default
    conversion record "none: native spike units", not percentile and calibration images."""
    from ff_neuro.ff import open_run
    from ff_neuro.spiking import load_spec, run_spec, spec_path, spike_run
    from ff_neuro.spiking.store import NATIVE

    run = open_run(native_run, dataset=mnist_small)
    spike_run(run, [4], ["current"], 5, ["static"], "cpu", goodness=False)
    _, doc = load_spec(spec_path(native_run, "static", "current", 4), run)
    assert (
        doc["calibration"] == {"calibration": NATIVE} == {"calibration": "none: native spike units"}
    )
    with pytest.warns(UserWarning, match="native spike units: no calibration"):
        _, source = run_spec(run, 5)
    assert source == {"saved": None, "calibration": {"calibration": NATIVE}}
