"""``open_run(run_dir)``: the one way every stage opens a trained run.

A :class:`Run` holds the config and metadata of a checkpoint (``in_shape``, ``num_classes``,
``sha256`` of the file), and builds on demand what a stage asks for: the trained model (through a
model factory), the bare network and head (for the spiking conversion), the dataset with the run's
split, test images as tensors and calibration images. Nothing is loaded twice.

Model factories: ``factory(cfg, in_shape, num_classes, device, kind)`` returns an untrained model of
``kind``. Each stage extends the one before it: :func:`ff_neuro.ff.model.build_model` (rate),
:func:`ff_neuro.spiking.model.build_model` (+ spiking), :func:`ff_neuro.hardware.qat.build_model`
(+ quantisation-aware training under ``hardware.profile``). A factory refuses what it cannot build,
so a run is never opened without a part of its model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import load_checkpoint, load_module
from ..config import Config, from_dict
from ..data.datasets import Dataset, load_dataset
from ..data.labels import FourierLabels
from ..errors import CheckpointError
from ..runtime import resolve_device
from .classify import LinearHead
from .model import build_model
from .network import FFNet

CHECKPOINT, BEST = "checkpoint.safetensors", "best.safetensors"
DEFAULT_IN_SHAPE = (1, 28, 28)  # checkpoints written before in_shape was recorded: MNIST
DEFAULT_CLASSES = 10

ModelFactory = Callable[[Config, tuple, int, torch.device, str], Any]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def config_dataset(cfg: Config) -> Dataset:
    """The dataset of a config's ``data`` section, with its train/validation split."""
    d = cfg.data
    return load_dataset(d.dataset, d.root, d.val_size, d.split_seed)


class Run:
    """A trained run, opened by :func:`open_run`. ``tensors`` stay on the CPU; built parts go to ``device``."""

    def __init__(
        self,
        run_dir: Path,
        checkpoint: Path,
        tensors: dict[str, torch.Tensor],
        meta: dict,
        device: torch.device,
        factory: ModelFactory,
        dataset: Dataset | None = None,
    ):
        self.run_dir, self.checkpoint, self.tensors, self.meta = run_dir, checkpoint, tensors, meta
        self.cfg: Config = from_dict(meta["config"])
        self.device, self.factory = device, factory
        if dataset is not None:
            self.dataset = dataset  # overrides the cached property

    @property
    def kind(self) -> str:
        return self.meta.get("kind", "rate")

    @property
    def in_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.meta.get("in_shape", DEFAULT_IN_SHAPE))

    @property
    def num_classes(self) -> int:
        if "num_classes" in self.meta:
            return int(self.meta["num_classes"])
        w = self.tensors.get("head.fc.weight")
        return int(w.shape[0]) if w is not None else DEFAULT_CLASSES

    @cached_property
    def sha256(self) -> str:
        """SHA-256 of the checkpoint file: what saved spiking specs are checked against."""
        return file_sha256(self.checkpoint)

    @cached_property
    def dataset(self) -> Dataset:
        """The dataset the run was trained on, with the run's train/validation split."""
        return config_dataset(self.cfg)

    @cached_property
    def model(self):
        """The trained model (rate or spiking, as the factory builds it) on ``device``."""
        model = self.factory(self.cfg, self.in_shape, self.num_classes, self.device, self.kind)
        model.load_weights({k: v.to(self.device) for k, v in self.tensors.items()})
        return model

    @cached_property
    def parts(self) -> tuple[FFNet, LinearHead, FourierLabels]:
        """(net, head, labels) in eval mode: the bare trained layers of any kind, for the conversion."""
        net = FFNet(self.cfg.model, self.in_shape, self.cfg.goodness.measure).to(self.device)
        head = LinearHead(net.readout_dim, self.num_classes).to(self.device)
        tensors = {k: v.to(self.device) for k, v in self.tensors.items()}
        load_module("net", net, tensors)
        load_module("head", head, tensors)
        labels = FourierLabels.from_config(
            self.cfg.labels, self.in_shape[1:], self.num_classes, self.device
        )
        return net.eval(), head.eval(), labels

    def test_tensors(self, samples: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``samples`` (all when None) test images (N, 1, H, W) in [0, 1] and labels, on the CPU."""
        return self.dataset.test.tensors(samples)

    def calibration_images(self, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` seeded training images (n, 1, H, W) in [0, 1] and their labels, on the CPU."""
        return self.dataset.train.subset(n, seed=seed).tensors()


def open_run(
    run_dir: str | Path | Run,
    device: str | torch.device = "cpu",
    which: str | None = BEST,
    factory: ModelFactory | None = None,
    dataset: Dataset | None = None,
) -> Run:
    """Open ``run_dir`` (a :class:`Run` is returned as it is). ``which``: the checkpoint file; None =
    best.safetensors, else the last checkpoint of an interrupted run. ``factory`` builds ``Run.model``
    (default: rate models only); ``dataset`` replaces the run's own (tests, subsets)."""
    if isinstance(run_dir, Run):
        return run_dir
    run_dir = Path(run_dir)
    if which is None:
        which = (
            BEST
            if (run_dir / BEST).is_file() or not (run_dir / CHECKPOINT).is_file()
            else CHECKPOINT
        )
    path = run_dir / which
    tensors, meta = load_checkpoint(path)
    if meta.get("kind", "rate") not in (
        "rate",
        "spiking",
    ):  # check_meta refuses others; be explicit
        raise CheckpointError(
            f"{path} holds a model of kind {meta.get('kind')!r}; train it with ff-neuro train"
        )
    return Run(
        run_dir, path, tensors, meta, resolve_device(device), factory or build_model, dataset
    )
