"""Hybrid spiking training (``spiking.rate_epochs``): the leading epochs are the rate model's step on
the same weights, the later ones the spiking step; the budget times both phases."""

import json

import pytest
import torch

from ff_neuro.config import ConfigError
from ff_neuro.ff.budget import Budget, rate_epochs_within, replan
from ff_neuro.ff.model import RateModel
from ff_neuro.ff.trainer import lr_factor
from ff_neuro.pipeline import train
from ff_neuro.spiking.model import SpikingModel

from ..conftest import NATIVE_TINY_MODEL, mnist_subsets, tiny_config

HYBRID = {
    "model": NATIVE_TINY_MODEL,
    "goodness": {"loss": "symba", "measure": "mean", "scale": 8.0, "negatives": "hard"},
    "spiking": {"timesteps": 8, "gradient": "rate", "rate_epochs": 1},
    "labels": {"K": 0.5},
}


def _tensors(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.training_state()[0].items()}


def test_rate_phase_is_the_rate_models_step_and_the_spiking_phase_is_not():
    """In epochs 1 … R the spiking model's step equals the rate model's bit for bit (weights, head
    and Adam state after two steps); from epoch R + 1 on it is the spiking step, which differs."""
    torch.manual_seed(0)
    cfg = tiny_config().replace(**HYBRID)
    spiking, rate = SpikingModel(cfg), RateModel(cfg)
    rate.load_weights(spiking.weights())
    start = _tensors(spiking)
    x, y = torch.rand(8, 1, 28, 28), torch.arange(8) % 10
    spiking.begin_epoch(1)
    assert spiking.phase == "rate"
    for seed in (1, 2):
        spiking.train_step(x, y, torch.Generator().manual_seed(seed))
        rate.train_step(x, y, torch.Generator().manual_seed(seed))
    got, want = _tensors(spiking), _tensors(rate)
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], want[k]) for k in got)
    assert not torch.equal(got["net.layers.1.conv.weight"], start["net.layers.1.conv.weight"])

    spiking.begin_epoch(2)
    assert spiking.phase == "spiking"
    spiking.train_step(x, y, torch.Generator().manual_seed(3))
    rate.train_step(x, y, torch.Generator().manual_seed(3))
    w_s, w_r = (m.net.layers[1].conv.weight for m in (spiking, rate))
    assert not torch.equal(w_s, w_r)
    # the spiking phase predicts from spike counts, the rate phase (its validation) from the limit
    rate.load_weights(spiking.weights())
    spike_pred = spiking.predict_goodness(x)
    spiking.begin_epoch(1)
    assert torch.equal(spiking.predict_goodness(x), rate.predict_goodness(x))
    assert torch.equal(spiking.predict_linear(x), rate.predict_linear(x))
    spiking.begin_epoch(2)
    assert torch.equal(spiking.predict_goodness(x), spiking.network().predict_goodness(x))
    assert torch.equal(spike_pred, spiking.network().predict_goodness(x))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"spiking": {"rate_epochs": 3}}, "must be below train.epochs"),
        ({"spiking": {"rate_epochs": -1}}, "spiking.rate_epochs"),
        ({"spiking": {"beta": 0.9}}, "spike units"),
        ({"model": {"norm": "rms"}}, "spike units"),
    ],
)
def test_rate_epochs_is_checked(change, message):
    cfg = tiny_config().replace(**HYBRID)  # 3 epochs, 1 of them in the rate limit: valid
    with pytest.raises(ConfigError, match=message):
        cfg.replace(**change)


