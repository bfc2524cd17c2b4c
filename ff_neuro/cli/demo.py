"""``ff-neuro demo``: the whole story on the embedded default config.

train mnist-quick → convert to spikes (snnTorch) → deploy a handful of test images on Lava →
the comparison table. Each step reuses what an earlier, interrupted demo already finished.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from .common import int_at_least


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="train mnist-quick, spike it, deploy it on Lava, print the comparison")
    p.add_argument("--out", default="runs/demo", metavar="RUN_DIR")
    p.add_argument("--config", default="mnist-quick")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--spike-samples", type=int_at_least(1), default=1000, help="test images for the snnTorch evaluation")
    p.add_argument("--lava-samples", type=int_at_least(1), default=5, help="test images deployed on Lava")
    p.add_argument("--profile", default="loihi2")
    p.add_argument("--fresh", action="store_true", help="start again even if RUN_DIR holds a finished run")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..ff.trainer import CHECKPOINT, METRICS, train
    from .common import pct, print_table
    out = Path(args.out)
    if args.fresh and out.exists():
        shutil.rmtree(out)

    print(f"[1/4] rate-coded FF-CNN ({args.config}) → {out}")
    if (out / METRICS).exists():
        m = json.loads((out / METRICS).read_text())
        print(f"      {out} already holds a trained run (use --fresh to retrain)")
    else:
        m = train(load_config(args.config), out, device=args.device, resume=(out / CHECKPOINT).exists())
    print_table([["rate (FF)", pct(m["best_val_acc_linear"]), pct(m["test_acc_linear"]), pct(m["test_acc_goodness"]),
                  f"{m['train_seconds']:.0f}"]], ["model", "best val (linear)", "test linear", "test goodness", "train s"])

    from . import main

    def cli(argv: list[str]) -> None:
        rc = main(argv)
        if rc:
            raise SystemExit(rc)

    print(f"[2/4] spiking conversion (snnTorch), {args.spike_samples} test images")
    cli(["spike", str(out), "--timesteps", "8,16,32", "--encoding", "current", "--variant", "static",
         "--samples", str(args.spike_samples), "--device", args.device])
    print(f"[3/4] Lava deployment ({args.profile}, float), {args.lava_samples} test images, linear and goodness")
    cli(["deploy", str(out), "--profile", args.profile, "--samples", str(args.lava_samples), "--goodness"])
    print("[4/4] rate vs snnTorch vs Lava float vs Lava fixed point, on the same test images")
    cli(["compare", str(out), "--samples", str(args.lava_samples), "--profile", args.profile, "--goodness"])
    print(f"results: {out}/{{metrics,spike_metrics,deploy_metrics,compare}}.json; pictures: ff-neuro report {out}")
    return 0
