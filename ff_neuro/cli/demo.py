"""``ff-neuro demo``: the whole story on the embedded default config."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="train mnist-quick and print the results table")
    p.add_argument("--out", default="runs/demo", metavar="RUN_DIR")
    p.add_argument("--config", default="mnist-quick")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--fresh", action="store_true", help="retrain even if RUN_DIR holds a finished run")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    import shutil

    from ..config import load_config
    from ..ff.trainer import METRICS, train
    from .common import pct, print_table
    out = Path(args.out)
    if args.fresh and out.exists():
        shutil.rmtree(out)
    if (out / METRICS).exists():
        import json
        m = json.loads((out / METRICS).read_text())
        print(f"[demo] {out} already holds a trained run (use --fresh to retrain)")
    else:
        resume = (out / "checkpoint.safetensors").exists()
        m = train(load_config(args.config), out, device=args.device, resume=resume)
    print_table([["rate (FF)", pct(m["best_val_acc_linear"]), pct(m["test_acc_linear"]), pct(m["test_acc_goodness"]),
                  f"{m['train_seconds']:.0f}"]], ["model", "best val (linear)", "test linear", "test goodness", "train s"])
    return 0
