"""Acquisition order and its error paths, on small fake files (no network, no npm)."""

import hashlib

import numpy as np
import pytest

from ff_neuro.data import sources
from ff_neuro.data.sources import PARTS, DatasetSpec, fetch_raw
from ff_neuro.errors import ChecksumError, DatasetNotFoundError
from tests.data.test_idx import idx_bytes


@pytest.fixture
def fake_spec(monkeypatch, tmp_path):
    """A registered fake dataset whose four parts are tiny IDX files; offline fetch yields nothing."""
    files = {p: idx_bytes(np.full((2, 2), i)) for i, p in enumerate(PARTS)}
    spec = DatasetSpec(
        "fake",
        {p: hashlib.md5(b).hexdigest() for p, b in files.items()},
        (),
        lambda tmp: None,
        "a hint",
    )
    monkeypatch.setitem(sources.SPECS, "fake", spec)
    monkeypatch.setenv("FF_NEURO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FF_NEURO_NO_MIRRORS", "1")
    monkeypatch.delenv("FF_NEURO_DATA", raising=False)
    return files


def write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for p, b in files.items():
        (folder / p).write_bytes(b)


def test_explicit_path_is_used_and_verified(fake_spec, tmp_path):
    write(tmp_path / "mine", fake_spec)
    assert fetch_raw("fake", tmp_path / "mine") == fake_spec


def test_env_var_then_cache(fake_spec, tmp_path, monkeypatch):
    write(tmp_path / "env" / "fake", fake_spec)  # a dataset-named subfolder also works
    monkeypatch.setenv("FF_NEURO_DATA", str(tmp_path / "env"))
    assert fetch_raw("fake") == fake_spec
    monkeypatch.delenv("FF_NEURO_DATA")
    write(tmp_path / "cache" / "fake", fake_spec)
    assert fetch_raw("fake") == fake_spec


def test_offline_fetch_fills_cache(fake_spec, tmp_path, monkeypatch):
    src = tmp_path / "pkg"
    write(src, fake_spec)
    monkeypatch.setitem(
        sources.SPECS,
        "fake",
        sources.SPECS["fake"].__class__(
            "fake", sources.SPECS["fake"].md5, (), lambda tmp: src, "hint"
        ),
    )
    assert fetch_raw("fake") == fake_spec
    assert (tmp_path / "cache" / "fake" / PARTS[0]).read_bytes() == fake_spec[PARTS[0]]


def test_missing_dataset_says_how_to_fix(fake_spec):
    with pytest.raises(DatasetNotFoundError, match="FF_NEURO_DATA") as e:
        fetch_raw("fake")
    assert "\n" not in str(e.value)


def test_checksum_mismatch_is_an_error(fake_spec, tmp_path):
    bad = dict(fake_spec)
    bad[PARTS[1]] = idx_bytes(np.full((2, 2), 99))
    write(tmp_path / "bad", bad)
    with pytest.raises(ChecksumError, match="does not match"):
        fetch_raw("fake", tmp_path / "bad")


def test_unknown_dataset():
    with pytest.raises(DatasetNotFoundError, match="unknown dataset"):
        fetch_raw("cifar-1000")


def test_mirrors_are_tried_then_the_offline_package(fake_spec, tmp_path, monkeypatch):
    """With mirrors allowed, each mirror is asked for every .gz part; a mirror that serves them fills
    the cache, and an unreachable one falls through to the offline package."""
    import gzip
    import io

    served = {p: gzip.compress(b) for p, b in fake_spec.items()}
    asked = []

    def urlopen(url, timeout):
        asked.append(url)
        if url.startswith("http://down/"):
            raise OSError("unreachable")
        return io.BytesIO(served[url.rsplit("/", 1)[1].removesuffix(".gz")])

    monkeypatch.setattr(sources.urllib.request, "urlopen", urlopen)
    monkeypatch.delenv("FF_NEURO_NO_MIRRORS")
    spec = sources.SPECS["fake"]
    mirrored = DatasetSpec("fake", spec.md5, ("http://down/", "http://up/"), spec.offline, "h")
    monkeypatch.setitem(sources.SPECS, "fake", mirrored)
    assert fetch_raw("fake") == fake_spec
    assert asked[0] == "http://down/" + PARTS[0] + ".gz" and len(asked) == 1 + len(PARTS)
    assert (tmp_path / "cache" / "fake" / PARTS[0]).read_bytes() == fake_spec[PARTS[0]]

    src = tmp_path / "pkg"
    write(src, fake_spec)
    offline = DatasetSpec("fake", spec.md5, ("http://down/",), lambda tmp: src, "h")
    monkeypatch.setitem(sources.SPECS, "fake", offline)
    monkeypatch.setenv("FF_NEURO_CACHE", str(tmp_path / "cache2"))
    assert fetch_raw("fake") == fake_spec
