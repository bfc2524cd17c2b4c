"""``ff-neuro report RUN_DIR``: the HTML run report (pictures, tables, config)."""

from __future__ import annotations

import argparse

from ..analysis.report import build_report
from .common import add_device, int_at_least


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write RUN_DIR/report/index.html with every picture the run has data for",
        description="Label gallery, Class Activation Maps, learning curves, goodness separation, "
        "and (when the run has them) spiking pictures, hardware cost and the "
        "rate/spike/Lava comparison. Self-contained HTML with the PNGs inlined; the "
        "PNG files are written beside it.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="run directory of `ff-neuro train`")
    p.add_argument("--out", metavar="DIR", help="report folder (default RUN_DIR/report)")
    p.add_argument(
        "--samples",
        type=int_at_least(1),
        default=1000,
        help="test images for the separation histograms and CAM picks (default 1000)",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--spiking",
        dest="spiking",
        action="store_true",
        default=None,
        help="always simulate the spiking network for the raster and spiking CAMs",
    )
    g.add_argument(
        "--no-spiking",
        dest="spiking",
        action="store_false",
        help="never simulate the spiking network (default: only when spike_metrics.json exists)",
    )
    p.add_argument("--seed", type=int, default=0)
    add_device(p)
    p.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    index = build_report(
        args.run_dir,
        args.out,
        device=args.device,
        samples=args.samples,
        spiking=args.spiking,
        seed=args.seed,
    )
    print(f"report: {index}")
    return 0
