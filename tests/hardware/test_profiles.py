"""Hardware profiles: shipped files load with sources; malformed files fail with clear errors."""

from __future__ import annotations

import copy

import pytest
import yaml

from ff_neuro.hardware.profiles import (
    FIELDS,
    ProfileError,
    available_profiles,
    load_profile,
    parse_profile,
    profile_dirs,
)


def test_shipped_profiles_load_with_a_source_for_every_field():
    names = available_profiles()
    assert {"loihi", "loihi2", "ideal", "truenorth"} <= set(names)
    for n in names:
        p = load_profile(n)
        assert set(p.sources) == set(FIELDS) and all(p.sources.values())


def test_published_figures_and_nulls():
    loihi, loihi2 = load_profile("loihi"), load_profile("loihi2")
    assert (loihi.cores_per_chip, loihi.neurons_per_core, loihi.energy_per_synop_j) == (
        128,
        1024,
        23.6e-12,
    )
    assert loihi.synaptic_memory_bits_per_core == 128 * 1024 * 8
    assert (
        loihi2.neurons_per_core == 8192 and loihi2.energy_per_synop_j is None
    )  # unpublished → null
    assert loihi.deployable and loihi2.deployable and load_profile("ideal").deployable
    assert not load_profile("truenorth").deployable and not load_profile("ideal").fixed_point


def test_profiles_are_found_relative_to_the_package():
    assert profile_dirs()[0].name == "hardware_profiles" and profile_dirs()[0].is_dir()


def _data(name="loihi"):
    return yaml.safe_load(open(profile_dirs()[0] / f"{name}.yaml"))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("references"), "missing keys"),
        (lambda d: d.update(extra=1), "unknown keys"),
        (lambda d: d["fields"].pop("weight_bits"), "fields missing"),
        (lambda d: d["fields"].update(foo={"value": 1, "source": "lava: x"}), "unknown"),
        (lambda d: d["fields"]["weight_bits"].update(value="eight"), "must be a number or null"),
        (lambda d: d["fields"]["weight_bits"].update(value=8.5), "must be an integer"),
        (lambda d: d["fields"]["energy_per_synop_j"].update(value=-1.0), "must be positive"),
        (
            lambda d: d["fields"]["cores_per_chip"].update(source="a blog"),
            "must start with a reference key",
        ),
        (lambda d: d["fields"]["cores_per_chip"].pop("source"), "exactly 'value' and 'source'"),
        (lambda d: d.update(fixed_point="yes"), "fixed_point must be true or false"),
    ],
)
def test_malformed_profiles_raise_profile_error(mutate, message):
    d = copy.deepcopy(_data())
    mutate(d)
    with pytest.raises(ProfileError, match=message):
        parse_profile(d, "bad.yaml")


def test_bad_yaml_and_unknown_name(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ProfileError, match="invalid YAML"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="no hardware profile named 'loihi9'"):
        load_profile("loihi9")


def test_a_profile_from_a_path(tmp_path):
    d = _data("loihi2")
    d["name"] = "custom"
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(d))
    assert load_profile(path).name == "custom"
