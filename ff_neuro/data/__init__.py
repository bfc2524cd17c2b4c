"""Stage 1: datasets, splits and label inputs."""

from .datasets import CLASS_NAMES, Dataset, Split, load_dataset, train_val_split
from .labels import FourierLabels, fourier_pattern, minmax, sample_negatives
from .sources import SPECS, fetch_raw

__all__ = [
    "CLASS_NAMES",
    "Dataset",
    "Split",
    "load_dataset",
    "train_val_split",
    "FourierLabels",
    "fourier_pattern",
    "minmax",
    "sample_negatives",
    "SPECS",
    "fetch_raw",
]
