"""train.budget_minutes: the epochs that fit, decided before the first step from measurements and
again after every epoch from what the epochs took, recorded, kept on resume; a budgeted run is
exactly the config with that many epochs (and, once re-planned, the re-planned schedule)."""

import json
import math

import pytest
import torch
import yaml

from ff_neuro.checkpoint import load_checkpoint
from ff_neuro.errors import ConfigError
from ff_neuro.ff import train
from ff_neuro.ff import trainer as trainer_mod
from ff_neuro.ff.budget import Budget, epochs_within, replan
from ff_neuro.ff.trainer import lr_factor
from tests.conftest import tiny_config


def test_epochs_within_is_the_formula():
    # (600 − 10 − 50) / 100 = 5.4 → 5 whole epochs
    assert epochs_within(600.0, 10.0, 100.0, 50.0, requested=10) == 5
    assert epochs_within(600.0, 10.0, 100.0, 50.0, requested=3) == 3  # never more than asked
    assert epochs_within(60.0, 10.0, 100.0, 50.0, requested=10) == 1  # never fewer than one
    assert epochs_within(640.0, 0.0, 100.0, 40.0, requested=10) == 6  # exactly full: 6 fit


def test_replan_is_the_formula():
    b = Budget(10.0, 3, 10, 0.1, 1000, 5.0, 20.0, 10.0)
    # epoch 1 took 110 − 10 = 100 s; (600 − 110 − 20) / 100 = 4.7 → 4 more: 5 epochs
    r = replan(b, 1, 110.0)
    assert (r.epochs, r.plans, r.mark_s, r.epoch_s_used) == (5, ((0, 3), (1, 5)), 110.0, 100.0)
    # epoch 2 took 150 s (the machine slowed down): t_e = max(150, 260 / 2 = 125) = 150;
    # (600 − 260 − 20) / 150 = 2.13 → 2 more: 4 epochs
    r2 = replan(r, 2, 260.0)
    assert (r2.epochs, r2.plans, r2.epoch_s_used) == (4, ((0, 3), (1, 5), (2, 4)), 150.0)
    # epoch 3 took 90 s: t_e = max(90, 340 / 3 = 113.3); (600 − 350 − 20) / 113.3 = 2.03 → 5 epochs,
    # but a longer plan must fit at 1.05 t_e = 119: 230 / 119 = 1.93 → 4, so the plan stays at 4
    r3 = replan(r2, 3, 350.0)
    assert (r3.epochs, r3.plans) == (4, r2.plans) and r3.epoch_s_used == pytest.approx(340 / 3)
    # epoch 3 took 60 s: t_e = max(60, 320 / 3 = 106.7); 250 / (1.05 · 106.7) = 2.23 → 5 epochs
    r3 = replan(r2, 3, 330.0)
    assert (r3.epochs, r3.plans[-1]) == (5, (3, 5))
    same = replan(b, 1, 160.0)  # (600 − 160 − 20) / 150 = 2.8 → 3: no change, no new plan
    assert same.epochs == 3 and same.plans == ((0, 3),)
    assert replan(b, 1, 400.0).epochs == 1  # slower than estimated: the run ends now
    assert replan(b._replace(minutes=100.0), 1, 110.0).epochs == 10  # never more than asked
    assert Budget.from_record(r2.record()) == r2
    assert Budget.from_record(b.record()) == b  # records written before re-planning existed


