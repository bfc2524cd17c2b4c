"""Score learned FF layers on more test images than the learning curve used (docs/RESULTS.md
section 6).

    python benchmarks/onchip_eval.py --metrics \
        benchmarks/results/learn_quick2_reference_full_loihi2.json \
        --test 10000 --out benchmarks/results/learn_quick2_full_eval10k.json

Reads the metrics' config, rebuilds the same set-up (frozen layers, init, windows), scores the saved
weights (``*_weights.npz``) on the first ``--test`` test images, and retrains the rate-coded layer
on
the same schedule (cheap: rates) to score it on the same images.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from ff_neuro.onchip.experiment import LearnConfig, TestSet, setup, train_reference


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--run", default="runs/quick2")
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--no-rate", action="store_true")
    ap.add_argument("--out", default=None)
    ap.add_argument(
        "--selected",
        type=int,
        default=500,
        help="the first N test images were used to choose hyper-parameters: "
        "also report the accuracy on the others",
    )
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = json.loads(Path(a.metrics).read_text())
    cfg = LearnConfig(**m["config"])
    s = setup(a.run, cfg)
    weights = np.load(Path(a.metrics).with_name(Path(a.metrics).stem + "_weights.npz"))
    t0 = time.perf_counter()
    test = TestSet(s, a.test, s.kind)
    out = {
        "metrics": a.metrics,
        "test_samples": a.test,
        "kind": s.kind,
    }
    for key, w in (("before", weights["w0"]), ("after", weights["w"])):
        h = test.hits(w, s.params)
        out[f"acc_{key}"] = float(h.mean())
        out[f"acc_{key}_unselected"] = float(h[a.selected :].mean())
    out["unselected_images"] = f"test images {a.selected}..{a.test - 1} (never used to choose)"
    print(json.dumps(out), flush=True)
    if not a.no_rate:
        rate_test = TestSet(s, a.test, "rate")
        w_rate, _, _, _ = train_reference(s, cfg._replace(points=1), "rate", TestSet(s, 1, "rate"))
        h = rate_test.hits(w_rate, s.params)
        out["rate_coded_acc_after"] = float(h.mean())
        out["rate_coded_acc_after_unselected"] = float(h[a.selected :].mean())
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out), flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
