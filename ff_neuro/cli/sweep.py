"""``ff-neuro sweep``: recipe sweeps on Optuna (``ff_neuro.sweep``), selected on validation only."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config import available_configs, load_config, parse_overrides
from ..pipeline import train
from ..sweep import run_sweep
from .common import int_at_least, pct, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="sweep recipes or hyper-parameters on Optuna (validation only)",
        description="Train one recipe per Optuna trial and keep the best validation accuracy. "
        "Start the same command in more processes or on more machines with the same --storage "
        "(an SQLAlchemy URL: sqlite:///FILE on one machine, postgresql://... across machines) "
        "to spread the trials.",
    )
    p.add_argument("--config", required=True, help=f"base config {available_configs()} or YAML")
    p.add_argument(
        "--recipe",
        action="append",
        default=[],
        metavar="NAME:SECTION.KEY=VALUE;...",
        help="a named recipe of the grid (repeatable)",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="SECTION.KEY=log|float|int:LO:HI|cat:A,B",
        help="a searched parameter (repeatable; TPE sampler)",
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="shared override"
    )
    p.add_argument("--epochs", type=int_at_least(1), help="override train.epochs")
    p.add_argument("--train-subset", type=int_at_least(1), help="train on this many images")
    p.add_argument("--trials", type=int_at_least(1), default=10, help="--param: trials here")
    p.add_argument("--metric", choices=["goodness", "linear"], default="goodness")
    p.add_argument("--study", default="sweep", help="study name in the storage")
    p.add_argument("--runs", default="runs/sweep", help="folder of the trials' run directories")
    p.add_argument(
        "--storage", help="Optuna storage URL (default: sqlite:///RUNS/optuna.db beside the runs)"
    )
    p.add_argument("--out", help="also write the study's trials and best as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    shared = parse_overrides(args.set)
    if args.epochs:
        shared.setdefault("train", {})["epochs"] = args.epochs
    if args.train_subset:
        shared.setdefault("data", {})["train_subset"] = args.train_subset
    runs = Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    storage = args.storage or f"sqlite:///{runs.resolve() / 'optuna.db'}"
    res = run_sweep(
        load_config(args.config),
        lambda cfg, out, **kw: train(cfg, out, device="cpu", **kw),
        args.study,
        storage,
        runs,
        args.recipe,
        args.param,
        args.trials,
        args.metric,
        shared,
    )
    rows = [
        [
            str(t["number"]),
            str(t["params"].get("recipe", t["params"])),
            pct(t.get("best_val_acc_goodness")),
            pct(t.get("best_val_acc_linear")),
            f"{t.get('train_seconds', 0):.0f}",
        ]
        for t in sorted(res["trials"], key=lambda t: -t["value"])
    ]
    print_table(rows, ["trial", "recipe / params", "val goodness", "val linear", "train s"])
    b = res["best"]
    print(
        f"best ({args.metric}, validation): trial {b['number']} {b['params']} = {pct(b['value'])}"
    )
    print(f"study {args.study!r} in {storage}")
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    return 0