def test_replanned_cosine_by_hand():
    # first plan 2 epochs × 5 steps, warm-up 10 % of 10 = 1 step; re-planned to 4 epochs after epoch 1
    plans = ((0, 2), (1, 4))
    f = [lr_factor("cosine", e, 4, s, 5, 0.1, plans) for e in (1, 2, 3, 4) for s in range(5)]
    plain2 = [lr_factor("cosine", 1, 2, s, 5, 0.1) for s in range(5)]
    assert f[:5] == plain2  # epoch 1 as it ran
    p1 = 4 / 9  # where the first plan stood at step 5
    for s in range(5, 20):
        p = p1 + (1 - p1) * (s - 5) / 15
        assert f[s] == pytest.approx(0.5 * (1 + math.cos(math.pi * p)))
    assert f[5] == pytest.approx(lr_factor("cosine", 2, 2, 0, 5, 0.1))  # continuous
    assert all(a > b for a, b in zip(f[1:], f[2:]))  # decays monotonically after the warm-up
    # and again after epoch 2, down to 3 epochs: the rest from p2 over the 5 steps left
    g = [
        lr_factor("cosine", e, 3, s, 5, 0.1, (*plans, (2, 3))) for e in (1, 2, 3) for s in range(5)
    ]
    assert g[:10] == f[:10]
    p2 = p1 + (1 - p1) * 5 / 15
    for s in range(10, 15):
        p = p2 + (1 - p2) * (s - 10) / 5
        assert g[s] == pytest.approx(0.5 * (1 + math.cos(math.pi * p)))
    # one plan is the plain schedule, bit for bit
    one = [lr_factor("cosine", e, 2, s, 5, 0.1, ((0, 2),)) for e in (1, 2) for s in range(5)]
    assert one == [lr_factor("cosine", e, 2, s, 5, 0.1) for e in (1, 2) for s in range(5)]
    # a warm-up longer than epoch 1 (W = 8 of the first plan's 10 steps) runs on, then the cosine
    h = [
        lr_factor("cosine", e, 3, s, 5, 0.8, ((0, 2), (1, 3))) for e in (1, 2, 3) for s in range(5)
    ]
    assert h[:8] == pytest.approx([(s + 1) / 8 for s in range(8)])
    assert h[8:] == pytest.approx(
        [0.5 * (1 + math.cos(math.pi * (s - 8) / 7)) for s in range(8, 15)]
    )


class Stop(Exception):
    pass


def fixed_decision(epochs: int, requested: int):
    def decide(minutes, requested_, *a, **k):
        assert requested_ == requested
        return Budget(minutes, epochs, requested, 0.1, 4, 1.0, 1.0, 0.5)

    return decide


def _stopped_after_first_epoch(cfg, out, dataset):
    """Train ``cfg`` into ``out`` and stop it (as a crash would) after its first epoch's checkpoint."""

    def stop_after_first(record):
        if record["epoch"] == 1:
            raise Stop

    with pytest.raises(Stop):
        train(cfg, out, "cpu", dataset=dataset, progress=False, on_epoch=stop_after_first)


def test_a_budgeted_run_is_the_config_with_the_decided_epochs_and_resumes_without_measuring(
    mnist_small, tmp_path, monkeypatch
):
    cfg = tiny_config(epochs=4, schedule="cosine", val_goodness=False)
    budgeted = cfg.replace(train={"budget_minutes": 5.0})
    monkeypatch.setattr(trainer_mod, "decide", fixed_decision(3, 4))
    monkeypatch.setattr(
        trainer_mod, "replan", lambda b, epoch, elapsed: b
    )  # the first decision alone

    _stopped_after_first_epoch(budgeted, tmp_path / "b", mnist_small)

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


