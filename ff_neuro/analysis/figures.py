"""Figure plumbing shared by every plot: headless Agg figures of a fixed pixel size, saved as PNG.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot, no display, no global
state), so plotting works in threads, tests and servers. A figure of ``size`` inches at ``DPI``
is saved as exactly ``size · DPI`` pixels (no tight bounding box), which the tests check.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..io import atomic_write_bytes

DPI = 100
CLASS_COLOURS = "tab10"
POS_COLOUR, NEG_COLOUR, REF_COLOUR = "#1f77b4", "#d62728", "#555555"


def new_figure(width: float, height: float) -> Figure:
    """An Agg-backed figure ``width × height`` inches with constrained layout."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG to ``path`` (atomically) and return the path."""
    path = Path(path)
    atomic_write_bytes(path, png_bytes(fig))
    return path


def pixel_size(fig: Figure) -> tuple[int, int]:
    """(width, height) in pixels of the PNG that :func:`save_figure` writes."""
    w, h = fig.get_size_inches()
    return round(w * DPI), round(h * DPI)