def test_hybrid_budget_replan_by_hand():
    """R = 3 rate epochs of 60 s estimated (1000 steps of 50 ms + 10 s validation), spiking epochs of
    210 s estimated (1000 steps of 200 ms + 10 s), a 10-minute budget, 10 s spent, 20 s of test."""
    b = Budget(10.0, 4, 10, 0.2, 1000, 10.0, 20.0, 10.0)
    b = b._replace(rate_epochs=3, rate_requested=3, rate_step_s=0.05, rate_val_s=10.0)
    assert (b.rate_epoch_s, b.epoch_s) == (60.0, 210.0)
    assert b.total_s == pytest.approx(10 + 3 * 60 + 210 + 20)
    # rate epoch 1 took 70 s: the 2 rate epochs left at 70 s, (600 − 80 − 20 − 140) / 210 = 1.7 → 1
    r1 = replan(b, 1, 80.0)
    assert (r1.epochs, r1.epoch_s_used, r1.rate_end_s) == (4, 210.0, None)
    # they ran at 40 s (epoch 3 ended at 160): (600 − 160 − 20) / 210 = 2.0 → 2 spiking epochs, and
    # a longer plan must fit at 1.05 × 210: 420 / 220.5 = 1.9 → the plan stays at 4
    r3 = replan(replan(r1, 2, 120.0), 3, 160.0)
    assert (r3.epochs, r3.rate_end_s) == (4, 160.0)
    # spiking epoch 4 took 100 s: t_e = max(100, (260 − 160) / 1) = 100, not diluted by the rate
    # epochs; (600 − 260 − 20) / 105 = 3.05 → 3 more: 7 epochs
    r4 = replan(r3, 4, 260.0)
    assert (r4.epochs, r4.epoch_s_used, r4.plans[-1]) == (7, 100.0, (4, 7))
    # far too slow a rate phase still leaves one spiking epoch
    assert replan(b, 1, 590.0).epochs == 4
    assert Budget.from_record(r4.record()) == r4


def test_rate_epochs_fit_beside_one_spiking_epoch_by_hand():
    """A 10-minute budget, 10 s spent, 20 s of test, spiking epochs of 210 s and rate epochs of 60 s:
    (600 − 10 − 20 − 210) / 60 = 6.0 → 6 of R = 9 fit; a slower CPU's 400 s spiking epoch leaves
    (600 − 30 − 400) / 60 = 2.8 → 2; a spiking epoch over the whole budget leaves none."""
    assert rate_epochs_within(600.0, 10.0, 60.0, 210.0, 20.0, 9) == 6
    assert rate_epochs_within(600.0, 10.0, 60.0, 210.0, 20.0, 3) == 3  # all of a smaller R
    assert rate_epochs_within(600.0, 10.0, 60.0, 400.0, 20.0, 9) == 2
    assert rate_epochs_within(600.0, 10.0, 60.0, 700.0, 20.0, 9) == 0


def test_budget_with_fewer_rate_epochs_caps_the_spiking_epochs_by_hand():
    """R' = 2 of R = 9 rate epochs fitted, E_cfg = 12: a re-plan may add spiking epochs up to
    E_cfg − R = 3, so at most 2 + 3 = 5 epochs in all, however fast the spiking epochs turn out."""
    b = Budget(10.0, 3, 12, 0.2, 1000, 10.0, 20.0, 10.0)
    b = b._replace(rate_epochs=2, rate_requested=9, rate_step_s=0.05, rate_val_s=10.0)
    assert (b.max_epochs, b.total_s) == (5, 10 + 2 * 60 + 210 + 20)
    # rate epochs of 10 s: (600 − 20 − 20) / 210 = 2.7 → 2 spiking epochs: 4 in all
    assert replan(replan(b, 1, 10.0), 2, 20.0).epochs == 4
    # a spiking epoch of 1 s: (600 − 21 − 20) / 1.05 → hundreds, capped at 5
    r3 = replan(replan(replan(b, 1, 10.0), 2, 20.0), 3, 21.0)
    assert r3.epochs == 5 and r3.plans[-1] == (3, 5)
    rec = r3.record()
    assert (rec["rate_epochs"], rec["requested_rate_epochs"]) == (2, 9)
    assert Budget.from_record(rec) == r3
    assert "only 2 of the 9 rate-limit epochs" in b.summary()
    assert "none of the 9" in b._replace(rate_epochs=0).summary()
    plain = b._replace(rate_requested=2)  # a run whose R all fitted
    assert plain.max_epochs == 12
    assert "the first 2 in the rate limit" in plain.summary()


