"""Crash-safe run directories (issue 12): torn logs, atomic rewrites, refused shortening resumes,
one writer per run directory, honest divergence messages, stale temporary files."""

from __future__ import annotations

import json
import os

import pytest
import torch

from ff_neuro.cli import main
from ff_neuro.errors import CheckpointError, RunDirError, RunFileError, TrainingDivergedError
from ff_neuro.io import RunLock, read_jsonl, remove_stale_tmp, write_jsonl
from tests.conftest import tiny_config


def snapshot(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def micro_data(mnist):
    """200 train, 100 validation, 100 test images: a run trains in about a second."""
    from ff_neuro.data import Dataset

    return Dataset(
        "mnist",
        mnist.train.subset(200, 1),
        mnist.val.subset(100, 2),
        mnist.test.subset(100, 3),
        mnist.class_names,
    )


def micro_train(out, data, epochs=2, resume=False, **train):
    from ff_neuro.ff import train as ff_train

    cfg = tiny_config(epochs=epochs, val_goodness=False, **train)
    return ff_train(
        cfg, out, device="cpu", dataset=data, progress=False, verbose=False, resume=resume
    )


# --- metrics.jsonl ------------------------------------------------------------------------------


def test_read_jsonl_drops_a_torn_last_line(tmp_path):
    f = tmp_path / "m.jsonl"
    f.write_text('{"epoch": 1}\n{"epoch": 2}\n{"epoch": 3, "lo')
    with pytest.warns(UserWarning, match="torn last line"):
        assert read_jsonl(f) == [{"epoch": 1}, {"epoch": 2}]
    f.write_text('{"epoch": 1}\nnot json\n{"epoch": 3}\n')
    with pytest.raises(RunFileError, match="line 2"):
        read_jsonl(f)
    write_jsonl(f, [{"a": 1}])
    assert f.read_text() == '{"a": 1}\n' and read_jsonl(tmp_path / "absent.jsonl") == []
    assert not list(tmp_path.glob(".*.tmp"))


def test_report_skips_a_torn_line(tmp_path):
    from ff_neuro.analysis.report import RunFiles

    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1, "loss": {}}\n{"epo')
    with pytest.warns(UserWarning, match="torn"):
        assert [r["epoch"] for r in RunFiles.read(tmp_path).history] == [1]


def test_resume_after_torn_line_and_stale_tmp(tmp_path, micro_data):
    run = tmp_path / "run"
    micro_train(run, micro_data, epochs=2)
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 3, "lr_fac')  # killed half-way through the next epoch's line
    stale = run / ".checkpoint.safetensors.k1ll3d.tmp"
    stale.write_bytes(b"half a checkpoint")
    with pytest.warns(UserWarning, match="torn last line"):
        m = micro_train(run, micro_data, epochs=3, resume=True)
    lines = [json.loads(s) for s in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2, 3] == [r["epoch"] for r in m["history"]]
    assert not stale.exists() and not list(run.glob(".*.tmp")) and not (run / ".lock").exists()


def test_resume_cannot_shorten_a_run_and_changes_nothing(tmp_path, micro_data, capsys):
    run = tmp_path / "run"
    micro_train(run, micro_data, epochs=2)
    before = snapshot(run)
    with pytest.raises(CheckpointError, match="already trained 2 epochs"):
        micro_train(run, micro_data, epochs=1, resume=True)
    with pytest.raises(CheckpointError, match="another config"):
        micro_train(run, micro_data, epochs=2, resume=True, batch_size=25)
    assert snapshot(run) == before
    # a lower learning rate may be resumed with; the first resumed epoch records it
    m = micro_train(run, micro_data, epochs=3, resume=True, lr=5e-4)
    assert (
        m["history"][-1]["changed"] == {"train.lr": [1e-3, 5e-4]}
        and "changed" not in m["history"][0]
    )
    assert m["config"]["train"]["lr"] == 5e-4


# --- one writer per run directory ----------------------------------------------------------------


def test_second_writer_is_refused_and_stale_lock_taken_over(tmp_path, micro_data, capsys):
    run = tmp_path / "run"
    run.mkdir()
    with RunLock(run):
        assert (run / ".lock").read_text().strip() == str(os.getpid())
        with pytest.raises(
            RunDirError, match=f"in use by another ff-neuro process \\(PID {os.getpid()}"
        ):
            micro_train(run, micro_data, epochs=1)
        rc = main(
            [
                "train",
                "--config",
                "mnist-quick",
                "--out",
                str(run),
                "--device",
                "cpu",
                "--epochs",
                "1",
            ]
        )
        assert rc == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "in use by another ff-neuro process" in err[0]
    assert not (run / ".lock").exists() and not (run / "checkpoint.safetensors").exists()
    (run / ".lock").write_text("999999999\n")  # left by a process killed with -9: no flock holds it
    with pytest.warns(UserWarning, match="stale lock of process 999999999"):
        micro_train(run, micro_data, epochs=1)
    assert (run / "checkpoint.safetensors").is_file() and not (run / ".lock").exists()


def test_lock_holds_against_another_process(tmp_path):
    import subprocess
    import sys

    run = tmp_path / "run"
    run.mkdir()
    code = (
        "import sys, time; from ff_neuro.io import RunLock; l = RunLock(sys.argv[1]).acquire(); "
        "print('locked', flush=True); time.sleep(60)"
    )
    p = subprocess.Popen([sys.executable, "-c", code, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "locked"
        with pytest.raises(RunDirError, match=f"PID {p.pid}"):
            RunLock(run).acquire()
    finally:
        p.kill()
        p.wait()
    with pytest.warns(UserWarning, match=f"stale lock of process {p.pid}"):
        lock = RunLock(run).acquire()
    lock.release()


# --- divergence and temporary files --------------------------------------------------------------


def test_divergence_message_names_what_exists(tmp_path):
    from ff_neuro.ff.trainer import _check_finite

    bad = {"total": torch.tensor(float("nan"))}
    with pytest.raises(TrainingDivergedError, match="no checkpoint was written yet") as e:
        _check_finite(bad, 1, 10, tmp_path)
    assert "checkpoint.safetensors" not in str(e.value)
    (tmp_path / "checkpoint.safetensors").write_bytes(b"x")
    with pytest.raises(TrainingDivergedError, match=r"end of epoch 2\).*--resume --set train.lr"):
        _check_finite(bad, 3, 10, tmp_path)
    _check_finite({"total": torch.tensor(1.0)}, 3, 10, tmp_path)


def test_remove_stale_tmp_keeps_other_files(tmp_path):
    (tmp_path / ".metrics.json.abc.tmp").write_text("x")
    (tmp_path / "notes.tmp").write_text("kept: not ours")
    (tmp_path / "metrics.json").write_text("{}")
    assert [p.name for p in remove_stale_tmp(tmp_path)] == [".metrics.json.abc.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "notes.tmp"]


# --- kill -9 at random moments ---------------------------------------------------------------------

CHILD = """
import sys
from pathlib import Path
from ff_neuro.data import Dataset, load_dataset
from ff_neuro.ff import train
from tests.conftest import tiny_config
m = load_dataset("mnist")
d = Dataset("mnist", m.train.subset(150, 1), m.val.subset(50, 2), m.test.subset(50, 3), m.class_names)
cfg = tiny_config(epochs=5, val_goodness=False, batch_size=25).replace(model={"layers": [
    {"channels": 4, "kernel": 3, "train": False}, {"channels": 4, "kernel": 3}, {"channels": 4, "kernel": 3}]})
out = Path(sys.argv[1])
train(cfg, out, device="cpu", dataset=d, progress=False, verbose=False,
      resume=(out / "checkpoint.safetensors").exists())
"""


@pytest.mark.slow
def test_random_kill9_resumes_exactly(tmp_path):
    """Train in a child process, kill -9 it at random moments, resume until done: same weights and
    losses as a run never killed, no torn line, no temporary file, no lock left behind."""
    import random
    import signal
    import subprocess
    import sys
    import time

    from ff_neuro.checkpoint import load_checkpoint

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root, "OMP_NUM_THREADS": "1"}
    script = tmp_path / "child.py"
    script.write_text(CHILD)

    def run(out, kill_after=None, after_checkpoint=False):
        """Run the child; kill -9 it ``kill_after`` seconds after it starts (or, with
        ``after_checkpoint``, after its first checkpoint exists); True when it finished."""
        p = subprocess.Popen([sys.executable, str(script), str(out)], env=env, cwd=root)
        if kill_after is None:
            assert p.wait(timeout=600) == 0
            return True
        ckpt, t_end = out / "checkpoint.safetensors", time.perf_counter() + 600
        while after_checkpoint and not ckpt.exists() and p.poll() is None:
            assert time.perf_counter() < t_end
            time.sleep(0.02)
        try:
            p.wait(timeout=kill_after)
            assert p.returncode == 0
            return True
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            return False

    t0, straight = time.perf_counter(), tmp_path / "straight"
    p = subprocess.Popen([sys.executable, str(script), str(straight)], env=env, cwd=root)
    while not (straight / "checkpoint.safetensors").exists() and p.poll() is None:
        time.sleep(0.02)
    first_ckpt = time.perf_counter() - t0
    assert p.wait(timeout=600) == 0
    full = time.perf_counter() - t0
    epoch = (full - first_ckpt) / 4  # the 4 epochs after the first checkpoint
    rng = random.Random(12)
    killed, resumed, done = 0, 0, False
    while not done and killed < 8:
        resumed += (tmp_path / "killed" / "checkpoint.safetensors").exists()
        # the first kill lands at a random moment after the first checkpoint (whatever the load on
        # the machine, so that a resume is always exercised); the others anywhere in the run
        first = killed == 0
        after = rng.uniform(0.1, 0.9) * epoch if first else rng.uniform(0.3, 1.0) * full
        done = run(tmp_path / "killed", after, after_checkpoint=first)
        killed += not done
    if not done:
        run(tmp_path / "killed")
    assert killed >= 1 and resumed >= 1, (killed, resumed)  # killed mid-training, then resumed
    a, b = tmp_path / "straight", tmp_path / "killed"
    ta, ma = load_checkpoint(a / "checkpoint.safetensors")
    tb, mb = load_checkpoint(b / "checkpoint.safetensors")
    assert ma["epoch"] == mb["epoch"] == 5 and ta.keys() == tb.keys()
    assert all(torch.equal(ta[k], tb[k]) for k in ta)
    ha, hb = (json.loads((d / "metrics.json").read_text())["history"] for d in (a, b))
    assert [(r["epoch"], r["loss"], r["val_acc_linear"]) for r in ha] == [
        (r["epoch"], r["loss"], r["val_acc_linear"]) for r in hb
    ]
    assert read_jsonl(b / "metrics.jsonl") == hb
    assert not list(b.glob(".*.tmp")) and not (b / ".lock").exists()


def test_atomic_write_removes_old_tmp_of_the_same_file(tmp_path):
    import time

    from ff_neuro.io import atomic_write_json

    old = tmp_path / ".metrics.json.dead.tmp"
    fresh = tmp_path / ".metrics.json.live.tmp"
    other = tmp_path / ".other.json.dead.tmp"
    for f in (old, fresh, other):
        f.write_text("x")
    hours_ago = time.time() - 7200
    os.utime(old, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    atomic_write_json(tmp_path / "metrics.json", {"a": 1})
    assert not old.exists() and fresh.exists() and other.exists()
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"a": 1}
