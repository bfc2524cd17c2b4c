"""Shared checks for figures: a PNG has the expected pixel size and is not blank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.image import imread


def assert_png(path: str | Path, size: tuple[float, float] | None = None) -> np.ndarray:
    """Read the PNG at ``path``; check its (width, height) in pixels and that pixels vary."""
    path = Path(path)
    assert path.is_file(), f"{path} was not written"
    img = imread(path)
    if size is not None:
        assert (img.shape[1], img.shape[0]) == size, (
            f"{path.name}: {img.shape[1]}x{img.shape[0]} != {size}"
        )
    assert float(img[..., :3].var()) > 0, f"{path.name} is blank"
    return img
