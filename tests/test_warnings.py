"""Every warning of the command line is one line on stderr, ``ff-neuro: warning: <message>``: a real
``ff-neuro`` process on a run that makes it warn twice (a torn last line of metrics.jsonl, and no
saved spike spec), its stderr read line by line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "ff-neuro: warning: "


def ff_neuro(*args: str) -> subprocess.CompletedProcess:
    """Run ``python -m ff_neuro ARGS`` as a user would, in its own process (default warning filters)."""
    env = {**os.environ, "FF_NEURO_NO_MIRRORS": "1", "MPLBACKEND": "Agg", "PYTHONWARNINGS": ""}
    return subprocess.run(
        [sys.executable, "-m", "ff_neuro", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_warnings_are_one_line_each(tiny_run, tmp_path):
    run_dir = tiny_run[0]
    log = run_dir / "metrics.jsonl"
    log.write_bytes(log.read_bytes() + b'{"epoch": 4, "loss": {"tot')  # training killed mid-write
    res = ff_neuro(
        "report", str(run_dir), "--out", str(tmp_path / "r"), "--samples", "20", "--spiking"
    )
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 2, lines  # nothing else: no source line, no "File ...", no traceback
    assert all(line.startswith(PREFIX) for line in lines), lines
    torn, spec = sorted(lines, key=lambda line: "torn" not in line)
    assert f"{log}: dropped a torn last line (a write was interrupted)" in torn
    assert "no saved spike spec" in spec and "default calibration" in spec
    for line in lines:  # none of Python's warning format
        assert "Warning:" not in line and ".py:" not in line
    assert res.stdout.strip() == f"report: {tmp_path / 'r' / 'index.html'}"
