"""What each ingredient of a recipe contributes: remove one thing at a time and retrain (the seed
paper's open question 2). Validation only: the test split is never evaluated here.

The ablations of ``--config`` (each one change, everything else kept):

    hard → uniform negatives       goodness.negatives=uniform
    SymBa → threshold loss          goodness.loss=threshold (θ = threshold_scale on mean goodness)
    mean → sum goodness             goodness.measure=sum, same α (for SymBa with equal-size layers,
                                    sum with α/N would be the same loss: what changes is the scale)
    Fourier → one-hot label patch   labels.kind=onehot
    K → the paper's 0.35            labels.K=0.35
    relu1 → relu (rate only)        model.activation=relu (unbounded: no spiking equivalent)

Each run is ``benchmarks/goodness_recipes.py`` with the recipe's overrides, so the JSON holds the
validation curve (goodness on the config's validation subset, linear on all 10,000 images) per epoch,
and ``val_full``: both accuracies of the selected checkpoint on the whole validation split.

    python benchmarks/goodness_ablation.py --config mnist-quick --out benchmarks/results/ablation_quick.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import goodness_recipes  # noqa: E402

ABLATIONS = {
    "recipe": "",
    "uniform-negatives": "goodness.negatives=uniform",
    "threshold-loss": "goodness.loss=threshold",
    "sum-goodness": "goodness.measure=sum",
    "onehot-labels": "labels.kind=onehot",
    "K-0.35": "labels.K=0.35",
    "relu": "model.activation=relu",
}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="mnist-quick")
    p.add_argument("--only", help="comma-separated subset of " + ",".join(ABLATIONS))
    p.add_argument("--runs", default="runs/ablation")
    p.add_argument("--out", default="benchmarks/results/goodness_ablation.json")
    a = p.parse_args(argv)
    names = a.only.split(",") if a.only else list(ABLATIONS)
    bad = [n for n in names if n not in ABLATIONS]
    if bad:
        p.error(f"unknown ablation(s) {bad}; valid: {list(ABLATIONS)}")
    args = ["--config", a.config, "--runs", a.runs, "--out", a.out]
    for n in names:
        args += ["--recipe", f"{n}:{ABLATIONS[n]}"]
    return goodness_recipes.main(args)


if __name__ == "__main__":
    main()
