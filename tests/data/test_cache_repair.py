"""Issue 12: a damaged data cache repairs itself; a data.root that does not exist is an error."""

import gzip
import os

import pytest

from ff_neuro.data import sources
from ff_neuro.data.sources import PARTS, fetch_raw
from ff_neuro.errors import ChecksumError, DatasetNotFoundError
from tests.data.test_sources import fake_spec, write  # noqa: F401  (fixture)


@pytest.fixture
def offline_source(fake_spec, tmp_path, monkeypatch):  # noqa: F811
    src = tmp_path / "pkg"
    write(src, fake_spec)
    monkeypatch.setitem(
        sources.SPECS,
        "fake",
        sources.SPECS["fake"].__class__(
            "fake", sources.SPECS["fake"].md5, (), lambda tmp: src, "hint"
        ),
    )
    return fake_spec


def test_truncated_gz_in_cache_is_moved_aside_and_fetched_again(offline_source, tmp_path):
    cache = tmp_path / "cache" / "fake"
    cache.mkdir(parents=True)
    for p, b in offline_source.items():
        (cache / (p + ".gz")).write_bytes(gzip.compress(b))
    gz = cache / (PARTS[0] + ".gz")
    gz.write_bytes(gz.read_bytes()[:20])  # a killed download
    (cache / ".t10k-images-idx3-ubyte.x1y2.tmp").write_bytes(b"half")  # a killed cache write
    with pytest.warns(
        UserWarning, match="damaged .*moved it to train-images-idx3-ubyte.gz.damaged"
    ):
        assert fetch_raw("fake") == offline_source
    assert (cache / (PARTS[0] + ".gz.damaged")).is_file() and not gz.exists()
    assert (cache / PARTS[0]).read_bytes() == offline_source[PARTS[0]]
    assert not list(cache.glob(".*.tmp"))
    assert fetch_raw("fake") == offline_source  # repaired: no warning any more


def test_md5_mismatch_in_cache_is_repaired(offline_source, tmp_path):
    write(
        tmp_path / "cache" / "fake",
        {**offline_source, PARTS[2]: b"\x00\x00\x08\x01\x00\x00\x00\x01\x07"},
    )
    with pytest.warns(UserWarning, match="damaged"):
        assert fetch_raw("fake") == offline_source


def test_damaged_explicit_root_is_a_clear_error(fake_spec, tmp_path):  # noqa: F811
    mine = tmp_path / "mine"
    mine.mkdir()
    for p, b in fake_spec.items():
        (mine / (p + ".gz")).write_bytes(gzip.compress(b)[:15])
    with pytest.raises(ChecksumError, match="cannot be decompressed") as e:
        fetch_raw("fake", mine)
    assert "\n" not in str(e.value) and (mine / (PARTS[0] + ".gz")).exists()


def test_root_that_does_not_exist_is_an_error(fake_spec, tmp_path, monkeypatch):  # noqa: F811
    write(tmp_path / "cache" / "fake", fake_spec)  # the cache would work: it must not be used
    with pytest.raises(DatasetNotFoundError, match="data.root '/no/such/folder' is not a folder"):
        fetch_raw("fake", "/no/such/folder")
    monkeypatch.setenv("FF_NEURO_DATA", str(tmp_path / "nope"))
    with pytest.raises(DatasetNotFoundError, match="FF_NEURO_DATA"):
        fetch_raw("fake")


def test_cli_root_that_does_not_exist(tmp_path, capsys):
    from ff_neuro.cli import main

    out = tmp_path / "run"
    rc = main(
        [
            "train",
            "--config",
            "mnist-quick",
            "--out",
            str(out),
            "--device",
            "cpu",
            "--epochs",
            "1",
            "--set",
            "data.root=/no/such/folder",
            "--no-progress",
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "data.root '/no/such/folder' is not a folder" in err[0]
    assert not (out / "checkpoint.safetensors").exists() and not (out / ".lock").exists()
    assert os.listdir(out) == []
