"""``ff-neuro train`` and ``ff-neuro evaluate``."""

from __future__ import annotations

import argparse

from ..config import available_configs, load_config, parse_overrides
from ..io import ensure_writable_dir
from ..pipeline import evaluate_run, train
from ..runtime import resolve_device
from .common import add_device, float_between, int_at_least, pct, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train an FF network (or a control) into a run directory",
        description="Train an FF-CNN. Writes RUN_DIR/{metrics.json, metrics.jsonl, "
        "checkpoint.safetensors, best.safetensors, config.yaml}.",
    )
    p.add_argument(
        "--config", required=True, help=f"shipped config name {available_configs()} or a YAML path"
    )
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory")
    p.add_argument("--epochs", type=int_at_least(1), help="override train.epochs")
    p.add_argument(
        "--budget-minutes",
        type=float_between(0.1, 7 * 24 * 60),
        metavar="MIN",
        help="train as many of the epochs as fit in MIN minutes of wall clock (decided from measured "
        "steps before the first one and again after epoch 1; the lr schedule runs over them): "
        "train.budget_minutes",
    )
    p.add_argument("--seed", type=int, help="override train.seed")
    p.add_argument("--method", choices=["ff", "bp", "random"], help="override train.method")
    p.add_argument(
        "--model", choices=["rate", "spiking"], default="rate", help="rate-coded or spiking FF"
    )
    p.add_argument(
        "--train-subset", type=int_at_least(1), help="train on this many images only (seeded)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override any config key, e.g. --set train.lr=1e-4 (repeatable; VALUE is YAML)",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue a killed run from its last checkpoint"
    )
    p.add_argument(
        "--profile", help="hardware profile for quantisation-aware training (e.g. loihi2)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--parallel",
        choices=["data", "layers"],
        default="data",
        help="under torchrun: data-parallel (each rank a shard of every batch; default) or "
        "layer-pipelined (each rank a block of layers, activations passed forward)",
    )
    p.add_argument(
        "--stages",
        type=stage_starts,
        metavar="0,L1,...",
        help="--parallel layers: the first layer of each rank's block (default: an even split)",
    )
    add_device(p)
    p.set_defaults(func=run_train)

    e = sub.add_parser("evaluate", help="recompute accuracies of a run from its checkpoint")
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("--split", default="test", choices=["val", "test"])
    add_device(e)
    e.set_defaults(func=run_evaluate)


def stage_starts(text: str) -> list[int]:
    """'0,2' → [0, 2] (argparse type of --stages)."""
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--stages takes comma-separated layer indices, e.g. 0,2; got {text!r}"
        ) from None


def config_from_args(args: argparse.Namespace):
    cfg = load_config(args.config)
    if args.set:
        cfg = cfg.replace(**parse_overrides(args.set))
    train = {
        k: v
        for k, v in (
            ("epochs", args.epochs),
            ("budget_minutes", args.budget_minutes),
            ("seed", args.seed),
            ("method", args.method),
        )
        if v is not None
    }
    data = {"train_subset": args.train_subset} if args.train_subset is not None else {}
    return cfg.replace(train=train, data=data)


def run_train(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if args.profile:
        cfg = cfg.replace(hardware={"profile": args.profile})
    resolve_device(args.device)  # an unavailable device fails before anything is written
    ensure_writable_dir(args.out)
    m = train(
        cfg,
        args.out,
        device=args.device,
        resume=args.resume,
        kind=args.model,
        progress=not args.no_progress,
        parallel=args.parallel,
        stages=args.stages,
    )
    if m.get("rank", 0):  # a torchrun worker other than rank 0: rank 0 reports
        return 0
    print_table(
        [
            [
                m["kind"],
                m["method"],
                pct(m["best_val_acc_linear"]),
                pct(m["test_acc_linear"]),
                pct(m["test_acc_goodness"]),
                f"{m['train_seconds']:.0f}",
                m["device"],
            ]
        ],
        [
            "model",
            "method",
            "best val (linear)",
            "test linear",
            "test goodness",
            "train s",
            "device",
        ],
    )
    print(f"results: {args.out}/metrics.json")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    r = evaluate_run(args.run_dir, args.split, args.device)
    s = args.split
    print_table(
        [[r["kind"], str(r["epoch"]), pct(r[f"{s}_acc_linear"]), pct(r[f"{s}_acc_goodness"])]],
        ["model", "epoch", f"{s} linear", f"{s} goodness"],
    )
    return 0
