"""Input encodings and their bad-input errors."""

import pytest
import torch

from ff_neuro.errors import FFNeuroError
from ff_neuro.spiking import EncodingError, TimestepsError, encode


def test_current_is_constant():
    x = torch.rand(2, 1, 3, 3)
    e = encode(x, 5, "current")
    assert e.shape == (5, 2, 1, 3, 3) and all(torch.equal(e[t], x) for t in range(5))


def test_rate_is_seeded_bernoulli_with_the_right_mean():
    x = torch.tensor([0.0, 0.25, 1.0]).view(1, 1, 1, 3)
    a = encode(x, 4000, "rate", torch.Generator().manual_seed(0))
    b = encode(x, 4000, "rate", torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {0.0, 1.0}
    m = a.mean(0).flatten()
    assert m[0] == 0 and m[2] == 1 and abs(m[1].item() - 0.25) < 0.03


@pytest.mark.parametrize("T", [0, -3, 2.5])
def test_bad_timesteps(T):
    with pytest.raises(TimestepsError, match="time steps"):
        encode(torch.rand(1, 1, 2, 2), T, "current")


def test_unknown_encoding():
    with pytest.raises(EncodingError, match="unknown input encoding 'poisson'"):
        encode(torch.rand(1, 1, 2, 2), 4, "poisson")
    assert issubclass(EncodingError, FFNeuroError)
