import math

import torch

from ff_neuro.ff import ff_loss, goodness, rms_norm


def test_goodness_by_hand():
    y = torch.tensor([[[1.0, 2.0], [0.0, 3.0]], [[0.5, 0.5], [0.5, 0.5]]])
    assert goodness(y).tolist() == [14.0, 1.0]


def test_rms_norm_by_hand():
    y = torch.tensor([[3.0, 4.0]])  # mean square 12.5
    out = rms_norm(y, eps=0.0)
    torch.testing.assert_close(out, y / math.sqrt(12.5))
    assert torch.allclose(out.pow(2).mean(), torch.tensor(1.0))


def test_rms_norm_is_per_sample_and_scale_free():
    y = torch.rand(3, 2, 4, 4)
    torch.testing.assert_close(
        rms_norm(y * torch.tensor([1.0, 10.0, 0.1]).view(3, 1, 1, 1)), rms_norm(y)
    )


def test_ff_loss_by_hand():
    g_pos, g_neg, theta = torch.tensor([5.0, 1.0]), torch.tensor([0.0]), 2.0
    sp = lambda z: math.log1p(math.exp(z))  # noqa: E731
    expected = (sp(-3.0) + sp(1.0)) / 2 + sp(-2.0)
    assert math.isclose(float(ff_loss(g_pos, g_neg, theta)), expected, rel_tol=1e-6)
