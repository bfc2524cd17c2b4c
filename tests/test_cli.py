"""The ff-neuro command line, end to end on a real MNIST subset."""

import json

import pytest
import yaml

from ff_neuro.cli import build_parser, main
from tests.conftest import tiny_config


def test_help_lists_every_stage(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("train", "evaluate", "spike", "export", "deploy", "compare", "report", "demo"):
        assert cmd in out
    for cmd in ("train", "evaluate", "spike", "deploy", "report", "demo"):
        with pytest.raises(SystemExit) as e:
            build_parser().parse_args([cmd, "--help"])
        assert e.value.code == 0
        assert cmd in capsys.readouterr().out


def test_train_evaluate_and_errors(tmp_path, capsys):
    cfg = tiny_config(epochs=1, val_goodness_subset=100).to_dict()
    cfg["data"]["val_size"] = 1000
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run = tmp_path / "run"
    rc = main(
        [
            "train",
            "--config",
            str(path),
            "--out",
            str(run),
            "--train-subset",
            "500",
            "--no-progress",
            "--device",
            "cpu",
            "--set",
            "train.head_lr=2e-3",
        ]
    )
    assert rc == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["train_size"] == 500 and m["config"]["train"]["head_lr"] == 2e-3
    assert main(["evaluate", str(run), "--split", "val", "--device", "cpu"]) == 0
    assert "val linear" in capsys.readouterr().out
    # an existing run without --resume, an unknown key, a broken --set: one-line errors, exit 2
    assert main(["train", "--config", str(path), "--out", str(run), "--device", "cpu"]) == 2
    assert (
        main(
            ["train", "--config", str(path), "--out", str(tmp_path / "r2"), "--set", "train.lrr=1"]
        )
        == 2
    )
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "r3"), "--set", "lr"]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "'train.lrr'" in err and "SECTION.KEY=VALUE" in err
    (run / "best.safetensors").write_bytes(b"garbage")
    assert main(["evaluate", str(run)]) == 2
    assert "corrupted" in capsys.readouterr().err
