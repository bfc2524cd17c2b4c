"""Screen the FF learning layer's hyper-parameters on the reference (docs/RESULTS.md section 6).

    python benchmarks/onchip_sweep.py --run runs/quick2 --profile loihi2 --kind fixed --samples \
        2000 \
        --batch 20 --test 500 --grid 256,19 64,18
    python benchmarks/onchip_sweep.py --run runs/quick2 --kind rate --samples 50000 --batch 20 \
        --grid 256,19

``--kind`` fixed / float: spike counts under the profile (loihi2 / ideal); rate: the rate-coded
layer.
Each grid entry ``alpha,lr_shift`` trains from the same init on the same windows (``--batch``
windows
per update) and reports goodness on the first ``--test`` images of ``--split`` (default val: the
validation split, so that the test images stay unused for selection) at ``--points`` points.

The grid runs as an Optuna study (``ff_neuro.sweep.run_study``; one trial per entry, valued by the
last point of its curve) in ``--storage``: more processes or machines started with the same
``--storage`` and ``--study`` share the entries, each scored once.

    python benchmarks/onchip_sweep.py --run runs/demo --kind fixed --samples 2000 --test 500 \
        --grid 256,19 64,18 --study onchip-fixed   # storage: sqlite:///runs/demo/onchip_sweep.db
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from ff_neuro.onchip import reference as ref
from ff_neuro.onchip.experiment import (
    LearnConfig,
    TestSet,
    float_weights,
    setup,
    window_inputs,
)
from ff_neuro.runtime import hardware_description
from ff_neuro.sweep import run_study


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="runs/quick2")
    ap.add_argument("--profile", default="loihi2")
    ap.add_argument("--kind", default="rate", choices=["rate", "fixed", "float"])
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--test", type=int, default=500)
    ap.add_argument("--split", default="val", choices=["val", "test"])
    ap.add_argument("--points", type=int, default=4)
    ap.add_argument("--headroom", type=float, default=8.0)
    ap.add_argument("--frac-bits", type=int, default=0)
    ap.add_argument("--grid", nargs="+", default=["256,19"])
    ap.add_argument("--out", default=None)
    ap.add_argument("--storage", help="Optuna storage (default: sqlite:///RUN/onchip_sweep.db)")
    ap.add_argument("--study", default="onchip", help="Optuna study name (one per --kind/--run)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    s = setup(
        a.run,
        LearnConfig(
            samples=a.samples, profile=a.profile, headroom=a.headroom, frac_bits=a.frac_bits
        ),
    )
    n = 2 * a.samples
    test = TestSet(s, a.test, a.kind, split=a.split)

    def objective(trial) -> float:
        spec = trial.suggest_categorical("setting", a.grid)
        alpha, k = spec.split(",")
        p = s.params._replace(alpha=float(alpha), lr_shift=int(k))
        w = s.w0.copy() if a.kind == "fixed" else float_weights(s)
        t0, curve, epoch = time.perf_counter(), [], 0
        for start in range(0, n, 10000):
            chunk = window_inputs(s, a.kind, start, min(n, start + 10000))
            for i in range(0, len(chunk.signs), a.batch):
                ref.learn_batch(
                    w,
                    ref.Batch(chunk.inputs[i : i + a.batch], chunk.signs[i : i + a.batch]),
                    a.kind,
                    p,
                    epoch,
                )
                epoch += 1
                done = start + i + a.batch
                if done % (n // a.points) < a.batch:
                    curve.append((done, test.accuracy(w, p)))
        row = {
            "alpha": float(alpha),
            "lr_shift": int(k),
            "curve": curve,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        for key, v in row.items():
            trial.set_user_attr(key, v)
        print(json.dumps(row), flush=True)
        return float(curve[-1][1])

    storage = a.storage or f"sqlite:///{Path(a.run).resolve() / 'onchip_sweep.db'}"
    res = run_study(a.study, storage, objective, list(a.grid), grid_param="setting")
    rows = [{k: t[k] for k in ("alpha", "lr_shift", "curve", "seconds")} for t in res["trials"]]
    best = res["best"]
    print(
        f"best on {a.split} ({a.test} images): alpha {best['alpha']}, lr 2^-{best['lr_shift']} = "
        f"{best['value']:.4f}"
    )
    if a.out:
        with open(a.out, "w") as f:
            json.dump(
                {
                    "args": vars(a),
                    "rows": rows,
                    "best": best,
                    "hardware": hardware_description(torch.device("cpu")),
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
