"""The saved spiking spec: ``RUN_DIR/spiking/<variant>-<encoding>-T<T>.safetensors`` + ``.json``.

``ff-neuro spike`` writes one per (variant, encoding, T) it evaluates; ``deploy``, ``export``,
``compare`` and ``report`` load it (:func:`run_spec`) and convert with the default calibration only
when it is missing, saying so in a warning (one line on stderr in the CLI). No pickles: the arrays
(``layer{i}.weight``, ``layer{i}.bias``, ``head.weight``, ``head.bias``) are safetensors, everything
else JSON:

  * ``format`` (:data:`FORMAT`), ``safetensors_sha256`` (the arrays file, so a torn pair is refused);
  * ``checkpoint``: {file, sha256} of the run checkpoint it was converted from: a spec whose hash
    differs from the run's current checkpoint is refused (:class:`SpecError`);
  * ``calibration``: method, percentile, samples, seed, source (the seeded training subset), dataset;
    for a model trained in spike units (:func:`~ff_neuro.spiking.convert.is_native`), whose
    conversion uses none of them, only ``{"calibration": "none: native spike units"}``;
  * ``timesteps``, ``encoding``, ``neuron_reset``, ``loss_layers``, ``readout_layers``, ``layers``
    (the scalar fields of every :class:`LIFConvSpec`) and the spec's own ``meta``.
Both files are written atomically, the arrays first: the JSON names the arrays it belongs to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from ..ff.run import Run, open_run
from ..io import atomic_write_bytes, atomic_write_json
from .convert import is_native, spiking_spec_from_run
from .errors import SpikingError
from .spec import LIFConvSpec, SpikingNetSpec

FORMAT = "ff_neuro-spike-spec-1"
SPEC_DIR = "spiking"
ARRAY_FIELDS = ("weight", "bias")
DEFAULT_CALIBRATION = {"calibration": "spikes", "percentile": 99.9, "calib_samples": 200, "seed": 0}
NATIVE = "none: native spike units"  # the calibration record of a model trained in spike units
CALIBRATION_SOURCE = "train split: seeded subset of calib_samples images, each with its true and with the neutral label"


class SpecError(SpikingError):
    """A saved spike spec that cannot be used: damaged, of another format, or of another checkpoint."""


def spec_path(run_dir: str | Path, variant: str, encoding: str, timesteps: int) -> Path:
    """Where ``ff-neuro spike`` saves the spec of (variant, encoding, T) of a run (the .safetensors)."""
    return Path(run_dir) / SPEC_DIR / f"{variant}-{encoding}-T{int(timesteps)}.safetensors"


def calibration_record(run: Run, calibration: dict[str, Any]) -> dict[str, Any]:
    """What a spec of ``run`` records as its calibration: the parameters it was converted with and the
    images they came from, or ``{"calibration": NATIVE}`` for a model trained in spike units, whose
    conversion takes its scales from the config and uses no calibration images."""
    if run.kind == "rate" and is_native(run.cfg):
        return {"calibration": NATIVE}
    return {**calibration, "source": CALIBRATION_SOURCE, "dataset": run.cfg.data.dataset}


def save_spec(
    path: str | Path, spec: SpikingNetSpec, run: Run, calibration: dict[str, Any]
) -> Path:
    """Write ``spec`` (converted from ``run`` with ``calibration``) to ``path`` and its JSON beside it."""
    path = Path(path)
    arrays = {
        f"layer{i}.{f}": np.ascontiguousarray(getattr(layer, f), dtype=np.float32)
        for i, layer in enumerate(spec.layers)
        for f in ARRAY_FIELDS
    }
    if spec.head_weight is not None:
        arrays["head.weight"] = np.ascontiguousarray(spec.head_weight, dtype=np.float32)
        arrays["head.bias"] = np.ascontiguousarray(spec.head_bias, dtype=np.float32)
    blob = st_save(arrays, metadata={"format": FORMAT})
    layers = [
        {k: v for k, v in asdict(layer).items() if k not in ARRAY_FIELDS} for layer in spec.layers
    ]
    resets = sorted({layer.reset for layer in spec.layers})
    doc = {
        "format": FORMAT,
        "safetensors_sha256": hashlib.sha256(blob).hexdigest(),
        "checkpoint": {"file": run.checkpoint.name, "sha256": run.sha256},
        "calibration": calibration_record(run, calibration),
        "variant": spec.meta.get("variant"),
        "timesteps": int(spec.timesteps),
        "encoding": spec.encoding,
        "neuron_reset": resets[0] if len(resets) == 1 else resets,
        "loss_layers": [int(v) for v in spec.loss_layers],
        "readout_layers": [int(v) for v in spec.readout_layers],
        "layers": layers,
        "meta": spec.meta,
        "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    doc = json.loads(json.dumps(doc, default=_plain))  # tuples → lists, numpy scalars → numbers
    atomic_write_bytes(path, blob)
    atomic_write_json(path.with_suffix(".json"), doc)
    return path


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def load_spec(path: str | Path, run: Run | None = None) -> tuple[SpikingNetSpec, dict[str, Any]]:
    """(spec, its JSON document) from ``path``; with ``run``, refuse a spec of another checkpoint."""
    path = Path(path)
    doc_path = path.with_suffix(".json")
    if not path.is_file() or not doc_path.is_file():
        raise SpecError(f"no saved spike spec at {path} (+ .json); write one with ff-neuro spike")
    try:
        doc = json.loads(doc_path.read_text())
        blob = path.read_bytes()
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {FORMAT!r}")
        if hashlib.sha256(blob).hexdigest() != doc["safetensors_sha256"]:
            raise ValueError("the arrays file does not match its JSON (a write was interrupted?)")
        arrays = st_load(blob)
        layers = [
            LIFConvSpec(
                weight=arrays[f"layer{i}.weight"],
                bias=arrays[f"layer{i}.bias"],
                **{**d, "in_shape": tuple(d["in_shape"]), "out_shape": tuple(d["out_shape"])},
            )
            for i, d in enumerate(doc["layers"])
        ]
        spec = SpikingNetSpec(
            layers,
            int(doc["timesteps"]),
            doc["encoding"],
            list(doc["loss_layers"]),
            list(doc["readout_layers"]),
            arrays.get("head.weight"),
            arrays.get("head.bias"),
            doc["meta"],
        )
    except (OSError, ValueError, KeyError, TypeError, SafetensorError) as e:
        raise SpecError(
            f"saved spike spec {path} is damaged or not an ff_neuro spec ({e}); delete "
            f"{path.parent} and run ff-neuro spike again"
        ) from None
    if run is not None and doc["checkpoint"]["sha256"] != run.sha256:
        raise SpecError(
            f"saved spike spec {path} was converted from another checkpoint than {run.checkpoint} "
            f"(sha256 {doc['checkpoint']['sha256'][:12]}… vs {run.sha256[:12]}…): the run was "
            f"retrained; run ff-neuro spike {run.run_dir} again or delete {path.parent}"
        )
    return spec, doc


def run_spec(
    run,
    timesteps: int | None = None,
    encoding: str | None = None,
    variant: str = "static",
    device="cpu",
    say=None,
) -> tuple[SpikingNetSpec, dict[str, Any]]:
    """The spec of a run that later stages use: the one ``ff-neuro spike`` saved, else a conversion with
    the default calibration, announced by a :func:`warnings.warn` (``say(line)`` replaces it).

    Returns (spec, provenance): the saved spec's calibration and file, or ``{"saved": None, ...}``."""
    run = open_run(run, device)
    T = run.cfg.spiking.timesteps if timesteps is None else int(timesteps)
    enc = run.cfg.spiking.encoding if encoding is None else encoding
    path = spec_path(run.run_dir, variant, enc, T)
    if path.is_file() or path.with_suffix(".json").is_file():
        spec, doc = load_spec(path, run)
        return spec, {
            "saved": str(path.relative_to(run.run_dir)),
            "calibration": doc["calibration"],
        }
    record = calibration_record(run, DEFAULT_CALIBRATION)
    how = (
        "(native spike units: no calibration)"
        if record["calibration"] == NATIVE
        else "with the default calibration"
    )
    (say or _warn)(
        f"no saved spike spec {path}; converting {how} "
        f"(ff-neuro spike {run.run_dir} --timesteps {T} --encoding {enc} saves one)"
    )
    spec = spiking_spec_from_run(run, T, enc, variant, device=device, **DEFAULT_CALIBRATION)
    return spec, {"saved": None, "calibration": record}


def _warn(line: str) -> None:
    warnings.warn(line, stacklevel=3)
