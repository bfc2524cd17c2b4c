"""The FF objective against hand-computed values: goodness measures, the three losses, hard negatives."""

import math

import pytest
import torch

from ff_neuro.config import Config, from_dict
from ff_neuro.errors import ConfigError
from ff_neuro.ff.objective import (
    hard_negatives,
    layer_goodness,
    softmax_loss,
    symba_loss,
    threshold_terms,
)


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def test_goodness_measures():
    y = torch.tensor([[[1.0, 2.0], [0.0, 3.0]]])  # one sample, N = 4 units, Σy² = 14
    assert layer_goodness(y, "sum").tolist() == [14.0]
    assert layer_goodness(y, "mean").tolist() == [3.5]


def test_threshold_loss_by_hand():
    g_pos, g_neg = torch.tensor([3.0, 1.0]), torch.tensor([2.5])
    theta, a = 2.0, 0.5
    want_pos = (softplus(-a * (3 - theta)) + softplus(-a * (1 - theta))) / 2
    want_neg = softplus(a * (2.5 - theta))
    assert threshold_terms(g_pos, 1.0, theta, a).item() == pytest.approx(want_pos, rel=1e-6)
    assert threshold_terms(g_neg, -1.0, theta, a).item() == pytest.approx(want_neg, rel=1e-6)
    assert threshold_terms(torch.tensor([]), 1.0, theta).item() == 0.0


def test_symba_loss_by_hand():
    g_pos, g_neg = torch.tensor([3.0, 1.0]), torch.tensor([1.0, 2.0])
    want = (softplus(-4 * (3 - 1)) + softplus(-4 * (1 - 2))) / 2
    assert symba_loss(g_pos, g_neg, 4.0).item() == pytest.approx(want, rel=1e-6)


def test_softmax_loss_by_hand():
    g = torch.tensor([[1.0, 2.0, 0.0]])
    a = 2.0
    z = [a * v for v in (1.0, 2.0, 0.0)]
    want = -(z[0] - math.log(sum(math.exp(v) for v in z)))
    assert softmax_loss(g, torch.tensor([0]), a).item() == pytest.approx(want, rel=1e-6)


def test_hard_negatives_follow_the_goodness():
    # label 0 is true; among the wrong labels, 2 has goodness 3 above 1: P(2) = e³/(e³ + 1)
    scores = torch.tensor([[9.0, 0.0, 3.0]]).repeat(20_000, 1)
    y = torch.zeros(20_000, dtype=torch.long)
    neg = hard_negatives(scores, y, 1.0, torch.Generator().manual_seed(0))
    assert not (neg == y).any()
    p2 = math.exp(3) / (math.exp(3) + 1)
    assert (neg == 2).float().mean().item() == pytest.approx(p2, abs=0.01)


def test_goodness_config_is_validated():
    d = Config().to_dict()
    assert d["goodness"] == {
        "measure": "sum",
        "loss": "threshold",
        "scale": 1.0,
        "relative": False,
        "negatives": "uniform",
        "regions": 1,
        "negatives_per_image": 1,
        "hard_layers": None,
    }
    for key, bad in (("loss", "hinge"), ("measure", "max"), ("negatives", "all"), ("scale", 0.0)):
        d2 = Config().to_dict()
        d2["goodness"][key] = bad
        with pytest.raises(ConfigError, match=f"goodness.{key}"):
            from_dict(d2)


def test_relative_losses_by_hand():
    g_pos, g_neg = torch.tensor([3.0]), torch.tensor([1.0])
    want = softplus(-4 * (3 - 1) / 2.0)  # ḡ = (3 + 1)/2
    assert symba_loss(g_pos, g_neg, 4.0, relative=True).item() == pytest.approx(want, rel=1e-6)
    # scale-free: multiplying every goodness by 10 leaves the relative losses unchanged
    assert symba_loss(10 * g_pos, 10 * g_neg, 4.0, relative=True).item() == pytest.approx(
        want, rel=1e-6
    )
    g = torch.tensor([[1.0, 2.0, 0.0]])
    z = [2.0 * v / 1.0 for v in (1.0, 2.0, 0.0)]  # mean over labels = 1
    want = -(z[1] - math.log(sum(math.exp(v) for v in z)))
    assert softmax_loss(g, torch.tensor([1]), 2.0, relative=True).item() == pytest.approx(
        want, rel=1e-6
    )
    assert softmax_loss(5 * g, torch.tensor([1]), 2.0, relative=True).item() == pytest.approx(
        want, rel=1e-6
    )
