"""Atomic file writes: write to a temporary file in the same folder, fsync, then rename."""

from __future__ import annotations

import glob
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _remove_old_tmp(path)


STALE_TMP_SECONDS = (
    3600  # a temporary file of this target older than this belongs to a killed write
)


def _remove_old_tmp(path: Path) -> None:
    """Remove ``.NAME.*.tmp`` files of ``path`` left by killed writes (old enough not to be a live writer's)."""
    import time

    now = time.time()
    for p in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if now - p.stat().st_mtime > STALE_TMP_SECONDS:
                p.unlink()
        except OSError:
            pass


def ensure_writable_dir(path: str | Path, what: str = "--out") -> Path:
    """Create folder ``path`` (and parents) and check that files can be written in it; else :class:`RunDirError`
    with one line saying why (a file is in the way, a parent is a file, no permission)."""
    from .errors import RunDirError

    path = Path(path)
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise RunDirError(f"{what} {path}: {p} is a file, not a folder; choose another {what}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunDirError(f"{what} {path}: cannot create the folder ({e.strerror or e})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise RunDirError(f"{what} {path}: the folder is not writable; choose another {what}")
    return path


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def append_jsonl(path: str | Path, obj: Any) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(obj) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: str | Path) -> list[dict]:
    """The records of a JSON-lines log; [] when the file is absent.

    A torn last line (a write killed half-way) is dropped with a warning; a bad line before the last
    one is damage no crash can cause and raises :class:`~ff_neuro.errors.RunFileError`.
    """
    import warnings

    from .errors import RunFileError

    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_bytes().split(b"\n")
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("not a JSON object")
        except ValueError as e:
            if all(not s.strip() for s in lines[i + 1 :]):
                warnings.warn(
                    f"{path}: dropped a torn last line (a write was interrupted): {line[:60]!r}",
                    stacklevel=2,
                )
                break
            raise RunFileError(
                f"{path}: line {i + 1} is not a JSON record ({e}); the log is damaged"
            ) from None
        records.append(rec)
    return records


def write_jsonl(path: str | Path, records: list[Any]) -> None:
    """Replace a JSON-lines file atomically (a kill leaves the old or the new file, never a mix)."""
    atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in records).encode())


def remove_stale_tmp(folder: str | Path) -> list[Path]:
    """Delete the temporary files of killed :func:`atomic_write_bytes` calls in ``folder`` (``.NAME.*.tmp``).
    Only call it while no other process writes into ``folder`` (e.g. under :class:`RunLock`)."""
    removed = []
    for p in Path(folder).glob(".*.tmp"):
        if p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


class RunLock:
    """One writer per run directory: ``FOLDER/.lock`` holds the PID of the process that writes the run.

    The lock itself is an ``flock`` on that file, which the kernel releases when the process dies however it
    dies, so a lock left by a killed process is stale and is taken over (with a warning). A second writer
    while the first runs gets :class:`~ff_neuro.errors.RunDirError` at once, naming the PID.
    """

    NAME = ".lock"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / self.NAME
        self.fd: int | None = None

    def _holder(self) -> str:
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def acquire(self) -> RunLock:
        import fcntl
        import warnings

        from .errors import RunDirError

        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise RunDirError(
                    f"{self.folder} is in use by another ff-neuro process (PID {self._holder()}, "
                    f"lock {self.path}); wait for it to finish or choose another --out"
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the holder removed the file between our open and flock: try again
                os.close(fd)
                continue
            old = os.read(fd, 64).decode(errors="replace").strip()
            if old and old != str(os.getpid()):
                warnings.warn(
                    f"{self.path}: took over the stale lock of process {old}, which no longer runs",
                    stacklevel=2,
                )
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            os.fsync(fd)
            self.fd = fd
            return self
        raise RunDirError(f"could not lock {self.folder}: its lock file keeps changing")

    def release(self) -> None:
        if self.fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
