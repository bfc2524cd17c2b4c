"""What ``train.precision: auto`` chooses on this machine, for shipped configs (writes JSON).

For each config and model kind it builds the trainer's model and calls
``ff_neuro.ff.precision.resolve_precision("auto", model, first_batch)`` ``--repeats`` times, exactly
as the trainer does before its first step: real training steps of a copy of the model at the
config's batch size (the first training images of the dataset), fp32 NCHW against fp32
channels_last, and bf16 where the CPU has bf16 instructions. It records every choice with its
timings and reason, the CPU model and its bf16 flags. Not a timed test: run it alone.

    .venv/bin/python benchmarks/precision_choice.py --configs mnist-quick:rate,mnist-spiking:spiking \
        --out benchmarks/results/precision_choice.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def choose(name: str, kind: str, repeats: int) -> dict:
    from ff_neuro.config import load_config
    from ff_neuro.data import load_dataset
    from ff_neuro.ff.precision import resolve_precision

    cfg = load_config(name)
    if kind == "spiking":
        from ff_neuro.spiking.model import SpikingModel as Model
    else:
        from ff_neuro.ff.model import RateModel as Model
    data = load_dataset(cfg.data.dataset)
    b = cfg.train.batch_size
    x = torch.from_numpy(data.train.x[:b]).unsqueeze(1).float() / 255.0
    y = torch.from_numpy(data.train.y[:b]).long()
    torch.manual_seed(cfg.train.seed)
    choices = [
        resolve_precision("auto", Model(cfg), (x, y), cfg.train.channels_last).record()
        for _ in range(repeats)
    ]
    return {"config": name, "model": kind, "batch": b, "choices": choices}


def main() -> None:
    from ff_neuro.io import atomic_write_json
    from ff_neuro.runtime import keep_freed_memory, measurement_stamp

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", default="mnist-quick:rate,mnist-spiking:spiking")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/precision_choice.json")
    a = ap.parse_args()
    keep_freed_memory()  # as every ff-neuro command
    rows = []
    for item in a.configs.split(","):
        name, _, kind = item.partition(":")
        rows.append(choose(name, kind or "rate", a.repeats))
        for c in rows[-1]["choices"]:
            print(
                f"{name} ({kind or 'rate'}): {c['mode']} channels_last={c['channels_last']} "
                f"{c['timings_ms']}",
                flush=True,
            )
    atomic_write_json(a.out, {**measurement_stamp(), "results": rows})
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
