"""Is a trained rate model over-fitting, and what can each layer's features tell apart?

For ``--run``: goodness and linear-head accuracy on ``--samples`` *training* images against as many
validation images (a large train − val gap says the model over-fits, so augmentation or regularisation
could pay), and a linear probe per layer: softmax regression (Adam, ``--probe-epochs`` epochs, features
standardised on the training images) on the layer's neutral-label activations of ``--probe-train``
training images, scored on all validation images. Validation only: the test split is not touched.

    python benchmarks/feature_probe.py --run runs/quick10cl --out benchmarks/results/feature_probe_quick10cl.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

import torch

from ff_neuro.ff.run import open_run
from ff_neuro.ff.trainer import evaluate, to_images
from ff_neuro.io import atomic_write_json
from ff_neuro.runtime import hardware_description


def layer_features(
    model, split, n: int, batch: int = 1000
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Each layer's flattened neutral-label activations of the first ``n`` images, and their labels."""
    xs = to_images(torch.from_numpy(split.x[:n]))
    per_layer: list[list[torch.Tensor]] = [[] for _ in model.net.layers]
    with torch.no_grad():
        for i in range(0, len(xs), batch):
            for layer, a in enumerate(model.net(model.labels.neutral(xs[i : i + batch]))):
                per_layer[layer].append(a.flatten(1))
    return [torch.cat(p) for p in per_layer], torch.from_numpy(split.y[:n]).long()


def probe(
    a: torch.Tensor, ya: torch.Tensor, b: torch.Tensor, yb: torch.Tensor, epochs: int
) -> float:
    """Validation accuracy of softmax regression trained on (a, ya), scored on (b, yb)."""
    mu, sd = a.mean(0), a.std(0) + 1e-3
    a, b = (a - mu) / sd, (b - mu) / sd
    lin = torch.nn.Linear(a.shape[1], int(ya.max()) + 1)
    opt = torch.optim.Adam(lin.parameters(), 1e-3)
    for _ in range(epochs):
        perm = torch.randperm(len(a))
        for i in range(0, len(a), 100):
            j = perm[i : i + 100]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(lin(a[j]), ya[j]).backward()
            opt.step()
    with torch.no_grad():
        return float((lin(b).argmax(1) == yb).float().mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--probe-train", type=int, default=50_000)
    ap.add_argument("--probe-epochs", type=int, default=8)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.manual_seed(0)
    run = open_run(args.run)
    model, data = run.model, run.dataset
    gap = {
        name: evaluate(model, split.subset(args.samples, seed=1), 500)
        for name, split in (("train", data.train), ("val", data.val))
    }
    print("train vs val:", gap, flush=True)
    ftr, ytr = layer_features(model, data.train, args.probe_train)
    fva, yva = layer_features(model, data.val, len(data.val.y))
    probes = {}
    for layer, (a, b) in enumerate(zip(ftr, fva)):
        probes[f"layer{layer}"] = {
            "dim": a.shape[1],
            "val_acc": probe(a, ytr, b, yva, args.probe_epochs),
        }
        print(f"layer {layer}:", probes[f"layer{layer}"], flush=True)
    atomic_write_json(
        args.out,
        {
            "run": args.run,
            "train_vs_val": gap,
            "probe": probes,
            "probe_train_images": len(ytr),
            "probe_epochs": args.probe_epochs,
            "hardware": hardware_description(torch.device("cpu")),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        },
    )
    print(json.dumps(probes))


if __name__ == "__main__":
    main()
