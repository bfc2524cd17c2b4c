"""``ff-neuro demo``: the whole story on the embedded default config (:func:`ff_neuro.pipeline.demo`).

train mnist-quick → convert to spikes (snnTorch, saves the spec) → deploy a handful of test images on
Lava → the comparison table → the HTML report, whose path it prints last. Each step reuses what an
earlier, interrupted demo already finished.
"""

from __future__ import annotations

import argparse

from ..pipeline import demo
from .common import int_at_least, pct, print_table


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
        default=1000,
        help="test images for the snnTorch evaluation",
    )
    p.add_argument(
        "--lava-samples", type=int_at_least(1), default=5, help="test images deployed on Lava"
    )
    p.add_argument("--profile", default="loihi2")
    p.add_argument(
        "--fresh", action="store_true", help="start again even if RUN_DIR holds a finished run"
    )
    p.set_defaults(func=run_demo)


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
            print(
                f"[2/5] spiking conversion (snnTorch), {args.spike_samples} test images; spec saved"
            )
        elif step == "spike":
            print_table(
                [
                    [
                        r_["variant"],
                        str(r_["timesteps"]),
                        pct(r_["acc_linear"]),
                        pct(r_["acc_goodness"]),
                        f"{r_['spikes_total']:.0f}",
                    ]
                    for r_ in r["results"]
                ],
                ["model", "T", "linear", "goodness", "spikes/inference"],
            )
            print(
                f"[3/5] Lava deployment ({args.profile}, float), {args.lava_samples} test images, "
                f"linear and goodness"
            )
        elif step == "deploy":
            print(
                f"      accuracy linear {pct(r['accuracy']['linear'])}, goodness "
                f"{pct(r['accuracy']['goodness'])}; spike-count agreement with snnTorch "
                f"{100 * r['agreement']['spike_count_agreement']:.4f} %"
            )
            print(
                "[4/5] rate vs snnTorch vs Lava float vs Lava fixed point, on the same test images"
            )
        elif step == "compare":
            print_table(
                [
                    [x["model"], pct(x["acc_linear"]), pct(x["acc_goodness"]), str(x["samples"])]
                    for x in r["rows"]
                ],
                ["model", "acc linear", "acc goodness", "images"],
            )
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
    )
    print(f"results: {args.out}/{{metrics,spike_metrics,deploy_metrics,compare}}.json")
    print(f"report: {index}")
    return 0
