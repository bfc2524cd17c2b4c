"""Layer-pipelined FF (``--parallel layers``) under real torchrun (gloo, 2 CPU processes): the same
weights as one process, bit for bit; the stage plan and what it refuses."""

from __future__ import annotations

import json

import pytest
import torch
import yaml

from ff_neuro.checkpoint import load_checkpoint
from ff_neuro.errors import ConfigError
from ff_neuro.ff.distributed import Dist
from ff_neuro.ff.layer_pipeline import Stage, loss_keys, plan
from tests.conftest import tiny_config
from tests.ff.test_distributed import ff_neuro, run, tiny_yaml, torchrun, weights


def test_plan_splits_layers_and_refuses_what_it_cannot_run():
    cfg = tiny_config().replace(goodness={"negatives": "hard", "hard_layers": [1]})
    st = plan(cfg, Dist(1, 2))  # 3 layers over 2 ranks
    assert (st.lo, st.hi, st.last, st.first) == (2, 3, True, False)
    assert [st.owner(i) for i in range(3)] == [0, 0, 1]
    assert plan(cfg, Dist(0, 2), [0, 2]) == Stage(0, (0, 2), 3)
    for starts in ([1, 2], [0, 0], [0, 3], [0, 1, 2]):
        with pytest.raises(ConfigError, match="stages|--stages"):
            plan(cfg, Dist(0, 2), starts)
    with pytest.raises(ConfigError, match="stage 0"):  # layer 2 scores negatives but is on rank 1
        plan(cfg.replace(goodness={"hard_layers": [2]}), Dist(0, 2), [0, 2])
    with pytest.raises(ConfigError, match="head"):
        plan(cfg.replace(goodness={"negatives": "head"}), Dist(0, 2))
    with pytest.raises(ConfigError, match="train_timesteps"):
        plan(cfg.replace(model={"train_timesteps": 8, "activation": "relu1"}), Dist(0, 2))
    assert loss_keys(cfg) == [f"layer{i}" for i in sorted(cfg.model.loss_layers)] + [
        "head",
        "total",
    ]


@pytest.mark.slow
def test_two_stages_give_the_weights_of_one_process_bit_for_bit(tmp_path):
    """Rank 0 trains layers 0-1 and chooses the hard negatives, rank 1 layer 2 and the head, with
    one step in flight between them; two epochs (so the end-of-epoch sync and a second epoch on the
    synced state are covered), then the same run in one process."""
    cfg = tiny_yaml(tmp_path, epochs=2)
    d = yaml.safe_load(cfg.read_text())
    d["goodness"]["hard_layers"] = [1]
    cfg.write_text(yaml.safe_dump(d, sort_keys=False))
    one = run(
        ff_neuro("train", "--config", str(cfg), "--out", str(tmp_path / "one"), "--no-progress")
    )
    assert one.returncode == 0, one.stderr
    args = ("train", "--config", str(cfg), "--out", str(tmp_path / "two"), "--no-progress")
    two = run(torchrun(2, *args, "--parallel", "layers", "--stages", "0,2"))
    assert two.returncode == 0, two.stderr
    wa, wb = weights(tmp_path / "one"), weights(tmp_path / "two")
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), (k, (wa[k] - wb[k]).abs().max().item())
    # the optimiser state rank 1 owned reached rank 0's checkpoint (resume needs it)
    ta, _ = load_checkpoint(tmp_path / "one" / "checkpoint.safetensors")
    tb, _ = load_checkpoint(tmp_path / "two" / "checkpoint.safetensors")
    assert ta.keys() == tb.keys()
    for k in ta:
        assert torch.equal(ta[k], tb[k]), k
    # the logged losses are every stage's, added up
    la = [
        json.loads(x)["loss"] for x in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()
    ]
    lb = [
        json.loads(x)["loss"] for x in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [sorted(r) for r in la] == [sorted(r) for r in lb]
    for ra, rb in zip(la, lb):
        for k in ra:
            assert ra[k] == pytest.approx(rb[k], rel=1e-6, abs=1e-7), k
    m = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert m["parallel"] == {"mode": "layers", "stages": [0, 2]}
    assert (
        m["test_acc_goodness"]
        == json.loads((tmp_path / "one" / "metrics.json").read_text())["test_acc_goodness"]
    )


@pytest.mark.slow
def test_a_stage_plan_it_cannot_run_is_one_line(tmp_path):
    cfg = tiny_yaml(tmp_path)
    args = ("train", "--config", str(cfg), "--out", str(tmp_path / "x"), "--no-progress")
    res = run(torchrun(2, *args, "--parallel", "layers", "--stages", "0,1,2"))
    assert res.returncode != 0
    ours = [line for line in res.stderr.splitlines() if line.startswith("ff-neuro: error:")]
    assert ours and "--stages" in ours[0]
