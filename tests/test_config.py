import copy

import pytest

from ff_neuro.config import available_configs, load_config
from ff_neuro.errors import ConfigError


def test_shipped_configs_load():
    assert {"mnist-paper", "mnist-quick", "fashion-mnist"} <= set(available_configs())
    paper = load_config("mnist-paper")
    assert [layer.channels for layer in paper.model.layers] == [128, 128, 128]
    assert [layer.kernel for layer in paper.model.layers] == [7, 7, 7]
    assert paper.model.layers[0].train is False and paper.model.loss_layers == [1, 2]
    assert (paper.train.lr, paper.train.batch_size, paper.train.epochs) == (5e-5, 50, 200)
    assert paper.labels.K == 0.35


def test_unknown_key_is_named(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("model:\n  layers:\n    - {channels: 4, kernal: 3}\n")
    with pytest.raises(ConfigError, match=r"'model\.layers\[0\]\.kernal'"):
        load_config(f)
    f.write_text("trian: {epochs: 1}\n")
    with pytest.raises(ConfigError, match="'trian'"):
        load_config(f)


def test_bad_values_and_names(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("model: {loss_layers: [3]}\n")
    with pytest.raises(ConfigError, match="outside"):
        load_config(f)
    with pytest.raises(ConfigError, match="no config file"):
        load_config("mnist-nonexistent")
    f.write_text("train: {method: sgd}\n")
    with pytest.raises(ConfigError, match="method"):
        load_config(f)


def test_replace_overrides():
    cfg = load_config("mnist-quick").replace(train={"epochs": 1})
    assert cfg.train.epochs == 1
    with pytest.raises(ConfigError):
        cfg.replace(nosection={"a": 1})


def test_types_and_ranges_name_the_key():
    from ff_neuro.config import MAX_TIMESTEPS, Config, from_dict

    base = Config().to_dict()

    def bad(section, key, value, match):
        d = Config().to_dict()
        d[section][key] = value
        with pytest.raises(ConfigError, match=match):
            from_dict(d)

    bad("train", "epochs", "abc", r"'train\.epochs' must be an integer")
    bad("train", "epochs", True, r"'train\.epochs' must be an integer")
    bad("train", "batch_size", 2.5, r"'train\.batch_size' must be an integer")
    bad("train", "lr", float("nan"), r"'train\.lr' must be a finite number")
    bad("train", "lr", "nan", r"'train\.lr' must be a finite number")
    bad("train", "lr", 0.0, r"'train\.lr' must be in \(0\.0, 10\.0\]")
    bad("train", "bf16", "yes", r"'train\.bf16' must be true or false")
    bad("train", "val_goodness_subset", 0, r"'train\.val_goodness_subset' must be >= 1")
    bad("labels", "K", 1.5, r"'labels\.K'")
    bad("labels", "set", 3, r"'labels\.set'")
    bad("data", "val_size", 60_000, r"'data\.val_size'")
    bad("data", "root", 5, r"'data\.root' must be a string")
    bad("model", "loss_layers", [], r"'model\.loss_layers' must name at least one layer")
    bad("model", "goodness_layers", [], r"'model\.goodness_layers'")
    bad("model", "loss_layers", [1.5], r"'model\.loss_layers\[0\]' must be an integer")
    bad(
        "model",
        "layers",
        [{"channels": 8, "kernel": 29, "padding": 0}],
        r"'model\.layers\[0\]\.kernel' = 29 is larger",
    )
    bad(
        "model",
        "layers",
        [{"channels": 4096, "kernel": 7, "padding": 7}],
        r"'model\.layers\[0\]\.channels'.*units per image",
    )
    bad("spiking", "timesteps", MAX_TIMESTEPS + 1, r"'spiking\.timesteps'")
    # integral floats are integers (YAML writes 1.0e4 for 10000); the defaults are valid
    d = copy.deepcopy(base)
    d["data"]["val_size"] = 1.0e4
    assert from_dict(d).data.val_size == 10_000 and isinstance(from_dict(d).data.val_size, int)
    assert from_dict(base).to_dict() == base


def test_every_shipped_config_is_valid():
    for name in available_configs():
        load_config(name)
