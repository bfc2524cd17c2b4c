"""Stage 2: train a small rate-coded FF-CNN, evaluate both classifiers, reload it.

    python examples/02_train_rate_model.py [RUN_DIR]       (default /tmp/ff_neuro_examples/run)

A shrunken version of the paper's network (16/16/16 filters of 5x5, layer 0 random) trained for 2
epochs on 5000 images: a couple of minutes on a 2-core CPU. The run directory is what the other
examples (spiking, Lava, report) read. Remove it to train again.
"""

import sys

import torch

from ff_neuro.config import load_config
from ff_neuro.ff import evaluate_run, open_run, train

run_dir = sys.argv[1] if len(sys.argv) > 1 else "/tmp/ff_neuro_examples/run"
torch.set_num_threads(2)

cfg = load_config("mnist-quick").replace(
    model={
        "layers": [
            {"channels": 16, "kernel": 5, "train": False},
            {"channels": 16, "kernel": 5},
            {"channels": 16, "kernel": 5},
        ]
    },
    train={"epochs": 2},
    data={"train_subset": 5000},
)
metrics = train(
    cfg,
    run_dir,
    device="cpu",
    progress=False,
    on_epoch=lambda r: print(
        f"epoch {r['epoch']}: val linear {r['val_acc_linear']:.3f}, "
        f"goodness {r['val_acc_goodness']}"
    ),
)
print(
    f"test accuracy: linear {metrics['test_acc_linear']:.4f}, goodness {metrics['test_acc_goodness']:.4f}"
)

run = open_run(run_dir, "cpu")
model, cfg, meta = run.model, run.cfg, run.meta  # RateModel: net (FFNet), head, labels
print(
    f"reloaded epoch {meta['epoch']}: layer shapes {model.net.shapes}, thresholds {model.net.thresholds}"
)
print(evaluate_run(run_dir, "val", "cpu"))
