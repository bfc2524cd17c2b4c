"""Lava ms per step of a trained run: Lava's reference models vs the fast models, by process, and the floor.

    .venv/bin/python benchmarks/lava_step.py --run runs/quick-lava            # → results/lava_step.json
    .venv/bin/python benchmarks/lava_step.py --run runs/quick-lava --float --agreement-samples 20

One call measures, on the same graph (the deploy graph of ``ff_neuro.lava.graph``: source, Conv + LIFReset +
WindowCounter per layer; float adds the Dense readouts):

1. ``side_by_side``: ``--agreement-samples`` test images through Lava's reference models and through the
   fast models, untimed models; wall ms per step of each and the per-neuron spike-count agreement.
2. ``breakdown``: ``--samples`` images with every ProcessModel timed (``ff_neuro.lava.fast.profile``):
   per process kind (conv, lif, counter, source, dense) the CPU ms per step spent computing and in the
   ports (message passing), for reference, fast and ``floor`` (the same graph, every model replaced by one
   that only receives its inputs and sends zeros: the framework's own cost).
Timings depend on other jobs: the JSON records the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
KINDS = {
    "Conv": "conv",
    "LIFReset": "lif",
    "WindowCounter": "counter",
    "RingBuffer": "source",
    "Dense": "dense",
}


def env() -> dict:
    import torch

    from ff_neuro.runtime import hardware_description

    return {
        "hardware": hardware_description(torch.device("cpu")),
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([".venv/bin/python", *sys.argv]),
    }


def model_maps(fixed: bool) -> dict[str, dict]:
    """{backend: {Process class: ProcessModel}} for the reference and fast models of every process in the graph."""
    from lava.proc.conv import models as conv
    from lava.proc.conv.process import Conv
    from lava.proc.dense import models as dense
    from lava.proc.dense.process import Dense
    from lava.proc.io import source
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif import models as lif
    from lava.proc.lif.process import LIFReset

    from ff_neuro.lava.fast import FAST_MODELS  # first: the Python 3.11 fix for lava
    from ff_neuro.lava.procs import counter
    from ff_neuro.lava.procs.counter import WindowCounter

    tag = "fixed_pt" if fixed else "floating_pt"
    ref = {
        Conv: conv.PyConvModelFixed if fixed else conv.PyConvModelFloat,
        LIFReset: lif.PyLifResetModelBitAcc if fixed else lif.PyLifResetModelFloat,
        WindowCounter: counter.PyWindowCounterFixed if fixed else counter.PyWindowCounterFloat,
        RingBuffer: source.PySendModelFixed if fixed else source.PySendModelFloat,
        Dense: dense.PyDenseModelBitAcc if fixed else dense.PyDenseModelFloat,
    }
    return {"reference": ref, "fast": {**ref, **FAST_MODELS[tag]}}


def timed_run(net, inputs, models: dict, floor: bool = False) -> dict:
    """One run with every model timed (or floored and timed): wall ms/step, the CPU ms/step of all Lava
    processes together (models and runtime service) over the last three quarters of the run, and per kind
    of process the CPU ms/step of its compute, its ports and its whole process."""
    from ff_neuro.lava import run_lava
    from ff_neuro.lava.fast import profile

    marks = []

    def mark(done, total):
        marks.append((done, time.perf_counter(), profile.children_cpu_seconds()))

    with tempfile.TemporaryDirectory(prefix="ff_lava_step_") as d:
        mapped = {}
        for proc, model in models.items():
            kind = KINDS[proc.__name__]
            base = profile.floor(model, delayed=kind in ("conv", "dense")) if floor else model
            mapped[proc] = profile.timed(base, d, kind)
        steps = len(inputs) * net.timesteps + len(net.layers) + 1
        res = run_lava(
            net,
            inputs,
            record_counts=False,
            readout=not net.fixed_point,
            backend="reference",
            extra_models=mapped,
            chunk_steps=-(-steps // 4),
            on_chunk=mark,
        )
        kinds = profile.read_timings(d)
    (d0, t0, c0), (d1, t1, c1) = marks[0], marks[-1]
    total = {
        k: round(sum(v[k] for v in kinds.values()), 4)
        for k in ("compute_cpu_ms_per_step", "port_cpu_ms_per_step", "process_cpu_ms_per_step")
    }
    return {
        "wall_ms_per_step": round(res.ms_per_step, 3),
        "steps": res.steps,
        "wall_ms_per_step_last_3_quarters": round(1000 * (t1 - t0) / (d1 - d0), 3),
        "all_processes_cpu_ms_per_step": None
        if c0 is None
        else round(1000 * (c1 - c0) / (d1 - d0), 3),
        "by_kind": kinds,
        "models_total": total,
    }


def side_by_side(net, inputs) -> dict:
    from ff_neuro.lava import run_lava
    from ff_neuro.lava.tally import agreeing_pairs, identical_samples

    out, counts = {}, {}
    for backend in ("reference", "fast"):
        t0 = time.perf_counter()
        res = run_lava(net, inputs, backend=backend, readout=not net.fixed_point)
        counts[backend] = res.counts
        out[backend] = {
            "ms_per_step": round(res.ms_per_step, 3),
            "steps": res.steps,
            "startup_seconds": round(res.build_seconds, 2),
            "wall_seconds": round(time.perf_counter() - t0, 2),
        }
    same, pairs = agreeing_pairs(counts["fast"], counts["reference"])
    out["speedup"] = round(out["reference"]["ms_per_step"] / out["fast"]["ms_per_step"], 2)
    out["agreement"] = {
        "samples": len(inputs),
        "spike_count_agreement": same / pairs,
        "identical_samples": identical_samples(counts["fast"], counts["reference"]),
        "spikes": int(sum(c.sum() for c in counts["reference"])),
    }
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--run", required=True, help="trained run directory")
    p.add_argument("--profile", default="loihi2")
    p.add_argument(
        "--float",
        action="store_true",
        help="floating-point models (exact grid) instead of fixed point",
    )
    p.add_argument("--timesteps", type=int, default=None)
    p.add_argument("--samples", type=int, default=10, help="images of each timed breakdown run")
    p.add_argument(
        "--agreement-samples",
        type=int,
        default=100,
        help="images of the side-by-side run (0: skip)",
    )
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lava_step.json"))
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from ff_neuro.ff import open_run
    from ff_neuro.lava.deploy import lava_net, spec_inputs
    from ff_neuro.spiking import run_spec
    from ff_neuro.spiking.network import labels_for

    fixed = not args.float
    run = open_run(args.run)
    spec = run_spec(run, args.timesteps)[0]
    n = max(args.samples, args.agreement_samples)
    x, _ = run.test_tensors(n)
    spec, net, inputs = lava_net(
        spec, args.profile, fixed, spec_inputs(spec, labels_for(spec).neutral(x)), True
    )
    out = {
        "run": args.run,
        "profile": args.profile,
        "fixed_point": fixed,
        "timesteps": net.timesteps,
        "layers": [
            {
                "in": list(layer.in_shape),
                "out": list(layer.out_shape),
                "kernel": list(np.shape(layer.weight)),
            }
            for layer in net.layers
        ],
        "env_start": env(),
    }
    if args.agreement_samples:
        out["side_by_side"] = side_by_side(net, inputs[: args.agreement_samples])
    maps = model_maps(fixed)
    out["breakdown"] = {
        "samples": args.samples,
        "reference": timed_run(net, inputs[: args.samples], maps["reference"]),
        "fast": timed_run(net, inputs[: args.samples], maps["fast"]),
        "floor": timed_run(net, inputs[: args.samples], maps["reference"], floor=True),
    }
    out["env_end"] = env()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(json.dumps({k: out[k] for k in ("side_by_side",) if k in out}, indent=1))
    print(
        json.dumps(
            {
                k: {
                    "wall": v["wall_ms_per_step"],
                    "all_cpu": v["all_processes_cpu_ms_per_step"],
                    **v["models_total"],
                }
                for k, v in out["breakdown"].items()
                if isinstance(v, dict)
            },
            indent=1,
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
