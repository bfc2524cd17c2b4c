"""Chunked deployment: the same metrics whatever the chunking, the reference-model check, progress."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("lava.magma")


def test_chunked_deploy_equals_one_graph_and_checks_the_reference_models(tiny_run, mnist_small):
    from ff_neuro.lava.deploy import deploy_run

    calls = []
    kw = dict(
        fixed_point=True,
        timesteps=4,
        write=False,
        dataset=mnist_small,
        goodness=True,
        goodness_samples=1,
    )
    m = deploy_run(
        tiny_run[0],
        "loihi2",
        3,
        chunk=2,
        reference_check=3,
        progress=lambda d, t: calls.append((d, t)),
        **kw,
    )
    one = deploy_run(tiny_run[0], "loihi2", 3, chunk=500, **kw)
    assert m["accuracy"] == one["accuracy"] and m["reference_accuracy"] == one["reference_accuracy"]
    assert m["accuracy"] == m["reference_accuracy"]  # Lava fixed point = the integer emulation
    assert (
        m["spikes_per_inference"] == pytest.approx(one["spikes_per_inference"])
        and m["spikes_per_inference"] > 0
    )
    a = m["agreement"]
    assert (
        a["spike_count_agreement"] == 1.0
        and a["identical_samples"] == 3
        and a["goodness_spike_count_agreement"] == 1.0
    )
    check = m["backend_check"]
    assert (
        check["samples"] == 3
        and check["spike_count_agreement"] == 1.0
        and check["identical_samples"] == 3
    )
    # a clock reading: a finite number (it may read 0 on a loaded machine), not a speed to check
    assert math.isfinite(check["reference_ms_per_step"]) and check["reference_ms_per_step"] >= 0
    assert one["backend_check"] is None
    # graphs: 2 image chunks, 2 reference-model chunks (2 + 1 images), 1 goodness chunk (1 image x 10 labels)
    assert m["lava_graphs"] == 5 and one["lava_graphs"] == 2
    tail = len(m["quantisation"]["layers"]) + 1  # L + 1 pipeline steps at the end of every graph
    assert m["lava_steps"] == 3 * 4 + 10 * 4 + 3 * tail  # the fast models' graphs only
    assert calls[-1][0] == calls[-1][1] and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert m["goodness_samples"] == 1 and m["accuracy"]["goodness"] in (0.0, 1.0)


def test_deploy_rejects_a_bad_chunk(tiny_run, mnist_small):
    from ff_neuro.lava.deploy import DeployError, deploy_run

    with pytest.raises(DeployError, match="chunk"):
        deploy_run(tiny_run[0], "loihi2", 2, timesteps=4, write=False, dataset=mnist_small, chunk=0)
