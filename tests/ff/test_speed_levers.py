"""Issue 18's training options against hand computations or the exact scheme they replace: precision
selection and its record, bf16 against fp32, k negatives, scoring layers, per-region goodness, the lr
schedules and the batch scaling, the legacy config keys."""

import json
import math

import numpy as np
import pytest
import torch

from ff_neuro.config import from_dict
from ff_neuro.data import Dataset, Split
from ff_neuro.errors import ConfigError
from ff_neuro.ff import RateModel, lr_factor, resolve_precision, train
from ff_neuro.ff.classify import goodness_scores, label_scores
from ff_neuro.ff.objective import (
    hard_negatives,
    layer_goodness,
    region_goodness,
    symba_loss,
    uniform_negatives,
)
from ff_neuro.ff.precision import MIN_GAIN, MIN_LAYOUT_GAIN
from ff_neuro.ff.trainer import batch_lr_scale
from ff_neuro.runtime import cpu_bf16_flags, keep_freed_memory
from tests.conftest import tiny_config


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def quick_like(**goodness):
    """The tiny network with mnist-quick's objective (spike units, SymBa, mean goodness, hard)."""
    return tiny_config().replace(
        model={"norm": "none", "activation": "relu1", "activation_scale": 4.0},
        goodness={
            "measure": "mean",
            "loss": "symba",
            "scale": 8.0,
            "negatives": "hard",
            **goodness,
        },
    )


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(0)
    mk = lambda n: Split(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n))  # noqa: E731
    return Dataset("synthetic", mk(100), mk(20), mk(20), [str(i) for i in range(10)])


# --- precision -----------------------------------------------------------------------------


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("processor: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile amx_bf16\n")
    assert cpu_bf16_flags(str(f)) == ["amx_bf16", "avx512_bf16"]
    f.write_text("flags : fpu sse avx2\n")
    assert cpu_bf16_flags(str(f)) == []
    assert cpu_bf16_flags(str(tmp_path / "missing")) == []


def test_auto_is_fp32_without_bf16_hardware_and_says_why():
    model = RateModel(tiny_config())
    p = resolve_precision("auto", model, None, flags=[])
    assert p.mode == "fp32" and "no bf16 instructions" in p.reason and p.timings_ms is None
    # a fixed layout is not timed
    x, y = torch.rand(8, 1, 28, 28), torch.arange(8) % 10
    p = resolve_precision("auto", model, (x, y), channels_last=True, flags=[])
    assert (p.mode, p.channels_last, p.timings_ms) == ("fp32", True, None)


def test_auto_without_bf16_times_the_fp32_layouts_and_keeps_the_rule():
    model = RateModel(quick_like())
    x, y = torch.rand(8, 1, 28, 28), torch.arange(8) % 10
    p = resolve_precision("auto", model, (x, y), flags=[])
    assert p.mode == "fp32" and "no bf16 instructions" in p.reason
    assert set(p.timings_ms) == {"fp32", "fp32-channels_last"}
    gain = p.timings_ms["fp32"] / p.timings_ms["fp32-channels_last"]
    # the recorded timings are rounded to 0.01 ms: allow that at the threshold
    if abs(gain - MIN_LAYOUT_GAIN) > 0.01:
        assert p.channels_last == (gain >= MIN_LAYOUT_GAIN)
    assert ("channels_last measured" in p.reason) and ("faster than NCHW" in p.reason) == (
        p.channels_last
    )


def test_auto_times_a_real_step_where_bf16_exists():
    model = RateModel(quick_like())
    before = {k: v.clone() for k, v in model.weights().items()}
    x, y = torch.rand(8, 1, 28, 28), torch.arange(8) % 10
    p = resolve_precision("auto", model, (x, y), flags=["avx512_bf16"])
    assert set(p.timings_ms) == {"fp32", "fp32-channels_last", "bf16", "bf16-channels_last"}
    assert all(v > 0 for v in p.timings_ms.values())
    assert p.mode in ("fp32", "bf16") and p.reason.startswith("auto: ")
    if p.mode == "bf16":
        fp32 = "fp32-channels_last" if "faster than NCHW" in p.reason else "fp32"
        assert f"faster than {fp32} per step" in p.reason
        assert p.timings_ms[fp32] / min(
            p.timings_ms["bf16"], p.timings_ms["bf16-channels_last"]
        ) >= (MIN_GAIN - 0.01)
    # the probe trains a copy: the run's own weights did not move
    assert all(torch.equal(before[k], v) for k, v in model.weights().items())


def test_explicit_precisions_are_honoured():
    model = RateModel(tiny_config())
    assert resolve_precision("fp32", model, flags=["amx_bf16"]).mode == "fp32"
    p = resolve_precision("bf16", model, flags=[])
    assert p.mode == "bf16" and "emulated" in p.reason


