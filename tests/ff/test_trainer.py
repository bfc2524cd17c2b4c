"""Trainer mechanics on small synthetic data: schedule, checkpoints, resume, divergence."""

import json

import numpy as np
import pytest
import torch

from ff_neuro.checkpoint import load_checkpoint, save_checkpoint
from ff_neuro.data import Dataset, Split
from ff_neuro.errors import CheckpointError, TrainingDivergedError
from ff_neuro.ff import cooldown_factor, evaluate_run, train
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(0)
    mk = lambda n: Split(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n))  # noqa: E731
    return Dataset("synthetic", mk(200), mk(50), mk(50), [str(i) for i in range(10)])


def small_cfg(**train):
    cfg = tiny_config(**{"epochs": 2, "val_goodness": False, **train})
    return cfg.replace(
        model={
            "layers": [
                {"channels": 4, "kernel": 3, "train": False},
                {"channels": 4, "kernel": 3},
                {"channels": 4, "kernel": 3},
            ]
        }
    )


def test_cooldown_schedule():
    e = 10
    assert [cooldown_factor(i, e) for i in range(1, 6)] == [1.0] * 5
    assert cooldown_factor(6, e) == pytest.approx(2 * (1 + 10 - 6) / 10)  # 1.0, capped
    assert cooldown_factor(7, e) == pytest.approx(0.8)
    assert cooldown_factor(10, e) == pytest.approx(0.2)
    assert cooldown_factor(200, 200) == pytest.approx(0.01)


def test_outputs_and_metrics(synthetic, tmp_path):
    m = train(small_cfg(), tmp_path, device="cpu", dataset=synthetic, progress=False)
    for f in (
        "metrics.json",
        "metrics.jsonl",
        "checkpoint.safetensors",
        "best.safetensors",
        "config.yaml",
    ):
        assert (tmp_path / f).exists()
    saved = json.loads((tmp_path / "metrics.json").read_text())
    for key in (
        "test_acc_linear",
        "test_acc_goodness",
        "best_val_acc_linear",
        "epochs",
        "train_seconds",
        "device",
        "config",
    ):
        assert key in saved
    assert saved["epochs"] == 2 and saved["device"] == "cpu"
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(s)["epoch"] for s in lines] == [1, 2]
    assert set(json.loads(lines[0])["loss"]) == {"layer1", "layer2", "head", "total"}
    assert m["test_acc_goodness"] is not None


@pytest.mark.parametrize("shift,flip", [(0, False), (2, True)])
def test_resume_is_exact(synthetic, tmp_path, shift, flip):
    straight = train(
        small_cfg(epochs=3, augment_shift=shift, augment_flip=flip),
        tmp_path / "a",
        device="cpu",
        dataset=synthetic,
        progress=False,
    )
    train(
        small_cfg(epochs=1, augment_shift=shift, augment_flip=flip),
        tmp_path / "b",
        device="cpu",
        dataset=synthetic,
        progress=False,
    )
    resumed = train(
        small_cfg(epochs=3, augment_shift=shift, augment_flip=flip),
        tmp_path / "b",
        device="cpu",
        resume=True,
        dataset=synthetic,
        progress=False,
    )
    ta, _ = load_checkpoint(tmp_path / "a" / "checkpoint.safetensors")
    tb, mb = load_checkpoint(tmp_path / "b" / "checkpoint.safetensors")
    assert mb["epoch"] == 3 and ta.keys() == tb.keys()
    for k in ta:
        assert torch.equal(ta[k], tb[k]), k
    assert [h["loss"] for h in straight["history"]] == [h["loss"] for h in resumed["history"]]


def test_existing_run_needs_resume(synthetic, tmp_path):
    train(small_cfg(epochs=1), tmp_path, device="cpu", dataset=synthetic, progress=False)
    with pytest.raises(CheckpointError, match="--resume"):
        train(small_cfg(epochs=1), tmp_path, device="cpu", dataset=synthetic, progress=False)
    with pytest.raises(CheckpointError, match="another config"):
        train(
            small_cfg(epochs=2, batch_size=25),
            tmp_path,
            device="cpu",
            dataset=synthetic,
            resume=True,
            progress=False,
        )


