"""Training throughput of one config on this machine: precision, memory format, batch size and the
cost of choosing negatives. Writes JSON; not a timed test.

For every batch size and arithmetic (fp32 / bf16 autocast, NCHW / channels_last) it times real
training steps of ``RateModel`` (the trainer's own step: head features, negatives, FF layers, Adam)
and reports

  * images/s and ms per step, with the hard-negative scoring pass timed on its own (its share of the
    step), for the config's ``goodness.hard_layers`` and for scoring with the first trained layer only;
  * what the layer-0 shortcut could save at most: the time of building the N·C labelled inputs and
    running layer 0 inside the scoring pass (conv(x + K·L_c) = conv(x) + K·conv(L_c) would replace it);
  * minor page faults per step (memory the allocator handed back to the OS and faults in again:
    ``--default-malloc`` shows glibc's default, without ``runtime.keep_freed_memory``);
  * achieved GFLOP/s (conv multiply-adds counted from the shapes, ×2) against the machine's measured
    peak (a large 1×1 convolution in fp32 and bf16 on all threads) and its CPU model and bf16 flags.

    .venv/bin/python benchmarks/train_throughput.py --config mnist-quick --batches 50,100,200 \\
        --out benchmarks/results/train_throughput.json

``--memory`` runs the older comparison of FF (sequential, batched) against backprop: images/s and
peak memory, each method in its own subprocess.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

MEMORY_VARIANTS = {
    "ff-batched": {"method": "ff", "ff_posneg": "batched"},
    "ff-sequential": {"method": "ff", "ff_posneg": "sequential"},  # the default
    "bp": {"method": "bp"},
}
MODES = {  # name: (precision, channels_last)
    "fp32": ("fp32", False),
    "fp32-channels_last": ("fp32", True),
    "bf16": ("bf16", False),
    "bf16-channels_last": ("bf16", True),
}


def conv_macs(cfg, in_shape=(1, 28, 28)) -> list[int]:
    """Multiply-adds of every conv layer for one image."""
    from ff_neuro.ff.network import output_shapes

    shapes = output_shapes(cfg.model, in_shape)
    chans = [in_shape[0]] + [s[0] for s in shapes[:-1]]
    return [
        c_out * c_in * spec.kernel**2 * h * w
        for (c_out, h, w), c_in, spec in zip(shapes, chans, cfg.model.layers)
    ]


def step_flops(cfg, batch: int) -> float:
    """FLOPs (2 × multiply-adds) of one FF step: the head's neutral pass, the scoring pass over all
    labels (hard negatives), the forward of positives and k negatives, the weight gradients of the
    trained layers (inputs are detached: no input gradients)."""
    macs = conv_macs(cfg)
    m, g = cfg.model, cfg.goodness
    upto = lambda last: sum(macs[: last + 1])  # noqa: E731
    total = batch * upto(max(m.readout_layers))
    if g.negatives == "hard":
        hard = m.score_layers if g.hard_layers is None else g.hard_layers
        total += 10 * batch * upto(max(hard))
    groups = 10 if g.loss == "softmax" else 1 + g.negatives_per_image
    last = max(m.loss_layers)
    total += groups * batch * upto(last)
    total += groups * batch * sum(macs[i] for i in m.loss_layers if m.layers[i].train)
    return 2.0 * total


PEAK_SHAPES = (
    (64, 128, 14, 5),
    (100, 128, 7, 5),
    (16, 256, 32, 3),
)  # batch, channels, size, kernel


def measured_peak(threads: int) -> dict:
    """The best GFLOP/s of a few compute-bound convolutions (oneDNN, the library the conv layers
    use; MKL's sgemm runs a slower path on AMD CPUs), fp32 and bf16, each the best of 5 runs."""
    import torch
    import torch.nn.functional as F

    out = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        best = 0.0
        for b, c, hw, k in PEAK_SHAPES:
            x, w = torch.randn(b, c, hw, hw, dtype=dtype), torch.randn(c, c, k, k, dtype=dtype)
            with torch.no_grad():
                F.conv2d(x, w, padding=k // 2)
                run = lambda x=x, w=w, p=k // 2: F.conv2d(x, w, padding=p)  # noqa: E731
                sec = min(_timed(run) for _ in range(5))
            best = max(best, 2 * b * c * c * k * k * hw * hw / sec / 1e9)
        out[f"{name}_gflops"] = round(best, 1)
    out["threads"] = threads
    out["measure"] = f"best of conv2d shapes (batch, channels, size, kernel) {list(PEAK_SHAPES)}"
    return out


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_mode(cfg, mode: str, batch: int, steps: int, hard_layers) -> dict:
    """ms per step and per scoring pass of ``steps`` training steps (after 2 warm-up steps)."""
    import torch

    from ff_neuro.ff.model import RateModel
    from ff_neuro.ff.precision import Precision

    cfg = cfg.replace(
        train={"batch_size": batch, "precision": "fp32"}, goodness={"hard_layers": hard_layers}
    )
    torch.manual_seed(0)
    model = RateModel(cfg)
    prec, cl = MODES[mode]
    model.set_precision(Precision(prec, cl, "benchmark"))
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (batch,), generator=gen)
    neg_time = [0.0]
    inner = model.negatives

    def timed_negatives(*a, **k):
        t0 = time.perf_counter()
        r = inner(*a, **k)
        neg_time[0] += time.perf_counter() - t0
        return r

    model.negatives = timed_negatives
    for _ in range(2):
        model.train_step(x, y, gen)
    neg_time[0] = 0.0
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_step(x, y, gen)
    dt = time.perf_counter() - t0
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0) / steps
    # labelled inputs + layer 0 inside one scoring pass: the most the layer-0 shortcut can save
    with torch.no_grad(), model.autocast():
        t1 = time.perf_counter()
        for _ in range(steps):
            model.net.layers[0](model._fmt(model.labels.all_labels(x)))
        layer0 = (time.perf_counter() - t1) / steps
    ms = 1000 * dt / steps
    flops = step_flops(cfg, batch)
    return {
        "mode": mode,
        "batch": batch,
        "hard_layers": hard_layers,
        "ms_per_step": round(ms, 2),
        "images_per_s": round(batch * steps / dt, 1),
        "negatives_ms_per_step": round(1000 * neg_time[0] / steps, 2),
        "negatives_share": round(neg_time[0] / dt, 3),
        "labels_and_layer0_ms_in_scoring": round(1000 * layer0, 2),
        "minor_page_faults_per_step": round(faults, 1),
        "gflop_per_step": round(flops / 1e9, 3),
        "achieved_gflops": round(flops / (dt / steps) / 1e9, 1),
    }