def test_precision_is_recorded_and_kept_on_resume(synthetic, tmp_path):
    cfg = tiny_config(epochs=2, val_goodness=False, precision="bf16")
    m = train(cfg.replace(train={"epochs": 1}), tmp_path, "cpu", dataset=synthetic, progress=False)
    assert m["precision"]["mode"] == "bf16" and m["precision"]["reason"]
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["precision"] == m["precision"]
    m2 = train(cfg, tmp_path, "cpu", resume=True, dataset=synthetic, progress=False)
    assert m2["precision"] == m["precision"]


def test_bf16_step_is_close_to_fp32():
    """One FF layer's gradient under bf16 autocast against fp32, same weights, inputs and negatives.
    Bound: cosine ≥ 0.99 and norm within 5 % (bf16 keeps 8 mantissa bits, ~0.4 % per product; the
    sums run in fp32 inside oneDNN and the goodness and loss are fp32)."""
    torch.manual_seed(0)
    x, y = torch.rand(16, 1, 28, 28), torch.arange(16) % 10
    grads = {}
    for mode in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = RateModel(quick_like(negatives="uniform").replace(train={"precision": mode}))
        model.train_step(x, y, torch.Generator().manual_seed(1))
        grads[mode] = torch.cat(
            [p.grad.flatten() for p in model.net.layers[2].parameters() if p.grad is not None]
        )
    a, b = grads["fp32"], grads["bf16"]
    assert torch.nn.functional.cosine_similarity(a, b, dim=0) >= 0.99
    assert abs(b.norm() / a.norm() - 1) <= 0.05


def test_evaluation_stays_fp32():
    torch.manual_seed(0)
    model = RateModel(quick_like().replace(train={"precision": "bf16"}))
    x = torch.rand(6, 1, 28, 28)
    got = model.predict_goodness(x)
    want = goodness_scores(model.net, model.labels, x).argmax(1)  # no autocast anywhere
    assert torch.equal(got, want)


def test_keep_freed_memory_applies_on_glibc():
    assert keep_freed_memory() is True


# --- negatives -----------------------------------------------------------------------------


def test_label_scores_equal_goodness_scores_and_stop_early():
    torch.manual_seed(0)
    model = RateModel(quick_like())
    x = torch.rand(3, 1, 28, 28)
    full = label_scores(model.net, model.labels, x, model.cfg.model.score_layers)
    assert torch.equal(full, goodness_scores(model.net, model.labels, x))
    first = label_scores(model.net, model.labels, x, [1])
    acts = model.net(model.labels.all_labels(x))
    assert torch.equal(first, layer_goodness(acts[1], "mean").view(3, 10))
    calls = []
    hook = model.net.layers[2].register_forward_hook(lambda *a: calls.append(1))
    label_scores(model.net, model.labels, x, [1])
    hook.remove()
    assert not calls  # the scoring pass stopped after layer 1


def test_k_hard_negatives_are_distinct_wrong_and_follow_the_law():
    scores = torch.tensor([[0.0, 2.0, 1.0, 0.0]]).repeat(40_000, 1)
    y = torch.zeros(40_000, dtype=torch.long)
    neg = hard_negatives(scores, y, 1.0, torch.Generator().manual_seed(0), k=2)
    assert neg.shape == (40_000, 2)
    assert not (neg == 0).any() and not (neg[:, 0] == neg[:, 1]).any()
    # first draw ∝ e^2, e^1, e^0 over labels 1, 2, 3
    w = torch.tensor([math.exp(2), math.exp(1), 1.0])
    p_first = (neg[:, 0:1] == torch.tensor([1, 2, 3])).float().mean(0)
    assert torch.allclose(p_first, w / w.sum(), atol=0.01)
    # label 3 drawn at all (1st or 2nd): P = p3 + Σ_{j≠3} p_j · w3/(W − w_j)
    pj = w / w.sum()
    p3 = pj[2] + pj[0] * w[2] / (w.sum() - w[0]) + pj[1] * w[2] / (w.sum() - w[1])
    assert (neg == 3).any(1).float().mean().item() == pytest.approx(p3.item(), abs=0.01)


def test_k_hard_negatives_survive_underflowing_probabilities():
    scores = torch.tensor([[0.0, 100.0, 0.0, 0.0]])
    neg = hard_negatives(scores, torch.tensor([0]), 8.0, torch.Generator().manual_seed(0), k=3)
    assert sorted(neg[0].tolist()) == [1, 2, 3]


def test_one_hard_negative_keeps_the_old_draw():
    scores = torch.randn(50, 10)
    y = torch.randint(0, 10, (50,))
    logits = 3.0 * scores.clone()
    logits[torch.arange(50), y] = float("-inf")
    probs = torch.softmax(logits - logits.max(1, keepdim=True).values, 1)
    want = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(5)).squeeze(1)
    assert torch.equal(hard_negatives(scores, y, 3.0, torch.Generator().manual_seed(5)), want)


def test_uniform_k_negatives():
    y = torch.zeros(30_000, dtype=torch.long)
    neg = uniform_negatives(y, 4, 2, torch.Generator().manual_seed(0))
    assert not (neg == 0).any() and not (neg[:, 0] == neg[:, 1]).any()
    counts = torch.bincount(neg.flatten(), minlength=4)[1:].float() / neg.numel()
    assert torch.allclose(counts, torch.full((3,), 1 / 3), atol=0.01)