def test_a_replanned_run_follows_the_replanned_schedule_and_resumes_exactly(
    mnist_small, tmp_path, monkeypatch
):
    """The first decision (2 of 4 epochs, fixed here) was pessimistic: after epoch 1 the real time
    of this tiny run fits all 4, the schedule spreads its rest over them, and a run stopped after
    epoch 1 and resumed (keeping the plan) ends with the same weights as the one not stopped. The
    re-plan sees a clock of 2 s per epoch, not the wall clock: on a loaded machine a real epoch of
    this run once took long enough to fit only 3 (CI beside a training job, 2026-12-06)."""
    cfg = tiny_config(epochs=4, schedule="cosine", val_goodness=False)
    budgeted = cfg.replace(train={"budget_minutes": 5.0})
    monkeypatch.setattr(trainer_mod, "decide", fixed_decision(2, 4))
    monkeypatch.setattr(
        trainer_mod, "replan", lambda b, epoch, elapsed: replan(b, epoch, 0.5 + 2.0 * epoch)
    )
    m = train(budgeted, tmp_path / "whole", "cpu", dataset=mnist_small, progress=False)
    assert m["epochs"] == 4 and [h["epoch"] for h in m["history"]] == [1, 2, 3, 4]
    b = m["budget"]
    assert (b["plans"], b["epochs"], b["requested_epochs"]) == ([[0, 2], [1, 4]], 4, 4)
    assert m["history"][0]["replanned"] == [2, 4]
    assert all("replanned" not in h for h in m["history"][1:])  # all 4 fit: no later change
    steps = b["steps_per_epoch"]
    assert [h["lr_factor"] for h in m["history"]] == [
        lr_factor("cosine", e, 4, 0, steps, cfg.train.warmup, ((0, 2), (1, 4)))
        for e in (1, 2, 3, 4)
    ]
    assert m["history"][0]["lr_factor"] == lr_factor("cosine", 1, 2, 0, steps, cfg.train.warmup)
    saved = yaml.safe_load((tmp_path / "whole" / "config.yaml").read_text())
    assert saved["train"]["epochs"] == 4

    _stopped_after_first_epoch(budgeted, tmp_path / "r", mnist_small)
    _, meta = load_checkpoint(tmp_path / "r" / "checkpoint.safetensors")
    assert meta["budget"]["epochs"] == 4 and meta["budget"]["plans"] == [[0, 2], [1, 4]]

    def no_measuring(*a, **k):
        raise AssertionError("a resumed budgeted run measured again")

    monkeypatch.setattr(trainer_mod, "decide", no_measuring)
    r = train(budgeted, tmp_path / "r", "cpu", resume=True, dataset=mnist_small, progress=False)
    assert [h["loss"] for h in r["history"]] == [h["loss"] for h in m["history"]]
    tw, _ = load_checkpoint(tmp_path / "whole" / "checkpoint.safetensors")
    tr, _ = load_checkpoint(tmp_path / "r" / "checkpoint.safetensors")
    for k in tw:
        assert torch.equal(tw[k], tr[k]), k


def test_a_run_slower_than_estimated_stops_earlier(mnist_small, tmp_path, monkeypatch):
    """The first decision says 3 epochs fit a budget that epoch 1 alone overruns: the run stops
    after epoch 1 (and its record says so) instead of running 2 more epochs past the budget."""
    cfg = tiny_config(epochs=4, schedule="cosine", val_goodness=False)
    monkeypatch.setattr(trainer_mod, "decide", fixed_decision(3, 4))
    m = train(
        cfg.replace(train={"budget_minutes": 1e-6}),
        tmp_path / "s",
        "cpu",
        dataset=mnist_small,
        progress=False,
    )
    assert m["epochs"] == 1 and len(m["history"]) == 1
    assert m["history"][0]["replanned"] == [3, 1]
    assert (m["budget"]["plans"], m["budget"]["epochs"]) == ([[0, 3], [1, 1]], 1)


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
        first = b["plans"][0][1] if "plans" in b else b["epochs"]
        assert first == epochs_within(
            60 * minutes, b["spent_s"], b["estimated_epoch_s"], b["test_s"], 2
        )
        if "plans" in b:  # re-planned after epoch 1 from what it took: all fit, no change
            assert b["plans"] == [[0, 2]] and b["replanned_epoch_s"] > 0
        assert json.loads((tmp_path / name / "metrics.json").read_text())["budget"] == b


def test_a_budget_must_be_positive():
    with pytest.raises(ConfigError, match="budget_minutes"):
        tiny_config(budget_minutes=0)
