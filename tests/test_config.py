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