def test_k_negatives_step_equals_the_hand_loss():
    """With k = 2 SymBa averages the 2k pairs: the step's layer loss equals the loss computed by hand
    from the same negatives."""
    torch.manual_seed(0)
    model = RateModel(quick_like(negatives="uniform", negatives_per_image=2))
    x, y = torch.rand(4, 1, 28, 28), torch.arange(4)
    neg = model.negatives(x, y, torch.Generator().manual_seed(3))
    assert neg.shape == (4, 2)
    losses = model.train_step(x, y, torch.Generator().manual_seed(3))
    torch.manual_seed(0)
    fresh = RateModel(quick_like(negatives="uniform", negatives_per_image=2))
    with torch.no_grad():
        gp = layer_goodness(fresh.net(fresh.labels.overlay(x, y))[1], "mean")
        gn = layer_goodness(
            fresh.net(fresh.labels.overlay(x.repeat_interleave(2, 0), neg.flatten()))[1], "mean"
        )
    want = sum(softplus(-8.0 * (gp[i] - gn[2 * i + j]).item()) for i in range(4) for j in (0, 1))
    assert losses["layer1"].item() == pytest.approx(want / 8, rel=1e-5)


# --- per-region goodness -------------------------------------------------------------------


def test_region_goodness_by_hand():
    y = torch.arange(16.0).view(1, 1, 4, 4)
    g = region_goodness(y, 2)
    sq = (y[0, 0] ** 2).numpy()
    want = [sq[:2, :2].mean(), sq[:2, 2:].mean(), sq[2:, :2].mean(), sq[2:, 2:].mean()]
    assert g[0].tolist() == pytest.approx(want)
    assert region_goodness(y, 1)[:, 0].tolist() == pytest.approx(layer_goodness(y, "mean").tolist())


def test_symba_per_region_by_hand():
    gp = torch.tensor([[3.0, 1.0]])
    gn = torch.tensor([[1.0, 2.0], [0.0, 0.0]])  # k = 2 negatives of the one image
    want = (softplus(-2) + softplus(1) + softplus(-3) + softplus(-1)) / 4
    assert symba_loss(gp, gn, 1.0).item() == pytest.approx(want, rel=1e-6)


def test_regions_need_mean_goodness():
    with pytest.raises(ConfigError, match="regions"):
        quick_like(regions=2, measure="sum")
    quick_like(regions=2)  # valid


# --- schedules -----------------------------------------------------------------------------


def test_cosine_schedule_by_hand():
    # 2 epochs × 5 steps, warm-up 20 % = 2 steps
    f = [lr_factor("cosine", e, 2, s, 5, 0.2) for e in (1, 2) for s in range(5)]
    assert f[:2] == pytest.approx([0.5, 1.0])
    assert f[2] == pytest.approx(1.0)
    assert f[5] == pytest.approx(0.5 * (1 + math.cos(math.pi * 3 / 8)))
    assert f[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 7 / 8)))
    assert lr_factor("constant", 3, 4, 2, 5) == 1.0
    assert lr_factor("cooldown", 4, 4) == pytest.approx(0.5)


def test_batch_lr_scaling():
    base = tiny_config(batch_size=200, lr_ref_batch=50)
    assert batch_lr_scale(base) == 1.0
    assert batch_lr_scale(base.replace(train={"lr_scaling": "linear"})) == 4.0
    assert batch_lr_scale(base.replace(train={"lr_scaling": "sqrt"})) == 2.0


def test_trainer_applies_schedule_and_scale(synthetic, tmp_path):
    cfg = tiny_config(
        epochs=1,
        batch_size=20,
        val_goodness=False,
        schedule="cosine",
        lr_scaling="linear",
        lr_ref_batch=10,
        lr=1e-3,
    )
    seen = []
    orig = RateModel.set_lr_factor

    def spy(self, factor):
        seen.append(factor)
        orig(self, factor)

    RateModel.set_lr_factor = spy
    try:
        train(cfg, tmp_path, "cpu", dataset=synthetic, progress=False)
    finally:
        RateModel.set_lr_factor = orig
    steps = 100 // 20
    want = [2.0 * lr_factor("cosine", 1, 1, s, steps, 0.0) for s in range(steps)]
    assert seen == pytest.approx(want)


# --- legacy keys ---------------------------------------------------------------------------


def test_legacy_keys_are_migrated():
    d = tiny_config().to_dict()
    for key in ("schedule", "precision"):
        del d["train"][key]
    d["train"].update({"cooldown": False, "bf16": True})
    cfg = from_dict(d)
    assert cfg.train.schedule == "constant" and cfg.train.precision == "bf16"
    d["train"].update({"cooldown": True, "schedule": "cosine"})
    with pytest.raises(ConfigError, match="disagree"):
        from_dict(d)
