"""Random translations and mirrors of training images: the hand definitions, the range of the draws,
the config bounds, and that the trainer applies them, seeded."""

import numpy as np
import pytest
import torch

from ff_neuro.checkpoint import load_checkpoint
from ff_neuro.config import validate
from ff_neuro.data import Dataset, Split, augment
from ff_neuro.data.augment import draw_flips, draw_shifts, flip_images, random_shift, shift_images
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


def test_flip_equals_the_hand_definition():
    x = torch.rand(3, 2, 4, 5)
    y = flip_images(x, torch.tensor([True, False, True]))
    for n, mirrored in enumerate((True, False, True)):
        for j in range(5):
            want = x[n, :, :, 4 - j] if mirrored else x[n, :, :, j]
            assert torch.equal(y[n, :, :, j], want), (n, j)
    assert flip_images(x, torch.zeros(3, dtype=torch.bool)) is x


def test_flips_are_fair_coins():
    f = draw_flips(10000, torch.Generator().manual_seed(0))
    assert f.dtype == torch.bool and f.shape == (10000,)
    assert abs(f.float().mean().item() - 0.5) < 0.02


def test_a_draw_takes_the_shifts_first_so_shift_only_runs_replay():
    # a config with the shift alone draws exactly what draw_shifts drew before mirrors existed
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    d = augment.draw(7, 2, False, g1)
    assert d.flips is None and torch.equal(d.shifts, draw_shifts(7, 2, g2))
    assert torch.equal(g1.get_state(), g2.get_state())
    # both: the offsets, then the coins, from the same stream; apply shifts, then mirrors
    g1, g2 = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    d = augment.draw(7, 2, True, g1)
    shifts = draw_shifts(7, 2, g2)
    assert torch.equal(d.shifts, shifts) and torch.equal(d.flips, draw_flips(7, g2))
    x = torch.rand(7, 1, 6, 6)
    assert torch.equal(augment.apply(x, d), flip_images(shift_images(x, shifts), d.flips))
    # nothing on: no draws at all, and the images untouched
    g = torch.Generator().manual_seed(5)
    before = g.get_state()
    assert augment.draw(7, 0, False, g) == augment.Draw() and torch.equal(g.get_state(), before)
    assert augment.apply(x, augment.Draw()) is x


def test_config_wants_a_boolean_flip():
    with pytest.raises(ConfigError, match="train.augment_flip"):
        validate(tiny_config(augment_flip=1))


def test_trainer_applies_the_seeded_draws(tmp_path):
    rng = np.random.default_rng(0)
    mk = lambda n: Split(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n))  # noqa: E731
    data = Dataset("synthetic", mk(100), mk(40), mk(40), [str(i) for i in range(10)])
    runs = {}
    for shift, flip in ((0, False), (2, True), (2, True), (2, False)):
        out = tmp_path / f"s{shift}_{len(runs)}"
        cfg = tiny_config(epochs=1, val_goodness=False, augment_shift=shift, augment_flip=flip)
        m = train(cfg, out, device="cpu", dataset=data, progress=False, verbose=False)
        runs[out.name] = (load_checkpoint(out / "checkpoint.safetensors")[0], m)
    (w0, m0), (w2, m2), (w2b, m2b), (w2s, _) = runs.values()
    assert any(not torch.equal(w0[k], w2[k]) for k in w0)  # the draws reached the training steps
    assert any(not torch.equal(w2s[k], w2[k]) for k in w2)  # the mirrors, too
    assert all(torch.equal(w2[k], w2b[k]) for k in w2)  # and are seeded
    assert m2["test_acc_linear"] == m2b["test_acc_linear"]
