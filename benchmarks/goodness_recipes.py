"""Learning curves of FF goodness recipes: validation goodness and linear accuracy per epoch, and the
training minutes each recipe needs to reach 95 / 97 / 98 % validation goodness.

Each recipe is a set of config overrides on top of ``--config`` (and the shared ``--set`` ones), trained
from scratch with the same seed into ``--runs/<name>``. Model selection and the test split are not
touched here: this compares recipes on validation only.

    python benchmarks/goodness_recipes.py --config mnist-quick-paper --epochs 1 --set data.train_subset=10000 \\
        --recipe paper: --recipe symba-hard:goodness.loss=symba,goodness.measure=mean,goodness.scale=8,goodness.negatives=hard
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import torch

from ff_neuro.config import load_config
from ff_neuro.data.datasets import load_dataset
from ff_neuro.io import atomic_write_json
from ff_neuro.pipeline import evaluate_run, open_run, train
from ff_neuro.runtime import hardware_description
from ff_neuro.sweep import parse_recipe

TARGETS = (0.95, 0.97, 0.98, 0.99)


def parse_overrides(text: str) -> dict[str, dict]:
    """'goodness.loss=symba;train.lr=1e-3' → {'goodness': {'loss': 'symba'}, 'train': {'lr': 0.001}}."""
    return parse_recipe(f"x:{text}")[1]


def merge(*parts: dict[str, dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for part in parts:
        for sec, vals in part.items():
            out.setdefault(sec, {}).update(vals)
    return out


def minutes_to(history: list[dict], target: float, key: str = "val_acc_goodness") -> float | None:
    """Cumulative training minutes at the first epoch whose validation accuracy ``key`` (goodness
    by default) reaches ``target``."""
    for r in history:
        if r[key] is not None and r[key] >= target:
            return round(r["train_seconds"] / 60, 2)
    return None


@torch.no_grad()
def per_layer_goodness(run: Path, data, n: int = 2000) -> dict[str, float]:
    """Validation goodness accuracy of each loss layer alone and of their sum (best checkpoint)."""
    from ff_neuro.ff.objective import layer_goodness

    r = open_run(run, device="cpu")
    model, cfg = r.model, r.cfg
    x, y = data.val.tensors(n)
    layers = cfg.model.loss_layers
    g = []
    for i in range(0, len(y), 100):
        acts = model.net(model.labels.all_labels(x[i : i + 100]))
        g.append(
            torch.stack([layer_goodness(acts[l], model.net.measure) for l in layers], 1).view(
                -1, 10, len(layers)
            )
        )
    g = torch.cat(g)
    out = {
        f"layer{l}": float((g[:, :, j].argmax(1) == y).float().mean()) for j, l in enumerate(layers)
    }
    out["sum"] = float((g.sum(2).argmax(1) == y).float().mean())
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="mnist-quick-paper")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--set", default="", help="shared overrides, SECTION.KEY=VALUE separated by ;")
    p.add_argument(
        "--recipe",
        action="append",
        required=True,
        help="NAME:SECTION.KEY=VALUE;... (repeatable; VALUE is YAML)",
    )
    p.add_argument("--runs", default="runs/recipes")
    p.add_argument(
        "--test", action="store_true", help="also evaluate the test split (off: validation only)"
    )
    p.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "goodness_recipes.json")
    )
    a = p.parse_args(argv)
    base = load_config(a.config)
    shared = parse_overrides(a.set)
    if a.epochs:
        shared = merge(shared, {"train": {"epochs": a.epochs}})
    out_path = Path(a.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {"recipes": {}}
    data = None
    for spec in a.recipe:
        name, _, text = spec.partition(":")
        overrides = merge(shared, parse_overrides(text))
        cfg = base.replace(**overrides)
        if data is None:
            data = load_dataset(
                cfg.data.dataset, cfg.data.root, cfg.data.val_size, cfg.data.split_seed
            )
        run = Path(a.runs) / name
        if run.exists():
            import shutil

            shutil.rmtree(run)
        print(f"== {name}: {overrides}", flush=True)
        m = train(cfg, run, device="cpu", dataset=data, progress=False, test=a.test)
        results["recipes"][name] = record(run, m, overrides, a.config, data)
        print("per layer:", results["recipes"][name]["val_goodness_per_layer"], flush=True)
        atomic_write_json(out_path, results)
    return results


def record(run: Path, m: dict, overrides: dict, config: str, data) -> dict:
    """One recipe's JSON entry from its run folder and the metrics ``train`` returned (or wrote)."""
    hist = m["history"]
    return {
        "overrides": overrides,
        "config": config,
        "run": str(run),
        "precision": m.get("precision"),
        "curve": [
            {k: r[k] for k in ("epoch", "val_acc_goodness", "val_acc_linear", "train_seconds")}
            for r in hist
        ],
        "minutes_to": {f"{int(t * 100)}": minutes_to(hist, t) for t in TARGETS},
        "minutes_to_linear": {
            f"{int(t * 100)}": minutes_to(hist, t, "val_acc_linear") for t in TARGETS
        },
        "test_acc_goodness": m["test_acc_goodness"],
        "test_acc_linear": m["test_acc_linear"],
        "seconds_per_epoch": round(m["train_seconds"] / len(hist), 1),
        "val_goodness_per_layer": per_layer_goodness(run, data),
        "val_full": evaluate_run(run, "val", "cpu", dataset=data),
        "hardware": hardware_description(torch.device("cpu")),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


if __name__ == "__main__":
    main()
