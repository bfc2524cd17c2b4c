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

    python benchmarks/goodness_ablation.py --config mnist-quick --set train.precision=bf16 \
        --recipe-run runs/quick3 --out benchmarks/results/goodness_ablation.json

``--recipe-run RUN`` takes the unchanged recipe's row from a run already trained with ``--config``
(its saved config must equal the config with ``--set`` applied, except the precision that ``auto``
resolved), instead of training it again. ``--set`` applies to every row: fix ``train.precision``
so that ``auto``'s timing on a busy machine cannot give the rows different arithmetic.
"""

from __future__ import annotations

import argparse
import json
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
    p.add_argument("--set", default="", help="overrides for every row, SECTION.KEY=VALUE;...")
    p.add_argument("--recipe-run", help="an existing run of the unchanged recipe (its row)")
    p.add_argument("--runs", default="runs/ablation")
    p.add_argument("--out", default="benchmarks/results/goodness_ablation.json")
    a = p.parse_args(argv)
    names = a.only.split(",") if a.only else list(ABLATIONS)
    bad = [n for n in names if n not in ABLATIONS]
    if bad:
        p.error(f"unknown ablation(s) {bad}; valid: {list(ABLATIONS)}")
    if a.recipe_run:
        names = [n for n in names if n != "recipe"]
        reuse(Path(a.recipe_run), a.config, a.set, Path(a.out))
    args = ["--config", a.config, "--runs", a.runs, "--out", a.out, "--set", a.set]
    for n in names:
        args += ["--recipe", f"{n}:{ABLATIONS[n]}"]
    return goodness_recipes.main(args) if names else json.loads(Path(a.out).read_text())


def reuse(run: Path, config: str, shared: str, out: Path) -> None:
    """The ``recipe`` row from an existing run, after checking that it is that recipe."""
    from ff_neuro.config import load_config
    from ff_neuro.data.datasets import load_dataset
    from ff_neuro.io import atomic_write_json

    m = json.loads((run / "metrics.json").read_text())
    want = load_config(config).replace(**goodness_recipes.parse_overrides(shared))
    got = load_config(run / "config.yaml")
    mine, theirs = want.to_dict(), got.to_dict()
    for c in (mine, theirs):
        c["train"].pop("precision", None)
    if mine != theirs:
        raise SystemExit(f"{run} was not trained with {config} and {shared!r}; retrain it")
    d = want.data
    data = load_dataset(d.dataset, d.root, d.val_size, d.split_seed)
    results = json.loads(out.read_text()) if out.exists() else {"recipes": {}}
    results["recipes"]["recipe"] = goodness_recipes.record(run, m, {}, config, data)
    atomic_write_json(out, results)


if __name__ == "__main__":
    main()
