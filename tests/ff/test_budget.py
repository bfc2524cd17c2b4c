"""train.budget_minutes: the epochs that fit, decided once from measurements, recorded, kept on
resume; a budgeted run is exactly the config with that many epochs."""

import json

import pytest
import torch
import yaml

from ff_neuro.checkpoint import load_checkpoint
from ff_neuro.errors import ConfigError
from ff_neuro.ff import train
from ff_neuro.ff import trainer as trainer_mod
from ff_neuro.ff.budget import Budget, epochs_within
from tests.conftest import tiny_config


def test_epochs_within_is_the_formula():
    # (600 − 10 − 50) / 100 = 5.4 → 5 whole epochs
    assert epochs_within(600.0, 10.0, 100.0, 50.0, requested=10) == 5
    assert epochs_within(600.0, 10.0, 100.0, 50.0, requested=3) == 3  # never more than asked
    assert epochs_within(60.0, 10.0, 100.0, 50.0, requested=10) == 1  # never fewer than one
    assert epochs_within(640.0, 0.0, 100.0, 40.0, requested=10) == 6  # exactly full: 6 fit


class Stop(Exception):
    pass


def fixed_decision(epochs: int, requested: int):
    def decide(minutes, requested_, *a, **k):
        assert requested_ == requested
        return Budget(minutes, epochs, requested, 0.1, 4, 1.0, 1.0, 0.5)

    return decide


def test_a_budgeted_run_is_the_config_with_the_decided_epochs_and_resumes_without_measuring(
    mnist_small, tmp_path, monkeypatch
):
    cfg = tiny_config(epochs=4, schedule="cosine", val_goodness=False)
    budgeted = cfg.replace(train={"budget_minutes": 5.0})
    monkeypatch.setattr(trainer_mod, "decide", fixed_decision(3, 4))

    def stop_after_first(record):
        if record["epoch"] == 1:
            raise Stop

    with pytest.raises(Stop):
        train(
            budgeted,
            tmp_path / "b",
            "cpu",
            dataset=mnist_small,
            progress=False,
            on_epoch=stop_after_first,
        )

    def no_measuring(*a, **k):
        raise AssertionError("a resumed budgeted run measured again")

    monkeypatch.setattr(trainer_mod, "decide", no_measuring)
    m = train(budgeted, tmp_path / "b", "cpu", resume=True, dataset=mnist_small, progress=False)
    plain = train(
        cfg.replace(train={"epochs": 3}), tmp_path / "p", "cpu", dataset=mnist_small, progress=False
    )

    assert m["epochs"] == 3 and m["budget"]["epochs"] == 3 and m["budget"]["requested_epochs"] == 4
    assert [h["epoch"] for h in m["history"]] == [1, 2, 3]
    # the cosine schedule ran over the 3 decided epochs: the same lr, weights and losses as epochs: 3
    assert [h["lr_factor"] for h in m["history"]] == [h["lr_factor"] for h in plain["history"]]
    assert [h["loss"] for h in m["history"]] == [h["loss"] for h in plain["history"]]
    tb, meta = load_checkpoint(tmp_path / "b" / "checkpoint.safetensors")
    tp, _ = load_checkpoint(tmp_path / "p" / "checkpoint.safetensors")
    for k in tp:
        assert torch.equal(tb[k], tp[k]), k
    assert meta["budget"]["epochs"] == 3
    saved = yaml.safe_load((tmp_path / "b" / "config.yaml").read_text())
    assert saved["train"]["epochs"] == 3 and saved["train"]["budget_minutes"] == 5.0
    assert m["budget"]["wall_s"] > 0


def test_the_measured_decision_follows_its_own_record(mnist_small, tmp_path):
    """Real measurements on a real MNIST subset: a generous budget trains every epoch, one far too
    small still trains one; each decision is the formula applied to its recorded numbers."""
    cfg = tiny_config(epochs=2, val_goodness=False)
    for name, minutes, want in (("big", 600.0, 2), ("small", 1e-4, 1)):
        m = train(
            cfg.replace(train={"budget_minutes": minutes}),
            tmp_path / name,
            "cpu",
            dataset=mnist_small,
            progress=False,
        )
        b = m["budget"]
        assert m["epochs"] == b["epochs"] == want == len(m["history"])
        assert b["step_s"] > 0 and b["val_s"] > 0 and b["test_s"] > 0
        assert b["estimated_epoch_s"] == pytest.approx(
            b["steps_per_epoch"] * b["step_s"] + b["val_s"], abs=2e-3
        )
        assert b["epochs"] == epochs_within(
            60 * minutes, b["spent_s"], b["estimated_epoch_s"], b["test_s"], 2
        )
        assert json.loads((tmp_path / name / "metrics.json").read_text())["budget"] == b


def test_a_budget_must_be_positive():
    with pytest.raises(ConfigError, match="budget_minutes"):
        tiny_config(budget_minutes=0)