@pytest.mark.slow
def test_hybrid_run_too_small_a_budget_is_a_plain_spiking_run(tmp_path, mnist):
    """A budget too small for the rate epochs beside one spiking epoch trains that spiking epoch
    alone, at the full learning rate (no fine-tuning factor), and records R' = 0 of R = 1."""
    data = mnist_subsets(mnist)
    cfg = tiny_config(epochs=2, lr=2e-3, budget_minutes=0.01, val_goodness_subset=100)
    cfg = cfg.replace(**HYBRID)
    m = train(cfg, tmp_path, device="cpu", kind="spiking", dataset=data, progress=False)
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["phase"] for r in lines] == ["spiking"]
    t = cfg.train  # the plain schedule over 1 epoch of 1000 / 50 steps, with its warm-up, unscaled
    assert lines[0]["lr_factor"] == lr_factor(t.schedule, 1, 1, 0, 20, t.warmup) != 0.25
    assert (m["budget"]["rate_epochs"], m["budget"]["requested_rate_epochs"]) == (0, 1)
    assert m["budget"]["epochs"] == 1
    assert "rate_epochs: 0" in (tmp_path / "config.yaml").read_text()  # what was trained
    # the same command resumes: the config asked for R = 1, the run records that R' = 0 fitted
    again = train(cfg, tmp_path, resume=True, device="cpu", kind="spiking", dataset=data)
    assert again["budget"]["rate_epochs"] == 0 and again["epochs"] == 1


@pytest.mark.slow
def test_hybrid_run_on_real_mnist(tmp_path, mnist):
    """A budgeted hybrid run: its first epoch trains the rate limit, its second the spikes, both
    recorded; the budget timed both phases; the test reads spike counts."""
    data = mnist_subsets(mnist)
    cfg = tiny_config(epochs=2, lr=2e-3, budget_minutes=30.0, val_goodness_subset=100)
    cfg = cfg.replace(**HYBRID)
    m = train(cfg, tmp_path, device="cpu", kind="spiking", dataset=data, progress=False)
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["phase"] for r in lines] == ["rate", "spiking"]
    budget = m["budget"]
    assert budget["rate_epochs"] == 1 and budget["epochs"] == 2
    assert budget["rate_step_s"] > 0 and budget["step_s"] > 0  # both phases timed
    assert m["test_acc_linear"] > 0.5  # chance is 0.1
    assert m["test_acc_goodness"] is not None  # read from spike counts (a tiny net, 40 steps)
    assert lines[1]["val_acc_linear"] > 0.5  # the spiking epoch kept what the rate epoch learned


def test_hybrid_schedule_by_hand():
    """R = 2 rate epochs with the warm-up, then a second cosine from 0.25 over the epochs after them;
    a budget's plans shift by R, and those made before the first spiking step merge."""
    from ff_neuro.ff.trainer import run_lr_factor

    def f(e, s, epochs=4, plans=None):
        return run_lr_factor("cosine", e, epochs, s, 5, 0.1, plans, 2, 0.25)

    for s in range(5):
        assert f(1, s) == lr_factor("cosine", 1, 2, s, 5, 0.1)
        assert f(2, s) == lr_factor("cosine", 2, 2, s, 5, 0.1)
        for e in (3, 4):
            assert f(e, s) == 0.25 * lr_factor("cosine", e - 2, 2, s, 5, 0.0)
    assert f(3, 0) == 0.25 and f(2, 4) < 0.05  # the first cosine ends, the second starts at 0.25
    plans = ((0, 5), (1, 6), (3, 4))  # re-planned in the rate phase (6), then after epoch 3 (4)
    for s in range(5):
        assert f(4, s, 4, plans) == 0.25 * lr_factor("cosine", 2, 2, s, 5, 0.0, ((0, 4), (1, 2)))
    plain = [lr_factor("cosine", e, 4, s, 5, 0.1) for e in (1, 2, 3, 4) for s in range(5)]
    assert [
        run_lr_factor("cosine", e, 4, s, 5, 0.1) for e in (1, 2, 3, 4) for s in range(5)
    ] == plain


