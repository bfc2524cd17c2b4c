"""Scaling out: sweep 4 FF recipes on Optuna, on a training subset, and print the best one.

    python examples/07_sweep_recipes.py [RUNS_DIR]        (default /tmp/ff_neuro_sweep)

Each recipe is a set of config overrides on the tiny 8/16/16 network; every trial trains on 2,000
images for one epoch and is scored on validation goodness (the test split is never touched). The
study lives in RUNS_DIR/optuna.db (SQLite): start this script in a second terminal and the two
processes share the grid, each recipe trained once. The same with the command line:

    ff-neuro sweep --config mnist-quick --train-subset 2000 --epochs 1 \\
        --recipe uniform:goodness.negatives=uniform --recipe hard: --storage sqlite:///sweep.db
"""

import sys
from pathlib import Path

from ff_neuro.config import load_config
from ff_neuro.pipeline import train
from ff_neuro.sweep import run_sweep

runs = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ff_neuro_sweep")
runs.mkdir(parents=True, exist_ok=True)
tiny = {  # the mnist-quick recipe on a network small enough for a demo
    "model": {
        "layers": [
            {"channels": 8, "kernel": 5, "stride": 2, "train": False, "activation_scale": 1.7},
            {"channels": 16, "kernel": 5, "stride": 2},
            {"channels": 16, "kernel": 3},
        ],
        "loss_layers": [1, 2],
        "readout_layers": [1, 2],
        "goodness_layers": None,
    },
    "data": {"train_subset": 2000},
    "train": {"epochs": 1, "val_goodness_subset": 500, "precision": "fp32"},
}
recipes = [
    "hard-symba:",  # the base recipe as shipped
    "uniform:goodness.negatives=uniform",
    "threshold:goodness.loss=threshold",
    "two-negatives:goodness.negatives_per_image=2",
]
res = run_sweep(
    load_config("mnist-quick"),
    lambda cfg, out, **kw: train(cfg, out, device="cpu", **kw),
    study="example",
    storage=f"sqlite:///{runs.resolve() / 'optuna.db'}",
    runs=runs,
    recipes=recipes,
    shared=tiny,
)
for t in sorted(res["trials"], key=lambda t: -t["value"]):
    print(f"{t['params']['recipe']:>14}: validation goodness {100 * t['value']:.2f} %")
best = res["best"]
print(f"best recipe: {best['params']['recipe']} ({100 * best['value']:.2f} % validation goodness)")
