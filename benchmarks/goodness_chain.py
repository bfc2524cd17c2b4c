"""Goodness along the chain, on the same test images: rate model → spike counts (snnTorch semantics, float)
→ Loihi fixed point (the integer emulation that Lava's fixed_pt models match bit for bit).

For each image and every label the three goodness scores are computed; the JSON holds accuracies
(goodness and linear head), the agreement of each spiking argmax with the rate model's, the goodness
predictions per class and the float confusion matrix. Images run in chunks (bounded memory), with a
progress bar; the JSON is rewritten after every chunk, so a killed run keeps what it measured.

    python benchmarks/goodness_chain.py --run runs/quick2 --timesteps 32 --samples 10000 \\
        --out benchmarks/results/goodness_chain.json [--no-fixed] [--split val]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ff_neuro.ff import open_run
from ff_neuro.ff.classify import goodness_scores
from ff_neuro.hardware.emulate import emulate_fixed
from ff_neuro.hardware.evaluate import encoded, goodness_predictions, head_predictions
from ff_neuro.hardware.quantize import quantize_spec
from ff_neuro.io import atomic_write_json
from ff_neuro.runtime import hardware_description
from ff_neuro.spiking import SpikingNetwork, run_spec
from ff_neuro.spiking.network import labels_for


def summary(pred: np.ndarray, y: np.ndarray, ref: np.ndarray | None, classes: int) -> dict:
    out = {
        "acc": float((pred == y).mean()),
        "per_class": np.bincount(pred, minlength=classes).tolist(),
    }
    if ref is not None:
        out["same_argmax_as_rate"] = float((pred == ref).mean())
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--run", required=True)
    p.add_argument("--timesteps", type=int, default=32)
    p.add_argument("--samples", type=int, default=10_000)
    p.add_argument("--profile", default="loihi2")
    p.add_argument("--chunk", type=int, default=100)
    p.add_argument("--no-fixed", action="store_true", help="skip the fixed-point emulation")
    p.add_argument(
        "--fixed-samples",
        type=int,
        default=None,
        help="emulate only the first N images (default all)",
    )
    p.add_argument(
        "--split",
        choices=("test", "val"),
        default="test",
        help="the images: the test split, or the validation split (for screens that choose a recipe)",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "goodness_chain.json"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    run = open_run(args.run)
    ds = run.dataset
    net, _, labels = run.parts
    spec = run_spec(run, args.timesteps)[0]
    snn = SpikingNetwork(spec, max_batch_steps=8192)
    qnet = None if args.no_fixed else quantize_spec(spec, args.profile)
    slabels = labels_for(spec)
    x, y = getattr(ds, args.split).tensors(args.samples)
    k = labels.num_classes
    preds = {name: [] for name in ("rate", "float", "fixed", "float_linear", "fixed_linear")}
    res = {
        "run": args.run,
        "split": args.split,
        "timesteps": args.timesteps,
        "profile": None if args.no_fixed else args.profile,
        "reset": sorted({layer.reset for layer in spec.layers}),
        "env": {
            "hardware": hardware_description(torch.device("cpu")),
            "threads": args.threads,
            "loadavg_start": os.getloadavg(),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(["python", *sys.argv]),
        },
    }
    seconds = {"rate": 0.0, "float": 0.0, "fixed": 0.0}
    for i in tqdm(range(0, len(y), args.chunk), desc="goodness chain", unit="chunk"):
        xb = x[i : i + args.chunk]
        t0 = time.perf_counter()
        with torch.no_grad():
            preds["rate"].append(goodness_scores(net, labels, xb).argmax(1).numpy())
        t1 = time.perf_counter()
        preds["float"].append(snn.goodness_scores(xb).argmax(1).numpy())
        preds["float_linear"].append(snn.predict_linear(xb).numpy())
        t2 = time.perf_counter()
        if qnet is not None and (args.fixed_samples is None or i < args.fixed_samples):
            counts = emulate_fixed(qnet, encoded(spec, slabels.all_labels(xb)))
            preds["fixed"].append(goodness_predictions(spec, counts, k))
            counts = emulate_fixed(qnet, encoded(spec, slabels.neutral(xb)))
            preds["fixed_linear"].append(head_predictions(spec, counts))
        t3 = time.perf_counter()
        seconds["rate"] += t1 - t0
        seconds["float"] += t2 - t1
        seconds["fixed"] += t3 - t2
        n = i + len(xb)
        yy = y[:n].numpy()
        cat = {key: np.concatenate(v) for key, v in preds.items() if v}
        nf = len(cat["fixed"]) if "fixed" in cat else 0
        res.update(
            {
                "samples": n,
                "seconds": {key: round(v, 1) for key, v in seconds.items()},
                "goodness": {
                    key: summary(cat[key], yy, None if key == "rate" else cat["rate"], k)
                    for key in ("rate", "float")
                    if key in cat
                },
                "linear": {"float_linear": float((cat["float_linear"] == yy).mean())},
                "float_confusion": np.bincount(yy * k + cat["float"], minlength=k * k)
                .reshape(k, k)
                .tolist(),
            }
        )
        if nf:  # the fixed-point emulation, and float on the same first nf images
            yf = yy[:nf]
            res["fixed"] = {
                "samples": nf,
                "goodness": summary(cat["fixed"], yf, cat["rate"][:nf], k),
                "float_goodness_same_images": float((cat["float"][:nf] == yf).mean()),
                "rate_goodness_same_images": float((cat["rate"][:nf] == yf).mean()),
                "linear": float((cat["fixed_linear"] == yf).mean()),
                "float_linear_same_images": float((cat["float_linear"][:nf] == yf).mean()),
                "same_goodness_argmax_as_float": float((cat["fixed"] == cat["float"][:nf]).mean()),
            }
            res["fixed"]["fixed_minus_float_goodness_pp"] = 100.0 * (
                res["fixed"]["goodness"]["acc"] - res["fixed"]["float_goodness_same_images"]
            )
        res["rate_minus_float_goodness_pp"] = 100.0 * (
            res["goodness"]["rate"]["acc"] - res["goodness"]["float"]["acc"]
        )
        res["env"]["loadavg_end"] = os.getloadavg()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(Path(args.out), res)
    print({k: v for k, v in res.items() if k not in ("float_confusion", "env")})


if __name__ == "__main__":
    main()
