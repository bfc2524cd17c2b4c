"""FF vs backprop training throughput and peak memory, on the same network and device.

FF runs in both modes of ``train.ff_posneg``: "sequential" (the default: positives, then negatives,
each of batch B) and "batched" (one pass of 2B).

Each method runs in its own subprocess so that peak memory is its own: on CUDA
torch.cuda.max_memory_allocated, on CPU the peak resident set size above the process's
baseline after the model and a batch exist (ru_maxrss). Writes JSON.

    .venv/bin/python benchmarks/train_throughput.py --config mnist-quick --steps 30 --device cpu
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

VARIANTS = {
    "ff-batched": {"method": "ff", "ff_posneg": "batched"},
    "ff-sequential": {"method": "ff", "ff_posneg": "sequential"},  # the default
    "bp": {"method": "bp"},
}


def measure(config: str, variant: str, steps: int, batch: int, device: str) -> dict:
    import torch

    from ff_neuro.config import load_config
    from ff_neuro.ff.model import RateModel
    from ff_neuro.runtime import hardware_description, resolve_device

    dev = resolve_device(device)
    cfg = load_config(config).replace(train={**VARIANTS[variant], "batch_size": batch})
    torch.manual_seed(0)
    model = RateModel(cfg, device=dev)
    x = torch.rand(batch, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)
    gen = torch.Generator().manual_seed(0)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model.train_step(x, y, gen)  # warm-up (allocator, kernels, optimizer state)
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_step(x, y, gen)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated() - base
        kind = "cuda max_memory_allocated above baseline"
    else:
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) * 1024
        kind = "peak RSS (ru_maxrss) above the baseline with model and batch built"
    return {
        "method": variant,
        "images_per_s": steps * batch / dt,
        "ms_per_step": 1000 * dt / steps,
        "peak_memory_bytes": peak,
        "memory_measure": kind,
        "baseline_rss_bytes": base_rss * 1024,
        "device": str(dev),
        "hardware": hardware_description(dev),
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--config", default="mnist-quick")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default="benchmarks/results/train_throughput.json")
    ap.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(a.config, a.child, a.steps, a.batch, a.device)))
        return
    results = []
    for method in VARIANTS:
        cmd = [
            sys.executable,
            __file__,
            "--config",
            a.config,
            "--steps",
            str(a.steps),
            "--batch",
            str(a.batch),
            "--device",
            a.device,
            "--child",
            method,
        ]
        results.append(
            json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        )
    ff, ff_seq, bp = results  # ff = batched
    report = {
        "benchmark": "train_throughput",
        "config": a.config,
        "batch": a.batch,
        "steps": a.steps,
        "date": time.strftime("%Y-%m-%d"),
        "results": results,
        "ff_over_bp_memory": ff["peak_memory_bytes"] / bp["peak_memory_bytes"],
        "ff_sequential_over_bp_memory": ff_seq["peak_memory_bytes"] / bp["peak_memory_bytes"],
        "ff_peak_memory_not_above_bp": ff["peak_memory_bytes"] <= bp["peak_memory_bytes"],
        "ff_sequential_peak_memory_not_above_bp": ff_seq["peak_memory_bytes"]
        <= bp["peak_memory_bytes"],
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=2) + "\n")
    for r in results:
        print(
            f"{r['method']:>3}: {r['images_per_s']:8.1f} images/s  {r['ms_per_step']:7.2f} ms/step  "
            f"peak {r['peak_memory_bytes'] / 2**20:8.1f} MiB ({r['memory_measure']})"
        )
    print(
        f"peak memory / BP's: FF batched {report['ff_over_bp_memory']:.2f}, "
        f"FF sequential {report['ff_sequential_over_bp_memory']:.2f}  -> {a.out}"
    )


if __name__ == "__main__":
    main()
