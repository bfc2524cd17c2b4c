"""Hardware profiles: strict YAML files in ``hardware_profiles/`` with a cited source per figure.

Schema (every key required, no other keys)::

    name: loihi
    description: ...
    fixed_point: true            # false: float (the ideal machine)
    references: {key: "full citation", ...}
    fields:
      <field>: {value: <number or null>, source: "<reference key>: <detail>"}

``null`` means "not published / not known": the figure is never guessed, and every estimate that
needs it is reported as ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import FFNeuroError

INT_FIELDS = (
    "weight_bits",
    "state_bits",
    "decay_bits",
    "threshold_bits",
    "bias_mant_bits",
    "bias_exp_bits",
    "input_bits",
    "chips",
    "cores_per_chip",
    "neurons_per_core",
    "synaptic_memory_bits_per_core",
    "fan_in_per_core",
)
FLOAT_FIELDS = (
    "energy_per_synop_j",
    "energy_per_neuron_update_j",
    "energy_per_spike_j",
    "time_per_synop_s",
    "time_per_step_s",
)
FIELDS = INT_FIELDS + FLOAT_FIELDS
TOP_KEYS = ("name", "description", "fixed_point", "references", "fields")
QUANT_FIELDS = (
    "weight_bits",
    "state_bits",
    "decay_bits",
    "threshold_bits",
    "bias_mant_bits",
    "bias_exp_bits",
    "input_bits",
)


class ProfileError(FFNeuroError):
    pass


@dataclass(frozen=True)
class HardwareProfile:
    name: str
    description: str
    fixed_point: bool
    weight_bits: int | None = None
    state_bits: int | None = None
    decay_bits: int | None = None
    threshold_bits: int | None = None
    bias_mant_bits: int | None = None
    bias_exp_bits: int | None = None
    input_bits: int | None = None
    chips: int | None = None
    cores_per_chip: int | None = None
    neurons_per_core: int | None = None
    synaptic_memory_bits_per_core: int | None = None
    fan_in_per_core: int | None = None
    energy_per_synop_j: float | None = None
    energy_per_neuron_update_j: float | None = None
    energy_per_spike_j: float | None = None
    time_per_synop_s: float | None = None
    time_per_step_s: float | None = None
    sources: dict = field(default_factory=dict, compare=False)
    references: dict = field(default_factory=dict, compare=False)
    path: str | None = field(default=None, compare=False)

    @property
    def deployable(self) -> bool:
        """True when Lava can run a network under this profile (float, or Loihi-style fixed point)."""
        return not self.fixed_point or all(getattr(self, f) is not None for f in QUANT_FIELDS)


def profile_dirs() -> list[Path]:
    """Where profiles are looked up: the repository's ``hardware_profiles/``, then package data."""
    import ff_neuro

    pkg = Path(ff_neuro.__file__).resolve().parent
    return [pkg.parent / "hardware_profiles", pkg / "hardware_profiles"]


def available_profiles() -> list[str]:
    names: set[str] = set()
    for d in profile_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.yaml"))
    return sorted(names)


def _resolve(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return p
    for d in profile_dirs():
        cand = d / f"{name_or_path}.yaml"
        if cand.is_file():
            return cand
    raise ProfileError(
        f"no hardware profile named {str(name_or_path)!r}; available: {available_profiles()} "
        f"(or pass the path of a profile .yaml file)"
    )


def _number(value, key: str, where: str, integer: bool):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"{where}: fields.{key}.value must be a number or null, got {value!r}")
    if integer and (not float(value).is_integer()):
        raise ProfileError(f"{where}: fields.{key}.value must be an integer, got {value!r}")
    if value <= 0:
        raise ProfileError(f"{where}: fields.{key}.value must be positive, got {value!r}")
    return int(value) if integer else float(value)


def parse_profile(data, where: str = "<profile>") -> HardwareProfile:
    """Validate a parsed YAML mapping; every problem raises :class:`ProfileError` naming the key."""
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile must be a YAML mapping with keys {list(TOP_KEYS)}")
    missing = [k for k in TOP_KEYS if k not in data]
    extra = [k for k in data if k not in TOP_KEYS]
    if missing or extra:
        raise ProfileError(
            f"{where}: missing keys {missing}, unknown keys {extra}; required: {list(TOP_KEYS)}"
        )
    if not isinstance(data["name"], str) or not isinstance(data["description"], str):
        raise ProfileError(f"{where}: name and description must be strings")
    if not isinstance(data["fixed_point"], bool):
        raise ProfileError(f"{where}: fixed_point must be true or false")
    refs = data["references"]
    if (
        not isinstance(refs, dict)
        or not refs
        or not all(isinstance(v, str) and v for v in refs.values())
    ):
        raise ProfileError(
            f"{where}: references must map citation keys to non-empty citation strings"
        )
    fields_ = data["fields"]
    if not isinstance(fields_, dict):
        raise ProfileError(f"{where}: fields must be a mapping of field -> {{value, source}}")
    missing = [k for k in FIELDS if k not in fields_]
    extra = [k for k in fields_ if k not in FIELDS]
    if missing or extra:
        raise ProfileError(
            f"{where}: fields missing {missing}, unknown {extra}; every field must be listed "
            f"(value null when unknown)"
        )
    values, sources = {}, {}
    for key in FIELDS:
        entry = fields_[key]
        if not isinstance(entry, dict) or set(entry) != {"value", "source"}:
            raise ProfileError(
                f"{where}: fields.{key} must be a mapping with exactly 'value' and 'source'"
            )
        src = entry["source"]
        if not isinstance(src, str) or not src.strip():
            raise ProfileError(f"{where}: fields.{key}.source must cite its origin")
        values[key] = _number(entry["value"], key, where, key in INT_FIELDS)
        if values[key] is not None and src.split(":")[0].strip() not in refs:
            raise ProfileError(
                f"{where}: fields.{key}.source must start with a reference key "
                f"({sorted(refs)}) followed by ':', got {src!r}"
            )
        sources[key] = src
    prof = HardwareProfile(
        name=data["name"],
        description=data["description"],
        fixed_point=data["fixed_point"],
        sources=sources,
        references=dict(refs),
        path=None if where.startswith("<") else where,
        **values,
    )
    if prof.fixed_point and prof.deployable:
        for k in ("weight_bits", "input_bits"):
            if getattr(prof, k) < 2:
                raise ProfileError(f"{where}: fields.{k} must be >= 2 for a fixed-point profile")
    return prof


def load_profile(name_or_path: str | Path | HardwareProfile) -> HardwareProfile:
    """A profile by name (``loihi2``) or path; malformed files raise :class:`ProfileError`."""
    if isinstance(name_or_path, HardwareProfile):
        return name_or_path
    path = _resolve(name_or_path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ProfileError(
            f"{path}: invalid YAML ({str(e).splitlines()[0]}); fix the file"
        ) from None
    return parse_profile(data, str(path))


def absent_figure(profile: str | HardwareProfile, field: str, full: bool = False) -> str:
    """Why ``field`` of a profile has no value, from its cited source: "not published: <detail>
    (<reference>)" for a chip (the reference key, or with ``full`` the whole citation), "not modelled:
    …" for a float profile, whose figures are absent by definition."""
    prof = load_profile(profile)
    source = prof.sources.get(field, "")
    key, _, detail = (s.strip() for s in source.partition(":"))
    what = "not published" if prof.fixed_point else "not modelled"
    if key not in prof.references or not detail:
        return f"{what} ({source or 'no source given'})"
    cite = prof.references[key] if full else key
    said = detail if detail.startswith(what) else f"{what}: {detail}"
    return f"{said} ({cite})"
