import gzip

import numpy as np
import pytest

from ff_neuro.data.idx import parse_idx, read_bytes


def idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def test_parse_roundtrip():
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out = parse_idx(idx_bytes(arr))
    assert out.shape == (2, 3, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, arr)


def test_bad_magic_and_size():
    with pytest.raises(ValueError, match="magic"):
        parse_idx(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="size mismatch"):
        parse_idx(idx_bytes(np.zeros((2, 2)))[:-1])


def test_read_bytes_gzip(tmp_path):
    raw = idx_bytes(np.ones((3,)))
    (tmp_path / "a.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "b").write_bytes(raw)
    assert read_bytes(tmp_path / "a.gz") == raw == read_bytes(tmp_path / "b")
