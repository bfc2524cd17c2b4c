"""``ff-neuro spike``: run a trained FF network as a spiking network for several T, encodings, variants."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..analysis.plots import plot_accuracy_vs_timesteps
from ..pipeline import open_run
from ..spiking.convert import check_variant
from ..spiking.errors import TimestepsError
from ..spiking.evaluate import METRICS_FILE, spike_run
from ..spiking.store import SPEC_DIR
from .common import add_device, int_at_least, max_timesteps, pct, print_table


def parse_list(text: str, what: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_timesteps(text: str) -> list[int]:
    try:
        ts = [int(t) for t in parse_list(text, "timesteps")]
    except ValueError:
        raise TimestepsError(
            f"--timesteps must be comma-separated integers >= 1, got {text!r}"
        ) from None
    if not ts or min(ts) < 1:
        raise TimestepsError(f"--timesteps must be comma-separated integers >= 1, got {text!r}")
    if max(ts) > max_timesteps():
        raise TimestepsError(
            f"--timesteps {max(ts)} is above the maximum T = {max_timesteps()} (simulation time "
            f"and memory grow with T)"
        )
    return ts


def percentile(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 < v <= 100:
        raise argparse.ArgumentTypeError(f"must be in (0, 100], got {text}")
    return v


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "spike",
        help="evaluate a trained run as a spiking (LIF) network",
        description="Convert a trained run (rate or spiking) to a LIF network and measure "
        "accuracy, spikes and time for each T. Writes RUN_DIR/spike_metrics.json, "
        "RUN_DIR/accuracy_vs_timesteps.png and, per variant, encoding and T, the "
        "spec with its calibration in RUN_DIR/spiking/ (deploy, export, compare "
        "and report use it).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument(
        "--timesteps",
        default="8,16,32,64",
        help=f"comma-separated T values, each at most {max_timesteps()} (default 8,16,32,64)",
    )
    p.add_argument(
        "--encoding",
        default="current",
        choices=["current", "rate", "both"],
        help="input encoding: constant current (default), Bernoulli rate spikes, or both",
    )
    p.add_argument(
        "--variant",
        default="exact,static",
        help="comma-separated: exact (per-sample RMS, simulation only), static (deployable)",
    )
    p.add_argument(
        "--samples",
        type=int_at_least(1),
        default=1000,
        help="test images to evaluate (default 1000)",
    )
    p.add_argument(
        "--no-goodness", action="store_true", help="skip goodness classification (10x cheaper)"
    )
    p.add_argument(
        "--calibration",
        default="spikes",
        choices=["spikes", "rate"],
        help="how the static variant measures its per-layer scales (default spikes)",
    )
    p.add_argument(
        "--percentile", type=percentile, default=99.9, help="activation percentile λ (default 99.9)"
    )
    p.add_argument(
        "--calib-samples", type=int_at_least(1), default=200, help="training images for calibration"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the rate encoding and calibration subset"
    )
    add_device(p)
    p.set_defaults(func=run_spike)


def run_spike(args: argparse.Namespace) -> int:
    encodings = ["current", "rate"] if args.encoding == "both" else [args.encoding]
    if args.samples is not None and args.samples < 1:
        raise TimestepsError("--samples must be >= 1")
    timesteps = parse_timesteps(args.timesteps)
    variants = [
        check_variant(v) for v in parse_list(args.variant, "variant")
    ]  # before opening the run
    m = spike_run(
        open_run(args.run_dir, args.device),
        timesteps,
        encodings,
        args.samples,
        variants,
        args.device,
        goodness=not args.no_goodness,
        calibration=args.calibration,
        percentile=args.percentile,
        calib_samples=args.calib_samples,
        seed=args.seed,
    )
    rate = m["rate"]
    rows = [["rate model", "-", "-", pct(rate["acc_linear"]), pct(rate["acc_goodness"]), "-", "-"]]
    rows += [
        [
            r["variant"],
            r["encoding"],
            str(r["timesteps"]),
            pct(r["acc_linear"]),
            pct(r["acc_goodness"]),
            f"{r['spikes_total']:.0f}",
            f"{r['seconds']:.1f}",
        ]
        for r in m["results"]
    ]
    print_table(
        rows, ["model", "encoding", "T", "linear", "goodness", "spikes/inference", "seconds"]
    )
    print(f"results: {Path(args.run_dir) / METRICS_FILE}  ({m['samples']} test images)")
    print(
        f"specs (with their calibration; deploy, export, compare and report load them): "
        f"{Path(args.run_dir) / SPEC_DIR}/"
    )
    plot_path = Path(args.run_dir) / "accuracy_vs_timesteps.png"
    plot_accuracy_vs_timesteps(m, plot_path)
    print(f"plot: {plot_path}")
    return 0