def test_epoch_images_sets_the_steps_of_spiking_epochs_only():
    """``spiking.epoch_images`` N: a spiking epoch takes min(S, max(1, ⌊N/B⌋)) steps, a rate-limit
    epoch (and the rate model, which has no phases) all S of them."""
    cfg = tiny_config().replace(**HYBRID).replace(spiking={"epoch_images": 230})
    model = SpikingModel(cfg)
    model.begin_epoch(1)
    assert model.epoch_steps(20, 50) == 20  # the rate limit: a whole pass
    model.begin_epoch(2)
    assert model.epoch_steps(20, 50) == 4  # ⌊230 / 50⌋
    assert model.epoch_steps(3, 50) == 3  # never more than a whole pass
    assert model.epoch_steps(20, 500) == 1  # at least one
    assert SpikingModel(tiny_config().replace(**HYBRID)).epoch_steps(20, 50) == 20  # None: all
    rate = RateModel(cfg)
    assert rate.epoch_steps(20, 50) == 20
    with pytest.raises(ConfigError, match="spiking.epoch_images"):
        cfg.replace(spiking={"epoch_images": 49})  # below one batch


@pytest.mark.slow
def test_hybrid_run_with_partial_spiking_epochs(tmp_path, mnist, monkeypatch):
    """A hybrid run with ``spiking.epoch_images`` 200 on 1,000 training images: the rate epoch trains
    all 20 batches of its permutation, each spiking epoch the first 4 of its own (by hand, from the
    epoch's seeded generator); the spiking lr schedule runs over 4 steps per epoch; the budget times
    the two kinds of epoch with their own steps; the record says what each epoch took."""
    from ff_neuro.ff.trainer import batch_lr_scale, epoch_generator, run_lr_factor, to_images

    data = mnist_subsets(mnist)
    cfg = tiny_config(epochs=3, lr=2e-3, budget_minutes=30.0, val_goodness_subset=100)
    cfg = cfg.replace(**HYBRID).replace(spiking={"epoch_images": 200})
    seen: list[tuple[int, str, torch.Tensor, float]] = []
    step = SpikingModel.train_step

    def spy(self, x, y, gen):
        k = next(iter(self.optimizers))
        factor = self.optimizers[k].param_groups[0]["lr"] / self.base_lrs[k][0]
        seen.append((id(self), self.phase, x.detach().clone(), factor))
        return step(self, x, y, gen)

    monkeypatch.setattr(SpikingModel, "train_step", spy)
    m = train(cfg, tmp_path, device="cpu", kind="spiking", dataset=data, progress=False)
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    seen = [s[1:] for s in seen if s[0] == seen[-1][0]]  # the run's model, not the budget's copies
    assert [r["phase"] for r in lines] == ["rate", "spiking", "spiking"]
    assert "images" not in lines[0] and [r["images"] for r in lines[1:]] == [200, 200]
    assert [p for p, _, _ in seen] == ["rate"] * 20 + ["spiking"] * 8
    xs = torch.from_numpy(data.train.x)
    for epoch, (first, count) in ((1, (0, 20)), (2, (20, 4)), (3, (24, 4))):
        perm = torch.randperm(len(xs), generator=epoch_generator(cfg.train.seed, epoch))
        for k in range(count):
            want = to_images(xs[perm[k * 50 : (k + 1) * 50]])
            assert torch.equal(seen[first + k][1], want)
    t = cfg.train  # the spiking cosine over 2 epochs of 4 steps, from finetune_lr, no warm-up
    for i, (_, _, got) in enumerate(seen[20:]):
        want = run_lr_factor(t.schedule, 2 + i // 4, 3, i % 4, 4, t.warmup, None, 1, 0.25)
        assert got == pytest.approx(batch_lr_scale(cfg) * want)
    budget = m["budget"]
    assert (budget["steps_per_epoch"], budget["rate_steps_per_epoch"]) == (4, 20)
    assert budget["estimated_epoch_s"] == pytest.approx(
        4 * budget["step_s"] + budget["val_s"], abs=2e-3
    )
    assert m["test_acc_linear"] > 0.3  # chance is 0.1 (a tiny net: 20 rate steps, 8 spiking ones)
