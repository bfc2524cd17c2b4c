import pytest
import torch

from ff_neuro.data import FourierLabels, fourier_pattern, minmax, sample_negatives


@pytest.fixture(params=[1, 2], ids=["set1", "set2"])
def labels(request):
    return FourierLabels((28, 28), 10, request.param, 0.35)


class TestFourierLabels:
    def test_patterns_shape_range_distinct(self, labels):
        p = labels.patterns
        assert p.shape == (10, 28, 28)
        assert p.min() >= 0 and p.max() <= 1
        flat = p.flatten(1)
        d = torch.cdist(flat, flat) + torch.eye(10) * 1e9
        assert d.min() > 1.0  # every pair of patterns differs clearly

    def test_overlay_range_shape_and_mix(self, labels):
        x = torch.rand(4, 1, 28, 28)
        y = torch.tensor([0, 3, 9, 3])
        out = labels.overlay(x, y)
        assert out.shape == x.shape
        assert torch.allclose(out.flatten(1).min(1).values, torch.zeros(4))
        assert torch.allclose(out.flatten(1).max(1).values, torch.ones(4))
        expected = minmax(0.65 * x[1:2] + 0.35 * labels.patterns[3])
        torch.testing.assert_close(out[1:2], expected)

    def test_all_labels_is_sample_major(self, labels):
        x = torch.rand(3, 1, 28, 28)
        allx = labels.all_labels(x)
        assert allx.shape == (30, 1, 28, 28)
        torch.testing.assert_close(allx[2 * 10 + 7], labels.overlay(x[2:3], torch.tensor([7]))[0])

    def test_neutral_uses_mean_pattern(self, labels):
        x = torch.rand(2, 1, 28, 28)
        torch.testing.assert_close(
            labels.neutral(x), minmax(0.65 * x + 0.35 * labels.patterns.mean(0))
        )


def test_pattern_values_by_hand():
    p = fourier_pattern((4, 4), k=1.0, theta_deg=0.0)
    # cos(2π·x/4) along x: 1, 0, -1, 0 → 1, 0.5, 0, 0.5
    torch.testing.assert_close(p[0], torch.tensor([1.0, 0.5, 0.0, 0.5]), atol=1e-6, rtol=0)
    torch.testing.assert_close(p[:, 1], torch.full((4,), 0.5), atol=1e-6, rtol=0)


def test_set1_uses_four_orientations_three_frequencies():
    lab = FourierLabels(label_set=1)
    assert lab.params[:4] == [(3.0, 0.0), (3.0, 45.0), (3.0, 90.0), (3.0, 135.0)]
    assert {k for k, _ in lab.params} == {3.0, 5.0, 8.0}


def test_bad_label_arguments():
    with pytest.raises(ValueError, match="label set"):
        FourierLabels(label_set=3)
    with pytest.raises(ValueError, match="K"):
        FourierLabels(K=1.5)


def test_negative_never_true_and_covers_all_wrong_classes():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(10).repeat(2000)
    neg = sample_negatives(y, 10, g)
    assert not (neg == y).any()
    for c in range(10):
        seen = set(neg[y == c].tolist())
        assert seen == set(range(10)) - {c}


def test_onehot_patch_by_hand():
    from ff_neuro.config import LabelConfig

    lab = FourierLabels.from_config(LabelConfig(kind="onehot", K=0.5), (28, 28))
    assert lab.patterns.shape == (10, 28, 28)
    for c in range(10):
        nz = lab.patterns[c].nonzero().tolist()
        assert nz == [[r, col] for r in (0, 1) for col in (4 + 2 * c, 5 + 2 * c)]
    # the same mix as the Fourier labels: minmax((1 − K)·x + K·L_c)
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 10:20, 10:20] = 1.0
    got = lab.overlay(x, torch.tensor([3]))[0, 0]
    v = 0.5 * x[0, 0] + 0.5 * lab.patterns[3]
    assert torch.allclose(got, (v - v.min()) / (v.max() - v.min()))
    assert lab.meta() == {"kind": "onehot", "set": 1, "K": 0.5, "num_classes": 10}
