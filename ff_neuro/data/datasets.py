"""MNIST-style datasets as uint8 arrays, with the paper's seeded 50k/10k train/validation split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .idx import parse_idx
from .sources import fetch_raw

CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "fashion-mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
}


@dataclass(frozen=True)
class Split:
    """Images ``x`` (N, H, W) uint8 and labels ``y`` (N,) int64."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def tensors(self, n: int | None = None):
        """The first ``n`` (all when None) samples as torch tensors: images (n, 1, H, W) float in
        [0, 1] and labels (n,) int64."""
        import torch

        n = len(self) if n is None else min(n, len(self))
        return torch.from_numpy(self.x[:n]).unsqueeze(1).float().div_(255.0), torch.from_numpy(
            self.y[:n]
        ).long()

    def subset(self, n: int | None, seed: int = 0) -> Split:
        """A seeded random subset of ``n`` samples (all of them when n is None or too large)."""
        if n is None or n >= len(self):
            return self
        idx = np.sort(np.random.default_rng(seed).permutation(len(self))[:n])
        return Split(self.x[idx], self.y[idx])


@dataclass(frozen=True)
class Dataset:
    name: str
    train: Split
    val: Split
    test: Split
    class_names: list[str]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.train.x.shape[1:])


def train_val_split(x: np.ndarray, y: np.ndarray, val_size: int, seed: int) -> tuple[Split, Split]:
    """Seeded random split of the official training set into train and validation."""
    if not 0 <= val_size < len(y):
        raise ValueError(f"val_size {val_size} must lie in [0, {len(y)})")
    perm = np.random.default_rng(seed).permutation(len(y))
    val, train = np.sort(perm[:val_size]), np.sort(perm[val_size:])
    return Split(x[train], y[train]), Split(x[val], y[val])


def load_dataset(
    name: str = "mnist", root: str | Path | None = None, val_size: int = 10_000, split_seed: int = 0
) -> Dataset:
    """Load ``name`` ('mnist' or 'fashion-mnist'): 50k train / 10k validation / 10k test by default.

    The test split is the official t10k set; it is never used for model selection.
    """
    raw = fetch_raw(name, root)
    x = parse_idx(raw["train-images-idx3-ubyte"])
    y = parse_idx(raw["train-labels-idx1-ubyte"]).astype(np.int64)
    train, val = train_val_split(x, y, val_size, split_seed)
    test = Split(
        parse_idx(raw["t10k-images-idx3-ubyte"]),
        parse_idx(raw["t10k-labels-idx1-ubyte"]).astype(np.int64),
    )
    return Dataset(name, train, val, test, CLASS_NAMES[name])
