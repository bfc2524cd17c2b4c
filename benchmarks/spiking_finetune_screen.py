"""Fine-tune a trained rate model in spikes: the validation screen behind ``mnist-spiking-hybrid``.

Loads ``--run``'s best weights (a rate model in spike units, e.g. ``mnist-quick``) into the spiking
model of ``--config`` at ``--timesteps`` T, scores spike-count goodness and linear on the first
``--val`` validation images (the trainer's seeded subset), then trains ``--epochs`` epochs of spiking
steps (``SpikingModel.train_step``, in ``--precision``: bf16 autocast by default, ``auto`` as the
trainer chooses) at lr ``--lr-factor`` × the config's lr, decaying by one cosine to 0, and scores again
after every epoch. ``--images`` N makes each epoch a pass over the first N images of its permutation
(``spiking.epoch_images``). Validation only: the test split is not read.

    python benchmarks/spiking_finetune_screen.py --run runs/quick_epyc --timesteps 16 --epochs 1 \\
        --out benchmarks/results/spiking_finetune_screen_t16.json

The shipped feature is ``spiking.rate_epochs`` (both phases in one ``ff-neuro train``); this screen
fine-tunes a finished rate run so that T and the rate can be chosen without retraining it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import torch

from ff_neuro.checkpoint import load_checkpoint
from ff_neuro.config import load_config
from ff_neuro.ff.precision import resolve_precision
from ff_neuro.ff.run import config_dataset
from ff_neuro.ff.trainer import epoch_generator, evaluate, lr_factor, to_images
from ff_neuro.io import atomic_write_json
from ff_neuro.runtime import hardware_description
from ff_neuro.spiking.model import SpikingModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True, help="a trained rate run in spike units")
    ap.add_argument("--config", default="mnist-spiking", help="the spiking step's config")
    ap.add_argument("--timesteps", type=int, default=16)
    ap.add_argument("--lr-factor", type=float, default=0.25)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--val", type=int, default=2000)
    ap.add_argument("--images", type=int, default=None, help="images per epoch (default: all)")
    ap.add_argument("--precision", default="bf16", choices=("bf16", "fp32", "auto"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if not (1 <= args.timesteps <= 1024 and args.epochs >= 1 and args.val >= 1):
        ap.error("--timesteps must be in [1, 1024], --epochs and --val at least 1")
    torch.manual_seed(0)
    cfg = load_config(args.config).replace(
        spiking={"timesteps": args.timesteps, "epoch_images": args.images}
    )
    data = config_dataset(cfg)
    model = SpikingModel(cfg)
    model.load_weights(load_checkpoint(f"{args.run}/best.safetensors")[0])
    xs, ys = torch.from_numpy(data.train.x), torch.from_numpy(data.train.y)
    bs = cfg.train.batch_size
    first = (to_images(xs[:bs]), ys[:bs].long())
    cl = None if args.precision == "auto" else False  # auto times channels_last as the trainer does
    precision = resolve_precision(args.precision, model, first, channels_last=cl)
    model.set_precision(precision)
    print(f"precision: {precision.mode}, {precision.reason}", flush=True)
    val = data.val.subset(args.val, seed=cfg.data.split_seed)
    t0 = time.perf_counter()
    rows = [{"epoch": 0, **evaluate(model, val, 250), "eval_s": time.perf_counter() - t0}]
    print(rows[-1], flush=True)
    steps = model.epoch_steps(len(ys) // bs, bs)
    for ep in range(args.epochs):
        gen = epoch_generator(0, 100 + ep)
        perm = torch.randperm(len(ys), generator=gen)
        t0 = time.perf_counter()
        for step in range(steps):
            model.set_lr_factor(
                args.lr_factor * lr_factor("cosine", ep + 1, args.epochs, step, steps)
            )
            idx = perm[step * bs : (step + 1) * bs]
            model.train_step(to_images(xs[idx]), ys[idx].long(), gen)
        train_s = time.perf_counter() - t0
        rows.append({"epoch": ep + 1, **evaluate(model, val, 250), "train_s": train_s})
        print(rows[-1], flush=True)
    atomic_write_json(
        args.out,
        {
            "run": args.run,
            "config": args.config,
            "timesteps": args.timesteps,
            "lr_factor": args.lr_factor,
            "images_per_epoch": steps * bs,
            "precision": precision.record(),
            "val_images": args.val,
            "epochs": rows,
            "hardware": hardware_description(torch.device("cpu")),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        },
    )


if __name__ == "__main__":
    main()