def test_nan_stops_and_keeps_last_good_checkpoint(synthetic, tmp_path, monkeypatch):
    train(small_cfg(epochs=1), tmp_path, device="cpu", dataset=synthetic, progress=False)
    before = load_checkpoint(tmp_path / "checkpoint.safetensors")[0]
    from ff_neuro.ff import model as model_mod

    real_step = model_mod.RateModel.train_step

    def poisoned(self, x, y, gen):
        out = real_step(self, x, y, gen)
        out["layer1"] = out["layer1"] * float("nan")
        return out

    monkeypatch.setattr(model_mod.RateModel, "train_step", poisoned)
    with pytest.raises(TrainingDivergedError, match="non-finite loss") as e:
        train(
            small_cfg(epochs=2),
            tmp_path,
            device="cpu",
            dataset=synthetic,
            resume=True,
            progress=False,
        )
    assert "\n" not in str(e.value)
    after, meta = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert meta["epoch"] == 1 and all(torch.equal(before[k], after[k]) for k in before)


def test_corrupted_checkpoint(tmp_path):
    save_checkpoint(tmp_path / "c.safetensors", {"w": torch.ones(3)}, {"epoch": 1})
    t, meta = load_checkpoint(
        tmp_path / "c.safetensors", check=False
    )  # not a run checkpoint: no config
    assert torch.equal(t["w"], torch.ones(3)) and meta == {"epoch": 1}
    blob = (tmp_path / "c.safetensors").read_bytes()
    (tmp_path / "c.safetensors").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(tmp_path / "c.safetensors")
    (tmp_path / "pickle.safetensors").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(tmp_path / "pickle.safetensors")
    with pytest.raises(CheckpointError, match="train first"):
        load_checkpoint(tmp_path / "missing.safetensors")


@pytest.mark.parametrize("method", ["bp", "random"])
def test_controls_train_and_have_no_goodness(synthetic, tmp_path, method):
    m = train(
        small_cfg(epochs=1, method=method),
        tmp_path,
        device="cpu",
        dataset=synthetic,
        progress=False,
    )
    assert m["test_acc_goodness"] is None and m["method"] == method
    r = evaluate_run(tmp_path, "test", "cpu", dataset=synthetic)
    assert r["test_acc_linear"] == m["test_acc_linear"]


def test_random_control_keeps_conv_weights(synthetic, tmp_path):
    torch.manual_seed(0)
    train(
        small_cfg(epochs=1, method="random"),
        tmp_path,
        device="cpu",
        dataset=synthetic,
        progress=False,
    )
    from ff_neuro.ff import RateModel

    torch.manual_seed(small_cfg().train.seed)
    fresh = RateModel(small_cfg(method="random"))
    t, _ = load_checkpoint(tmp_path / "best.safetensors")
    for k, v in fresh.net.state_dict().items():
        assert torch.equal(t[f"net.{k}"], v)


def test_sequential_posneg_matches_batched():
    """Two passes (positives, then negatives) give the batched step's losses and gradients."""
    from ff_neuro.ff import RateModel

    x, y = torch.rand(6, 1, 28, 28), torch.tensor([0, 1, 2, 3, 4, 5])
    grads, losses = [], []
    for mode in ("batched", "sequential"):
        torch.manual_seed(0)
        m = RateModel(small_cfg(ff_posneg=mode))
        out = m._ff_backward(x, y, torch.Generator().manual_seed(1))
        losses.append(torch.stack([out["layer1"], out["layer2"]]))
        grads.append(
            torch.cat([p.grad.flatten() for p in m.net.parameters() if p.grad is not None])
        )
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-4, atol=1e-6)