def throughput(a) -> dict:
    import torch

    from ff_neuro.config import load_config
    from ff_neuro.runtime import cpu_bf16_flags, hardware_description, keep_freed_memory

    if not a.default_malloc:
        keep_freed_memory()
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg = load_config(a.config)
    hard_options = [cfg.goodness.hard_layers]  # the config's, the classifier's layers, the first
    if cfg.goodness.negatives == "hard":  # trained layer alone
        first_trained = min(i for i in cfg.model.loss_layers if cfg.model.layers[i].train)
        for opt in (None, [first_trained]):
            if opt not in hard_options:
                hard_options.append(opt)
    rows = []
    for batch in [int(b) for b in a.batches.split(",")]:
        for mode in a.modes.split(","):
            for hard in hard_options:
                r = time_mode(cfg, mode, batch, a.steps, hard)
                rows.append(r)
                print(
                    f"batch {batch:4d} {mode:>19} hard_layers {str(hard):>6}: "
                    f"{r['images_per_s']:7.1f} img/s {r['ms_per_step']:7.1f} ms/step, negatives "
                    f"{100 * r['negatives_share']:4.1f} %, {r['achieved_gflops']:6.1f} GFLOP/s, "
                    f"{r['minor_page_faults_per_step']:.0f} faults/step",
                    flush=True,
                )
    peak = measured_peak(torch.get_num_threads())
    base = {
        (r["batch"], str(r["hard_layers"])): r["images_per_s"] for r in rows if r["mode"] == "fp32"
    }
    for r in rows:
        ref = base.get((r["batch"], str(r["hard_layers"])))
        r["speedup_vs_fp32_same_batch"] = round(r["images_per_s"] / ref, 2) if ref else None
        key = "bf16_gflops" if r["mode"].startswith("bf16") else "fp32_gflops"
        r["share_of_measured_peak"] = round(r["achieved_gflops"] / peak[key], 3)
    return {
        "benchmark": "train_throughput",
        "config": a.config,
        "steps": a.steps,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "hardware": hardware_description(torch.device("cpu")),
        "bf16_flags": cpu_bf16_flags(),
        "torch": torch.__version__,
        "keep_freed_memory": not a.default_malloc,
        "peak": peak,
        "conv_macs_per_image": conv_macs(cfg),
        "results": rows,
    }


