"""The learning graph as real Lava processes agrees with the PyTorch reference.

Fixed point: weights bit-identical after every snapshot (threshold rule and SymBa's pairs); float:
relative difference ≤ 1e-6."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ff_neuro.onchip import reference as ref
from ff_neuro.onchip import rule

pytest.importorskip("lava")


def reference_snapshots(w0, raster, signs, p, kind, marks, objective="threshold"):
    w, snaps = w0.copy(), []

    def keep(done, w):
        if done in marks:
            snaps.append(w.copy())

    batch = 2 if objective == "symba" else 1
    chunk = iter([ref.Batch(torch.from_numpy(raster), signs)])
    ref.train(w, chunk, kind, p, batch, keep, objective=objective)
    return snaps


@pytest.mark.parametrize(
    "fixed_point,frac,objective",
    [(True, 0, "threshold"), (True, 4, "threshold"), (False, 0, "threshold"), (True, 0, "symba")],
    ids=["fixed", "fixed-frac4", "float", "fixed-symba"],
)
def test_lava_learning_matches_reference(tmp_path, fixed_point, frac, objective):
    from ff_neuro.onchip.lava_run import run_learning, write_raster

    rng = np.random.default_rng(3)
    windows, T, N, H = 36, 8, 48, 10
    raster = (rng.random((windows, T, N)) < 0.3).astype(np.uint8)
    signs = np.tile([1, -1], windows // 2)
    p = rule.RuleParams(
        T,
        H,
        theta=0.2,
        alpha=8.0,
        lr_shift=6 + frac,
        vth=40,
        rounding="stochastic",
        seed=5,
        frac_bits=frac,
    )
    w0 = rng.integers(-30, 31, (H, N)).astype(np.int64) << frac
    if not fixed_point:
        w0 = w0 / p.vth
    write_raster(tmp_path / "r.npy", raster)
    res = run_learning(
        w0.copy(),
        tmp_path / "r.npy",
        signs,
        p,
        fixed_point,
        snapshot_every=12,
        chunk_windows=10,
        objective=objective,
    )
    assert res.marks == [12, 24, 36] and res.steps == windows * (T + 1)
    snaps = reference_snapshots(
        w0, raster, signs, p, "fixed" if fixed_point else "float", res.marks, objective
    )
    kind = "fixed" if fixed_point else "float"
    counts = ref.counts(w0, torch.from_numpy(raster[:1]), kind, p)
    assert res.records[0, 0] == rule.goodness_int(counts.astype(np.int64))[0]
    for lava_w, ref_w in zip(res.snapshots, snaps):
        assert not np.array_equal(ref_w, w0)  # it learned something
        if fixed_point:
            assert np.array_equal(lava_w, ref_w)
        else:
            assert np.abs(lava_w - ref_w).max() <= 1e-6 * np.abs(ref_w).max()
    if objective == "symba":  # E = σ(−α(G⁺ − G⁻)) ≥ 0, sent at the negative window only
        assert np.all(res.records[signs > 0, 1] == 0) and np.all(res.records[signs < 0, 1] > 0)
    else:
        assert np.all(np.sign(res.records[:, 1]) * signs >= 0)  # e has the label's sign
