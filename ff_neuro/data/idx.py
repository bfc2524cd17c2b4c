"""Reader for the IDX format of MNIST-style files (raw or gzip)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_bytes(path: str | Path) -> bytes:
    """The file's content, decompressed when it is gzip."""
    data = Path(path).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def parse_idx(data: bytes) -> np.ndarray:
    """Parse IDX bytes: magic 0x0000 | dtype | ndim, then ndim big-endian int32 sizes, then data."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError("not an IDX file (bad magic number)")
    ndim = data[3]
    shape = tuple(int(s) for s in np.frombuffer(data, ">i4", count=ndim, offset=4))
    dtype = np.dtype(_DTYPES[data[2]])
    offset = 4 + 4 * ndim
    count = int(np.prod(shape))
    if len(data) - offset != count * dtype.itemsize:
        raise ValueError(
            f"IDX size mismatch: header says {shape}, file has {len(data) - offset} bytes"
        )
    return (
        np.frombuffer(data, dtype, count=count, offset=offset)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )
