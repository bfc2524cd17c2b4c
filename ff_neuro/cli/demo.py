"""``ff-neuro demo``: the whole story on the embedded default config (:func:`ff_neuro.pipeline.demo`).

train mnist-quick (within ``--train-minutes`` of wall clock: as many of its epochs as fit) → convert to spikes (snnTorch, saves the spec; the rate model on the same images
beside every T) → Lava float and Loihi 2 fixed point on 100 test images, linear head and goodness
(progress bars) → the comparison table (rate, snnTorch, Lava float, Lava fixed point on those
images: accuracy, gap to the rate model in pp, agreement) → the HTML report, whose path it prints
last. Each step reuses what an earlier, interrupted demo already finished.
"""

from __future__ import annotations

import argparse

from ..pipeline import DEMO_TRAIN_MINUTES, demo
from .common import float_between, int_at_least, pct, print_table
from .tables import acc, pp, print_comparison, print_costs, print_lava


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="train mnist-quick, spike it, deploy it on Lava, compare, write the report"
    )
    p.add_argument("--out", default="runs/demo", metavar="RUN_DIR")
    p.add_argument("--config", default="mnist-quick")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument(
        "--spike-samples",
        type=int_at_least(1),
        default=500,
        help="test images for the snnTorch evaluation at T = 8, 16, 32 (default 500)",
    )
    p.add_argument(
        "--lava-samples",
        type=int_at_least(1),
        default=100,
        help="test images compared on Lava (float and fixed point, with goodness; default 100)",
    )
    p.add_argument(
        "--train-minutes",
        type=float_between(0, 7 * 24 * 60),
        default=DEMO_TRAIN_MINUTES,
        metavar="MIN",
        help="training wall clock: as many of the config's epochs as fit in MIN minutes on this "
        f"machine (default {DEMO_TRAIN_MINUTES:g}; 0: all of them)",
    )
    p.add_argument("--profile", default="loihi2")
    p.add_argument(
        "--fresh", action="store_true", help="start again even if RUN_DIR holds a finished run"
    )
    p.set_defaults(func=run_demo)


def spiking_rows(sm: dict) -> list[list[str]]:
    """The rate model on the spiking stage's own images, then every (variant, T) with its gap to it."""
    rate = sm["rate"]

    def gap(r: dict, key: str) -> str:
        return "–" if r[key] is None or rate[key] is None else pp(100 * (r[key] - rate[key]))

    rows = [["rate (reference)", "–", acc(rate["acc_linear"]), "–", acc(rate["acc_goodness"])]]
    rows[0] += ["–", "–"]
    for r in sm["results"]:
        rows.append(
            [f"snnTorch {r['variant']}", str(r["timesteps"]), acc(r["acc_linear"])]
            + [gap(r, "acc_linear"), acc(r["acc_goodness"]), gap(r, "acc_goodness")]
            + [f"{r['spikes_total']:.0f}"]
        )
    return rows


def _show(args: argparse.Namespace):
    """The demo's progress lines and tables, one step at a time."""
    out = args.out
    print(f"[1/5] rate-coded FF-CNN ({args.config}) → {out}")

    def show(step: str, r) -> None:
        if step.startswith("train"):
            if step == "train-reused":
                print(f"      {out} already holds a trained run (use --fresh to retrain)")
            print_table(
                [
                    [
                        "rate (FF)",
                        pct(r["best_val_acc_linear"]),
                        pct(r["test_acc_linear"]),
                        pct(r["test_acc_goodness"]),
                        f"{r['train_seconds']:.0f}",
                    ]
                ],
                ["model", "best val (linear)", "test linear", "test goodness", "train s"],
            )
            b = r.get("budget")
            if b and b["epochs"] < b["requested_epochs"]:
                print(
                    f"      {b['epochs']} of {args.config}'s {b['requested_epochs']} epochs fit the "
                    f"demo's {b['minutes']:g}-minute training budget on this machine; "
                    f"`ff-neuro train --config {args.config}` trains them all"
                )
            print(
                f"[2/5] spiking conversion (snnTorch), {args.spike_samples} test images; spec saved"
            )
        elif step == "spike":
            print_table(
                spiking_rows(r),
                ["model", "T", "linear", "Δ rate", "goodness", "Δ rate", "spikes/inference"],
            )
            print(
                f"      all rows on the same {r['samples']} test images; Δ rate: accuracy minus the "
                "rate model's, in percentage points"
            )
            print(
                f"[3/5] Lava: float and {args.profile} fixed point, {args.lava_samples} test images, "
                "linear head and goodness (every label per image)"
            )
        elif step == "lava":
            print_lava(r)
            print(
                f"[4/5] rate vs snnTorch vs Lava float vs Lava fixed point, on the same "
                f"{args.lava_samples} test images"
            )
        elif step == "compare":
            print_comparison(r)
            print()
            print_costs(r)
            print("[5/5] the report (rate, spiking and Lava sections)")

    return show


def run_demo(args: argparse.Namespace) -> int:
    index = demo(
        args.out,
        args.config,
        args.device,
        args.spike_samples,
        args.lava_samples,
        args.profile,
        args.fresh,
        show=_show(args),
        train_minutes=args.train_minutes,  # 0: every epoch (pipeline.demo)
    )
    print(f"results: {args.out}/{{metrics,spike_metrics,compare}}.json")
    print(f"report: {index}")
    return 0
