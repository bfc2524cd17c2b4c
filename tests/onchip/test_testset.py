"""The test set of ``ff-neuro learn`` keeps its encoded inputs only within a memory budget; beyond
it, each scoring encodes them again. Both ways score identically."""

from __future__ import annotations

import numpy as np

from ff_neuro.onchip.experiment import LearnConfig, TestSet, setup


def test_uncached_test_set_scores_like_the_cached_one(tiny_run):
    run_dir, _ = tiny_run
    s = setup(run_dir, LearnConfig(layer=1, hidden=16, samples=4, test_samples=20))
    w = np.random.default_rng(0).normal(0, 1, s.w0.shape)
    w = np.rint(w * 20).astype(s.w0.dtype) if s.kind == "fixed" else w
    for kind in (s.kind, "rate"):
        cached = TestSet(s, 20, kind, chunk=7)
        bare = TestSet(s, 20, kind, chunk=7, cache_bytes=0)
        assert cached.cached and not bare.cached and bare.parts is None
        for weights in (s.w0, w):
            a, b = cached.hits(weights, s.params), bare.hits(weights, s.params)
            assert a.shape == (20,) and np.array_equal(a, b)


def test_validation_split_for_choosing(tiny_run):
    """Hyper-parameters are chosen on the validation split (benchmarks/onchip_sweep.py --split val),
    so the test images stay unused for selection."""
    import pytest

    from ff_neuro.onchip.experiment import LearnError

    run_dir, _ = tiny_run
    s = setup(run_dir, LearnConfig(layer=1, hidden=16, samples=4, test_samples=8))
    val, test = TestSet(s, 8, "rate", split="val"), TestSet(s, 8, "rate")
    assert np.array_equal(val.y, s.data.val.tensors(8)[1].numpy())
    assert np.array_equal(test.y, s.data.test.tensors(8)[1].numpy())
    assert not np.array_equal(val.x.numpy(), test.x.numpy())
    with pytest.raises(LearnError, match="split"):
        TestSet(s, 8, "rate", split="train")
