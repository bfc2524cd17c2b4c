"""Data-parallel FF under real torchrun (gloo, 2 CPU processes) against the single-process trainer:
the same weights, a killed rank ending the job, and --resume with another world size."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from ff_neuro.checkpoint import load_checkpoint
from ff_neuro.ff.distributed import Dist, DistributedError, check_batch, rows_of_rank, shard
from tests.conftest import tiny_config

# Float bound of the comparison (2 ranks × B/2 vs 1 process × B). The ranks average their gradients
# in another order of additions than one process summing the batch (and oneDNN may block a conv of
# B/2 images differently from one of B), so gradients agree to ~1e-7 relative; Adam turns a
# gradient g into ~lr·g/|g|, which keeps that relative size except for elements whose gradient is
# itself at the rounding level, where the sign of g/|g| can flip. A few steps at lr 1e-3 therefore
# leave weights equal to ~1e-6 (ATOL, RTOL), but for the rare rounding-level elements (at most
# RARE of a tensor's elements; one of the head's 250,880 on an Intel Xeon Ice Lake), which stay
# within 2·lr per step. Both halves are checked.
ATOL, RTOL = 1e-5, 1e-4
RARE = 1e-4
LR, STEPS = 1e-3, 10  # tiny_yaml: lr = head_lr = 1e-3, 200 training images in batches of 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_yaml(tmp_path: Path, **train) -> Path:
    cfg = tiny_config(
        **{"epochs": 1, "batch_size": 20, "val_goodness": False, "eval_batch_size": 200, **train}
    ).replace(
        goodness={"negatives": "hard"},
        data={"train_subset": 200},
        model={"norm": "none", "activation": "relu1", "activation_scale": 4.0},
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    return path


def ff_neuro(*args: str) -> list[str]:
    return [sys.executable, "-m", "ff_neuro", *args]


def torchrun(n: int, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc-per-node={n}",
        "--master-addr=127.0.0.1",
        f"--master-port={free_port()}",
        "-m",
        "ff_neuro",
        *args,
    ]


def run(cmd: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "FF_NEURO_NO_MIRRORS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    tensors, _ = load_checkpoint(run_dir / "checkpoint.safetensors")
    return {k: v for k, v in tensors.items() if not k.startswith("opt.")}


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    epochs = len((b / "metrics.jsonl").read_text().splitlines())
    for k in wa:
        off = ~torch.isclose(wa[k], wb[k], atol=ATOL, rtol=RTOL)
        worst = (wa[k] - wb[k]).abs().max().item()
        assert off.sum().item() <= RARE * off.numel(), (k, off.sum().item(), worst)
        assert worst <= 2 * LR * STEPS * epochs, (k, worst)


def test_sharding_and_batch_check():
    idx = torch.arange(12)
    assert shard(idx, Dist(1, 3)).tolist() == [4, 5, 6, 7]
    assert rows_of_rank(torch.arange(6), Dist(2, 3)).tolist() == [4, 5]
    assert check_batch(Dist(0, 4), 40) == 10
    with pytest.raises(DistributedError, match="not divisible"):
        check_batch(Dist(0, 3), 50)


@pytest.mark.slow
def test_two_ranks_give_the_weights_of_one_process(tmp_path):
    # with augmentation on: the offsets and mirrors are drawn for the global batch, so the ranks'
    # halves move exactly as one process's batch does. With a budget too: rank 0 decides before the
    # first step and again after epoch 1, and every rank trains the schedule it broadcasts (a budget
    # this generous fits both epochs, in one process as in two)
    cfg = tiny_yaml(tmp_path, augment_shift=2, augment_flip=True, epochs=2, budget_minutes=30.0)
    one = run(
        ff_neuro("train", "--config", str(cfg), "--out", str(tmp_path / "one"), "--no-progress")
    )
    assert one.returncode == 0, one.stderr
    two = run(
        torchrun(2, "train", "--config", str(cfg), "--out", str(tmp_path / "two"), "--no-progress")
    )
    assert two.returncode == 0, two.stderr
    assert_same_weights(tmp_path / "one", tmp_path / "two")
    # rank 0 alone wrote the run: one log line per epoch, and the world size in metrics.json
    lines = (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    assert metrics["budget"]["plans"] == [[0, 2]] and metrics["budget"]["replanned_epoch_s"] > 0


@pytest.mark.slow
def test_resume_with_another_world_size_continues_exactly(tmp_path):
    cfg = tiny_yaml(tmp_path, epochs=2)
    straight = run(
        ff_neuro("train", "--config", str(cfg), "--out", str(tmp_path / "a"), "--no-progress")
    )
    assert straight.returncode == 0, straight.stderr
    first = run(
        torchrun(
            2,
            "train",
            "--config",
            str(cfg),
            "--out",
            str(tmp_path / "b"),
            "--epochs",
            "1",
            "--no-progress",
        )
    )
    assert first.returncode == 0, first.stderr
    resumed = run(
        ff_neuro(
            "train", "--config", str(cfg), "--out", str(tmp_path / "b"), "--resume", "--no-progress"
        )
    )
    assert resumed.returncode == 0, resumed.stderr
    assert_same_weights(tmp_path / "a", tmp_path / "b")


def _worker_pids(parent: int) -> dict[int, int]:
    """{LOCAL_RANK: pid} of torchrun's worker processes under ``parent``."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text().split()
        except OSError:
            continue
        if int(stat[3]) != parent:
            continue
        for item in env:
            if item.startswith(b"LOCAL_RANK="):
                out[int(item.split(b"=")[1])] = int(entry.name)
    return out


@pytest.mark.slow
def test_a_killed_rank_ends_the_job_with_one_line(tmp_path):
    cfg = tiny_yaml(tmp_path, epochs=50)
    out = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "FF_NEURO_NO_MIRRORS": "1"}
    proc = subprocess.Popen(
        torchrun(2, "train", "--config", str(cfg), "--out", str(out), "--no-progress"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 300
        while not (out / "metrics.jsonl").exists():  # both ranks are in the training loop
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "training never started"
            time.sleep(0.2)
        workers = _worker_pids(proc.pid)
        assert set(workers) == {0, 1}
        os.kill(workers[1], signal.SIGKILL)
        _, err = proc.communicate(timeout=120)  # no hang
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    ours = [line for line in err.splitlines() if line.startswith("ff-neuro: error:")]
    assert ours, err
    assert "rank" in ours[0] and "resume" in ours[0]
    # the last checkpoint survived and resumes
    assert (out / "checkpoint.safetensors").is_file()
