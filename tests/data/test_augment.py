"""Random translations of training images: the hand definition, the range of offsets, the config bound,
and that the trainer applies them, seeded."""

import numpy as np
import pytest
import torch

from ff_neuro.checkpoint import load_checkpoint
from ff_neuro.config import validate
from ff_neuro.data import Dataset, Split
from ff_neuro.data.augment import draw_shifts, random_shift, shift_images
from ff_neuro.errors import ConfigError
from ff_neuro.ff import train
from tests.conftest import tiny_config


def test_shift_equals_the_hand_definition():
    x = torch.arange(4 * 2 * 5 * 6, dtype=torch.float32).reshape(4, 2, 5, 6) + 1
    shifts = torch.tensor([[1, -2], [0, 0], [-2, 3], [4, 0]])
    y = shift_images(x, shifts)
    for n, (dy, dx) in enumerate(shifts.tolist()):
        for i in range(5):
            for j in range(6):
                si, sj = i - dy, j - dx
                want = x[n, :, si, sj] if 0 <= si < 5 and 0 <= sj < 6 else torch.zeros(2)
                assert torch.equal(y[n, :, i, j], want), (n, i, j)
    assert torch.equal(y[1], x[1])  # (0, 0) leaves an image alone
    assert y[3, :, :4].abs().sum() == 0  # a shift of 4 rows down empties the top 4 rows


def test_offsets_cover_the_range_and_no_more():
    gen = torch.Generator().manual_seed(0)
    s = draw_shifts(5000, 2, gen)
    assert s.dtype == torch.int64 and s.shape == (5000, 2)
    assert set(s.flatten().tolist()) == {-2, -1, 0, 1, 2}
    counts = np.bincount((s + 2).flatten().numpy(), minlength=5) / s.numel()
    assert np.allclose(counts, 0.2, atol=0.02)  # uniform


def test_zero_shift_is_the_identity_and_draws_nothing():
    x = torch.rand(3, 1, 8, 8)
    gen = torch.Generator().manual_seed(1)
    before = gen.get_state()
    assert random_shift(x, 0, gen) is x
    assert torch.equal(gen.get_state(), before)


@pytest.mark.parametrize("bad", [-1, 9])
def test_config_bounds_the_shift(bad):
    with pytest.raises(ConfigError, match="train.augment_shift"):
        validate(tiny_config(augment_shift=bad))


def test_trainer_applies_the_seeded_shifts(tmp_path):
    rng = np.random.default_rng(0)
    mk = lambda n: Split(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n))  # noqa: E731
    data = Dataset("synthetic", mk(100), mk(40), mk(40), [str(i) for i in range(10)])
    runs = {}
    for shift in (0, 2, 2):
        out = tmp_path / f"s{shift}_{len(runs)}"
        cfg = tiny_config(epochs=1, val_goodness=False, augment_shift=shift)
        m = train(cfg, out, device="cpu", dataset=data, progress=False, verbose=False)
        runs[out.name] = (load_checkpoint(out / "checkpoint.safetensors")[0], m)
    (w0, m0), (w2, m2), (w2b, m2b) = runs.values()
    assert any(not torch.equal(w0[k], w2[k]) for k in w0)  # the shifts reached the training steps
    assert all(torch.equal(w2[k], w2b[k]) for k in w2)  # and are seeded
    assert m2["test_acc_linear"] == m2b["test_acc_linear"]
