"""Hostile and careless input to the CLI (issue 12): every user error is one line on stderr, exit code 2,
and leaves the files of an existing run unchanged."""

from __future__ import annotations

import json
import os

import pytest
import torch
import yaml

from ff_neuro.checkpoint import load_checkpoint, save_checkpoint
from ff_neuro.cli import main
from ff_neuro.errors import CheckpointError
from tests.conftest import tiny_config


def snapshot(folder) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ff-neuro") and "error" in lines[0], err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


@pytest.fixture
def tiny_yaml(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config(epochs=1).to_dict()))
    return path


# --- config values through --set ------------------------------------------------------------

BAD_SETS = [
    ("train.epochs=abc", "'train.epochs'"),
    ("train.batch_size=2.5", "'train.batch_size'"),
    ("train.lr=-1", "'train.lr'"),
    ("train.lr=nan", "'train.lr'"),
    ("train.lr=.inf", "'train.lr'"),
    ("train.head_lr=0", "'train.head_lr'"),
    ("train.eval_batch_size=0", "'train.eval_batch_size'"),
    ("train.nan_check_every=0", "'train.nan_check_every'"),
    ("train.cooldown=maybe", "'train.cooldown'"),
    ("train.seed=-3", "'train.seed'"),
    ("train.compile_mode=fastest", "'train.compile_mode'"),
    ("data.train_subset=0", "'data.train_subset'"),
    ("data.val_size=70000", "'data.val_size'"),
    ("data.val_size=0", "'data.val_size'"),
    ("data.dataset=cifar", "'data.dataset'"),
    ("model.loss_layers=[]", "'model.loss_layers'"),
    ("model.readout_layers=[1, 1]", "'model.readout_layers'"),
    ("model.layers=[]", "'model.layers'"),
    ("model.layers=[{channels: 4, kernel: 0}]", "'model.layers[0].kernel'"),
    ("model.layers=[{channels: 0}]", "'model.layers[0].channels'"),
    ("model.layers=[{channels: 1000000, kernel: 3}]", "'model.layers[0].channels'"),
    ("model.layers=[{channels: 4, kernel: 40, padding: 0}]", "'model.layers[0].kernel'"),
    ("model.layers=[{channels: 4, kernel: 3, stride: 0}]", "'model.layers[0].stride'"),
    ("model.layers=[{channels: 4096, kernel: 7}, {channels: 4096, kernel: 7}]", "model.layers"),
    ("model.threshold_scale=-1", "'model.threshold_scale'"),
    ("labels.K=5.0", "'labels.K'"),
    ("labels.set=99", "'labels.set'"),
    ("spiking.timesteps=100000000", "'spiking.timesteps'"),
    ("spiking.beta=1.5", "'spiking.beta'"),
    ("data.root=2020-01-01", "'data.root'"),
    ("train.lr=!!float 1e-3", "YAML tags"),
    ("train.lr=!!python/name:os.system", "YAML tags"),
    ("train.lr=[1", "not valid YAML"),
]


