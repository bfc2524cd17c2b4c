"""Data-parallel or layer-pipelined FF against one process: the same config trained by ``ff-neuro
train`` and by ``torchrun --nproc-per-node W -m ff_neuro train [--parallel layers]``; writes the
weights' agreement and the images/s.

    python benchmarks/distributed_agreement.py --config mnist-quick --train-subset 5000 --epochs 1 \\
        --world 2 --out benchmarks/results/distributed_agreement.json
    python benchmarks/distributed_agreement.py --config mnist-quick --train-subset 5000 --epochs 1 \\
        --world 2 --parallel layers --stages 0,3 --out benchmarks/results/pipeline_agreement.json

One process uses all ``--threads`` torch threads; each of the W ranks gets threads/W (on 2 cores:
1 process × 2 threads against 2 ranks × 1 thread). Both runs are validation-only comparisons of the
same seed; the test split is evaluated by each run as usual but not used here.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch

from ff_neuro.checkpoint import load_checkpoint
from ff_neuro.runtime import hardware_description


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="mnist-quick")
    ap.add_argument("--train-subset", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--world", type=int, default=2)
    ap.add_argument("--parallel", choices=["data", "layers"], default="data")
    ap.add_argument("--stages", help="--parallel layers: first layer of each rank's block")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--set", action="append", default=["train.precision=fp32"])
    ap.add_argument("--runs", default="runs/distributed")
    ap.add_argument("--out", default="benchmarks/results/distributed_agreement.json")
    a = ap.parse_args()
    common = ["train", "--config", a.config, "--train-subset", str(a.train_subset)]
    common += ["--epochs", str(a.epochs), "--no-progress", "--device", "cpu"]
    for s in a.set:
        common += ["--set", s]
    runs = Path(a.runs)
    res = {}
    for name, world in (("single", 1), (f"torchrun{a.world}", a.world)):
        out = runs / name
        if out.exists():
            import shutil

            shutil.rmtree(out)
        env = {**os.environ, "OMP_NUM_THREADS": str(max(1, a.threads // world))}
        cmd = [sys.executable, "-m", "ff_neuro", *common, "--out", str(out)]
        if world > 1:
            cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={world}"]
            cmd += ["--master-addr=127.0.0.1", f"--master-port={free_port()}", "-m", "ff_neuro"]
            cmd += [*common, "--out", str(out), "--parallel", a.parallel]
            cmd += ["--stages", a.stages] if a.stages else []
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        m = json.loads((out / "metrics.json").read_text())
        res[name] = {
            "world_size": world,
            "threads_per_process": max(1, a.threads // world),
            "train_seconds": m["train_seconds"],
            "images_per_s": round(m["train_size"] * a.epochs / m["train_seconds"], 1),
            "wall_seconds": round(wall, 1),
            "best_val_acc_goodness": m["best_val_acc_goodness"],
            "best_val_acc_linear": m["best_val_acc_linear"],
        }
    wa, _ = load_checkpoint(runs / "single" / "checkpoint.safetensors")
    wb, _ = load_checkpoint(runs / f"torchrun{a.world}" / "checkpoint.safetensors")
    diffs = {
        k: float((wa[k] - wb[k]).abs().max())
        for k in wa
        if not k.startswith("opt.") and wa[k].is_floating_point()
    }
    scale = {k: float(wa[k].abs().max()) for k in diffs}
    report = {
        "benchmark": "distributed_agreement",
        "config": a.config,
        "args": vars(a),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "hardware": hardware_description(torch.device("cpu")),
        "runs": res,
        "max_abs_weight_diff": max(diffs.values()),
        "max_rel_weight_diff": max(diffs[k] / max(scale[k], 1e-12) for k in diffs),
        "per_tensor_max_abs_diff": diffs,
        "speedup": round(
            res[f"torchrun{a.world}"]["images_per_s"] / res["single"]["images_per_s"], 3
        ),
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report[k] for k in ("runs", "max_abs_weight_diff", "speedup")}, indent=1))


if __name__ == "__main__":
    main()
