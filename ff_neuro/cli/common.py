"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse

from ..config import MAX_TIMESTEPS


def add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="where to compute (default: auto = cuda if available)",
    )


def int_at_least(lo: int, hi: int | None = None):
    """argparse ``type=``: an integer in [lo, hi] (one-line error otherwise)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(
                f"must be >= {lo}" + (f" and <= {hi}" if hi is not None else "") + f", got {v}"
            )
        return v

    parse.__name__ = "int"
    return parse


def float_between(lo: float, hi: float):
    """argparse ``type=``: a finite number in [lo, hi] (one-line error otherwise)."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not lo <= v <= hi:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be in [{lo}, {hi}], got {text}")
        return v

    parse.__name__ = "float"
    return parse


def max_timesteps() -> int:
    return MAX_TIMESTEPS


def print_table(rows: list[list[str]], header: list[str]) -> str:
    """A plain fixed-width table; returns the text it printed."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))  # noqa: E731
    text = "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
    print(text)
    return text


def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f} %"