@pytest.mark.parametrize("item,needle", BAD_SETS, ids=[b[0] for b in BAD_SETS])
def test_bad_set_is_one_line_error(item, needle, tiny_yaml, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(
        ["train", "--config", str(tiny_yaml), "--out", str(out), "--device", "cpu", "--set", item]
    )
    assert rc == 2
    one_line_error(capsys, needle)
    assert not out.exists()


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    for argv in (
        ["report", str(tmp_path), "--samples", "0"],
        ["spike", str(tmp_path), "--samples", "0"],
        ["spike", str(tmp_path), "--calib-samples", "-1"],
        ["spike", str(tmp_path), "--percentile", "0"],
        ["deploy", str(tmp_path), "--chunk", "0"],
        ["export", str(tmp_path), "--out", str(tmp_path / "e"), "--timesteps", "100000000"],
        ["export", str(tmp_path), "--out", str(tmp_path / "e"), "--netx-margin", "nan"],
        ["export", str(tmp_path), "--out", str(tmp_path / "e"), "--netx-bound", "loose"],
        ["train", "--config", "mnist-quick", "--out", str(tmp_path / "r"), "--epochs", "x"],
        ["train", "--config", "mnist-quick", "--out", str(tmp_path / "r"), "--budget-minutes", "0"],
        [
            "train",
            "--config",
            "mnist-quick",
            "--out",
            str(tmp_path / "r"),
            "--budget-minutes",
            "nan",
        ],
        ["demo", "--out", str(tmp_path / "d"), "--train-minutes", "-1"],
    ):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2, argv
        one_line_error(capsys)
    assert main(["spike", str(tmp_path), "--timesteps", "8,100000000"]) == 2
    one_line_error(capsys, "maximum T")


# --- --out and --device --------------------------------------------------------------------


def test_out_that_is_a_file_or_under_a_file(tiny_yaml, tmp_path, capsys):
    f = tmp_path / "afile"
    f.write_text("keep me")
    for out in (f, f / "sub"):
        assert (
            main(["train", "--config", str(tiny_yaml), "--out", str(out), "--device", "cpu"]) == 2
        )
        one_line_error(capsys, "is a file")
    assert f.read_text() == "keep me"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_out_unwritable(tiny_yaml, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert (
            main(["train", "--config", str(tiny_yaml), "--out", str(ro / "run"), "--device", "cpu"])
            == 2
        )
        one_line_error(capsys, str(ro / "run"))
        assert main(["train", "--config", str(tiny_yaml), "--out", str(ro), "--device", "cpu"]) == 2
        one_line_error(capsys, "not writable")
    finally:
        ro.chmod(0o700)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_gpu(tiny_yaml, tmp_path, capsys):
    assert (
        main(
            ["train", "--config", str(tiny_yaml), "--out", str(tmp_path / "r"), "--device", "cuda"]
        )
        == 2
    )
    one_line_error(capsys, "no CUDA GPU")
    assert not (tmp_path / "r").exists()
    assert main(["evaluate", str(tmp_path / "r"), "--device", "cuda"]) == 2
    one_line_error(capsys)


# --- checkpoint metadata -------------------------------------------------------------------


def good_meta() -> dict:
    return {
        "config": tiny_config(epochs=1).to_dict(),
        "kind": "rate",
        "epoch": 1,
        "best": {"acc_linear": 0.5, "acc_goodness": None, "epoch": 1},
        "train_seconds": 1.0,
    }


BAD_META = [
    (lambda m: m.pop("config"), "field 'config' is missing"),
    (lambda m: m.update(config="mnist"), "field 'config' must be a mapping"),
    (lambda m: m.update(config=[1, 2]), "field 'config' must be a mapping"),
    (lambda m: m["config"]["train"].update(lr="fast"), "field 'config' is invalid"),
    (lambda m: m["config"]["model"].update(loss_layers=[7]), "field 'config' is invalid"),
    (lambda m: m.update(kind="quantum"), "field 'kind' names an unknown model kind 'quantum'"),
    (lambda m: m.pop("epoch"), "field 'epoch' is missing"),
    (lambda m: m.update(epoch="3"), "field 'epoch'"),
    (lambda m: m.update(best=[1]), "field 'best'"),
    (lambda m: m.update(train_seconds="long"), "field 'train_seconds'"),
]


@pytest.mark.parametrize(
    "spoil,needle", BAD_META, ids=[b[1] + str(i) for i, b in enumerate(BAD_META)]
)
def test_checkpoint_metadata_is_validated(spoil, needle, tmp_path, capsys):
    meta = good_meta()
    spoil(meta)
    run = tmp_path / "run"
    for name in ("best.safetensors", "checkpoint.safetensors"):
        save_checkpoint(run / name, {"w": torch.zeros(2)}, meta)
    with pytest.raises(CheckpointError, match="not an ff_neuro checkpoint"):
        load_checkpoint(run / "best.safetensors")
    before = snapshot(run)
    for argv in (
        ["evaluate", str(run), "--device", "cpu"],
        ["report", str(run), "--device", "cpu", "--no-spiking"],
        ["spike", str(run), "--device", "cpu", "--timesteps", "4", "--samples", "10"],
        ["export", str(run), "--out", str(tmp_path / "exp")],
        ["train", "--config", "mnist-quick", "--out", str(run), "--resume", "--device", "cpu"],
    ):
        assert main(argv) == 2, argv
        one_line_error(capsys, "not an ff_neuro checkpoint", needle)
    after = snapshot(run)
    assert {k: v for k, v in after.items() if not k.startswith("report")} == before


def test_metadata_that_is_not_a_mapping(tmp_path):
    from safetensors.torch import save

    path = tmp_path / "c.safetensors"
    path.write_bytes(
        save(
            {"w": torch.zeros(1)},
            metadata={"format": "ff_neuro-checkpoint-1", "meta": json.dumps([1])},
        )
    )
    with pytest.raises(CheckpointError, match="not an ff_neuro checkpoint: its metadata is a list"):
        load_checkpoint(path)
