"""Conversion of the tiny trained FF-CNN (real MNIST) to LIF networks, the CLI, and the error paths."""

import json

import pytest
import torch

from ff_neuro.checkpoint import load_checkpoint, save_checkpoint
from ff_neuro.cli import main
from ff_neuro.errors import CheckpointError
from ff_neuro.ff import open_run
from ff_neuro.spiking import (
    EncodingError,
    SpikingNetwork,
    TimestepsError,
    VariantError,
    run_spec,
    simulate_spec,
    spec_input,
    spiking_spec_from_run,
)

N_TEST = 200
TOLERANCE = (
    0.05  # converted linear accuracy at T = 16 within 5 pp of the rate model on the same images
)


@pytest.fixture(scope="module")
def test_batch(mnist_small):
    x = torch.from_numpy(mnist_small.test.x[:N_TEST]).unsqueeze(1).float() / 255
    return x, torch.from_numpy(mnist_small.test.y[:N_TEST])


@pytest.mark.parametrize("variant", ["exact", "static"])
def test_conversion_keeps_accuracy(tiny_run, mnist_small, test_batch, variant):
    run_dir, _ = tiny_run
    x, y = test_batch
    net, head, labels = open_run(run_dir).parts
    with torch.no_grad():
        rate_acc = (head(net.features(net(labels.neutral(x)))).argmax(1) == y).float().mean().item()
    spec = spiking_spec_from_run(
        run_dir, 16, "current", variant, dataset=mnist_small, calib_samples=50
    )
    assert spec.deployable == (variant == "static")
    acc = (SpikingNetwork(spec).predict_linear(x) == y).float().mean().item()
    assert acc >= rate_acc - TOLERANCE, (variant, acc, rate_acc)


def test_static_spec_runs_through_simulate_spec(tiny_run, mnist_small, test_batch):
    run_dir, _ = tiny_run
    spec = spiking_spec_from_run(
        run_dir, 8, "rate", "static", dataset=mnist_small, calib_samples=50
    )
    x = test_batch[0][:4]
    sn = SpikingNetwork(spec)
    trains = simulate_spec(
        spec, spec_input(spec, sn.labels.neutral(x), torch.Generator().manual_seed(0))
    )
    counts = sn.spike_counts(sn.labels.neutral(x), torch.Generator().manual_seed(0))
    assert [tuple(t.shape) for t in trains] == [(8, 4, *layer.out_shape) for layer in spec.layers]
    assert all(torch.equal(t.sum(0), c) for t, c in zip(trains, counts))
    assert spec.meta["variant"] == "static" and len(spec.meta["rho"]) == len(spec.layers)


def test_spike_cli_writes_metrics(tiny_run, capsys):
    run_dir, _ = tiny_run
    assert (
        main(
            [
                "spike",
                str(run_dir),
                "--timesteps",
                "2,4",
                "--samples",
                "10",
                "--variant",
                "static",
                "--calib-samples",
                "20",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    m = json.loads((run_dir / "spike_metrics.json").read_text())
    assert set(m) == {"rate", "samples", "split", "results", "firing_rates"}
    assert (
        m["samples"] == 10
        and m["split"] == "test"
        and [r["timesteps"] for r in m["results"]] == [2, 4]
    )
    r = m["results"][0]
    assert set(r) == {
        "variant",
        "encoding",
        "timesteps",
        "acc_linear",
        "acc_goodness",
        "spikes_per_inference",
        "spikes_total",
        "seconds",
        "goodness_predictions_per_class",
    }
    assert (
        sum(r["goodness_predictions_per_class"]) == 10
        and len(r["goodness_predictions_per_class"]) == 10
    )
    assert r["acc_goodness"] is not None and set(m["firing_rates"]) == {
        "layer0",
        "layer1",
        "layer2",
    }
    assert (
        abs(sum(r["spikes_per_inference"].values()) - r["spikes_total"])
        < 1e-6 * r["spikes_total"] + 1e-9
    )
    assert "rate model" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, err",
    [
        (["--timesteps", "0"], "integers >= 1"),
        (["--timesteps", "8,x"], "integers >= 1"),
        (["--variant", "dynamic"], "unknown spiking variant 'dynamic'"),
    ],
)
def test_spike_cli_bad_input(tiny_run, capsys, args, err):
    run_dir, _ = tiny_run
    assert main(["spike", str(run_dir), "--samples", "5", *args]) == 2
    assert err in capsys.readouterr().err


def test_api_bad_input(tiny_run, mnist_small):
    run_dir, _ = tiny_run
    with pytest.raises(TimestepsError):
        spiking_spec_from_run(run_dir, 0, dataset=mnist_small)
    with pytest.raises(EncodingError):
        spiking_spec_from_run(run_dir, 8, "latency", dataset=mnist_small)
    with pytest.raises(VariantError):
        spiking_spec_from_run(run_dir, 8, "current", "dynamic", dataset=mnist_small)


def test_wrong_checkpoint_kind(tiny_run, tmp_path, capsys):
    tensors, meta = load_checkpoint(tiny_run[0] / "best.safetensors")
    save_checkpoint(tmp_path / "best.safetensors", tensors, {**meta, "kind": "lava"})
    with pytest.raises(CheckpointError, match="kind 'lava'"):
        open_run(tmp_path)
    assert main(["spike", str(tmp_path), "--samples", "5"]) == 2
    assert "kind 'lava'" in capsys.readouterr().err
    (tmp_path / "x").mkdir()
    with pytest.raises(CheckpointError, match="no checkpoint"):
        open_run(tmp_path / "x")


def test_device_auto_is_resolved_by_the_loaders(tiny_run, mnist_small):
    """`ff-neuro report` passes device="auto" through; it used to reach torch unresolved and crash."""
    run = open_run(tiny_run[0], device="auto", dataset=mnist_small)
    snn = SpikingNetwork(run_spec(run, timesteps=2, device=run.device)[0], device=run.device)
    assert snn.device.type in ("cpu", "cuda")
    assert snn.predict_linear(mnist_small.test.tensors(3)[0]).shape == (3,)