def memory_measure(config: str, variant: str, steps: int, batch: int, device: str) -> dict:
    import torch

    from ff_neuro.config import load_config
    from ff_neuro.ff.model import RateModel
    from ff_neuro.runtime import hardware_description, resolve_device

    dev = resolve_device(device)
    cfg = load_config(config).replace(
        train={**MEMORY_VARIANTS[variant], "batch_size": batch, "precision": "fp32"}
    )
    torch.manual_seed(0)
    model = RateModel(cfg, device=dev)
    x = torch.rand(batch, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)
    gen = torch.Generator().manual_seed(0)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model.train_step(x, y, gen)  # warm-up (allocator, kernels, optimizer state)
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_step(x, y, gen)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated()
        kind = "cuda max_memory_allocated"
    else:
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) * 1024
        kind = "peak RSS (ru_maxrss) above the baseline with model and batch built"
    return {
        "method": variant,
        "images_per_s": steps * batch / dt,
        "ms_per_step": 1000 * dt / steps,
        "peak_memory_bytes": peak,
        "memory_measure": kind,
        "device": str(dev),
        "hardware": hardware_description(dev),
    }


def memory(a) -> dict:
    results = []
    for method in MEMORY_VARIANTS:
        cmd = [sys.executable, __file__, "--config", a.config, "--steps", str(a.steps)]
        cmd += ["--batches", a.batches.split(",")[0], "--device", a.device, "--child", method]
        res = subprocess.run(cmd, check=True, capture_output=True, text=True)
        results.append(json.loads(res.stdout))
    ff, ff_seq, bp = results
    for r in results:
        print(
            f"{r['method']:>13}: {r['images_per_s']:8.1f} images/s  peak "
            f"{r['peak_memory_bytes'] / 2**20:8.1f} MiB ({r['memory_measure']})"
        )
    return {
        "benchmark": "train_memory",
        "config": a.config,
        "date": time.strftime("%Y-%m-%d"),
        "results": results,
        "ff_over_bp_memory": ff["peak_memory_bytes"] / bp["peak_memory_bytes"],
        "ff_sequential_over_bp_memory": ff_seq["peak_memory_bytes"] / bp["peak_memory_bytes"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--config", default="mnist-quick")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batches", default="50,100,200", help="comma-separated batch sizes")
    ap.add_argument("--modes", default=",".join(MODES), help=f"comma-separated of {list(MODES)}")
    ap.add_argument(
        "--default-malloc", action="store_true", help="without runtime.keep_freed_memory()"
    )
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    ap.add_argument("--device", default="cpu", help="--memory only: cpu | cuda")
    ap.add_argument("--memory", action="store_true", help="FF vs backprop peak memory instead")
    ap.add_argument("--out", default="benchmarks/results/train_throughput.json")
    ap.add_argument("--child", choices=list(MEMORY_VARIANTS), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        batch = int(a.batches.split(",")[0])
        print(json.dumps(memory_measure(a.config, a.child, a.steps, batch, a.device)))
        return
    bad = [m for m in a.modes.split(",") if m not in MODES]
    if bad:
        sys.exit(f"train_throughput: error: unknown mode(s) {bad}; valid: {list(MODES)}")
    report = memory(a) if a.memory else throughput(a)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        Path(a.out + ".tmp").unlink()
    Path(a.out + ".tmp").write_text(json.dumps(report, indent=2) + "\n")
    Path(a.out + ".tmp").replace(a.out)
    print(f"-> {a.out}")


if __name__ == "__main__":
    main()
