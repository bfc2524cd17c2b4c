"""Direct FF training of the spiking network on a real MNIST subset, through the shared trainer."""
import pytest
import torch

from ff_neuro.config import ConfigError
from ff_neuro.data import Dataset
from ff_neuro.ff.trainer import evaluate_run, load_run, train
from ff_neuro.spiking import spike_run
from ff_neuro.spiking.model import SpikingModel

from ..conftest import tiny_config


@pytest.fixture(scope="module")
def spiking_run(tmp_path_factory, mnist):
    data = Dataset("mnist", mnist.train.subset(1000, 5), mnist.val.subset(100, 6), mnist.test.subset(200, 7),
                   mnist.class_names)
    cfg = tiny_config(epochs=1, val_goodness=False).replace(spiking={"timesteps": 4})
    out = tmp_path_factory.mktemp("spiking_run")
    return out, train(cfg, out, device="cpu", kind="spiking", dataset=data, progress=False), data


@pytest.mark.slow
def test_direct_spiking_training_beats_chance(spiking_run):
    out, m, data = spiking_run
    assert m["kind"] == "spiking"
    assert m["test_acc_linear"] > 0.5            # chance is 0.1
    assert m["test_acc_goodness"] is not None
    model, cfg, meta = load_run(out, "cpu")
    assert isinstance(model, SpikingModel) and meta["kind"] == "spiking"
    assert evaluate_run(out, "test", "cpu", data)["test_acc_linear"] == m["test_acc_linear"]


@pytest.mark.slow
def test_spike_run_on_a_spiking_checkpoint(spiking_run):
    out, m, data = spiking_run
    r = spike_run(out, [4], ["current"], 50, ["exact", "static"], "cpu", goodness=False, calib_samples=20,
                  dataset=data)
    exact = r["results"][0]
    assert exact["variant"] == "exact" and exact["acc_linear"] == r["rate"]["acc_linear"]  # the trained network
    assert r["results"][1]["acc_linear"] > 0.3


@pytest.mark.slow
def test_training_has_no_gradient_across_layers(spiking_run):
    model = load_run(spiking_run[0], "cpu")[0]
    x = torch.rand(4, 1, 28, 28)
    s = model._layer(0, model.labels.neutral(x).unsqueeze(0).expand(4, 4, 1, 28, 28).requires_grad_(), True)
    assert not s.requires_grad or s.grad_fn is not None
    s1 = model._layer(1, s, True)
    s1.sum().backward()                          # the input of a layer is detached inside _layer
    assert model.net.layers[1].conv.weight.grad is not None and model.net.layers[0].conv.weight.grad is None


def test_bp_is_refused():
    with pytest.raises(ConfigError, match="--model rate"):
        SpikingModel(tiny_config(method="bp"))


def test_train_step_updates_only_trainable_layers():
    torch.manual_seed(0)
    model = SpikingModel(tiny_config().replace(spiking={"timesteps": 3}))
    before = [layer.conv.weight.detach().clone() for layer in model.net.layers]
    x, y = torch.rand(6, 1, 28, 28), torch.arange(6)
    out = model.train_step(x, y, torch.Generator().manual_seed(0))
    assert set(out) == {"layer1", "layer2", "head", "total"} and all(torch.isfinite(v) for v in out.values())
    after = [layer.conv.weight.detach() for layer in model.net.layers]
    assert torch.equal(before[0], after[0])                      # layer 0 is not trained (train: false)
    assert not torch.equal(before[1], after[1]) and not torch.equal(before[2], after[2])
    assert model.net.thresholds[1] == 0.05 * 16 * 28 * 28
