"""Lava deployment benchmark: agreement, fixed-point accuracy, speed; and the cost of QAT.

    .venv/bin/python benchmarks/lava_deploy.py deploy --run runs/quick            # → results/lava_deploy.json
    .venv/bin/python benchmarks/lava_deploy.py qat --epochs 3 --train-subset 3000  # → results/lava_qat.json

``deploy``: (1) float Lava vs snnTorch on --samples test images (per-neuron spike counts, wall time,
Lava ms/step); (2) fixed-point Lava vs the integer emulation on --fixed-samples images; (3) float
snnTorch vs fixed-point emulation accuracy on --emulation-samples test images (default: all 10,000).
``qat``: trains the tiny FF-CNN twice (plain, and with --profile) on a seeded MNIST subset, and
reports rate accuracy and fixed-point emulation accuracy of both.
Timings depend on other jobs on the machine: the JSON records the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def env() -> dict:
    from ff_neuro.runtime import hardware_description

    return {
        "hardware": hardware_description(torch.device("cpu")),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "loadavg": os.getloadavg(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([".venv/bin/python", *sys.argv]),
    }


def deploy(args) -> dict:
    from ff_neuro.ff import open_run
    from ff_neuro.hardware.evaluate import fixed_point_accuracy
    from ff_neuro.lava.deploy import deploy_run
    from ff_neuro.spiking import run_spec

    run = open_run(args.run)
    data = run.dataset
    spec = run_spec(run, args.timesteps)[0]
    out = {"run": str(args.run), "env_start": env()}
    t0 = time.perf_counter()
    out["float"] = deploy_run(
        args.run, args.profile, args.samples, False, args.timesteps, False, data, True, spec
    )
    out["float"]["total_seconds"] = round(time.perf_counter() - t0, 2)
    out["fixed"] = deploy_run(
        args.run,
        args.fixed_profile,
        args.fixed_samples,
        True,
        args.timesteps,
        False,
        data,
        False,
        spec,
    )
    if args.emulation_samples:
        x, y = run.test_tensors(args.emulation_samples)
        out["fixed_accuracy"] = fixed_point_accuracy(spec, x, y, args.fixed_profile)
    out["env_end"] = env()
    return out


def qat(args) -> dict:
    sys.path.insert(0, str(ROOT))
    from ff_neuro.data import Dataset, load_dataset
    from ff_neuro.hardware.evaluate import fixed_point_accuracy
    from ff_neuro.pipeline import open_run, train
    from ff_neuro.spiking import run_spec
    from tests.conftest import tiny_config

    m = load_dataset("mnist")
    ds = Dataset(
        "mnist", m.train.subset(args.train_subset, 1), m.val.subset(1000, 2), m.test, m.class_names
    )
    res = {"env_start": env(), "runs": {}}
    for name, profile in (("plain", None), ("qat", args.profile)):
        cfg = tiny_config(epochs=args.epochs).replace(hardware={"profile": profile})
        out = Path(args.out_dir) / name
        metrics = train(cfg, out, device="cpu", dataset=ds, progress=False)
        run = open_run(out, dataset=ds)
        spec = run_spec(run, args.timesteps)[0]
        x, y = run.test_tensors(args.emulation_samples)
        res["runs"][name] = {
            "profile": profile,
            "rate_test_acc_linear": metrics["test_acc_linear"],
            "rate_test_acc_goodness": metrics["test_acc_goodness"],
            "train_seconds": metrics["train_seconds"],
            "emulation": fixed_point_accuracy(spec, x, y, args.profile),
        }
    res["env_end"] = env()
    return res


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("deploy")
    d.add_argument("--run", default="runs/quick")
    d.add_argument("--profile", default="loihi")
    d.add_argument("--fixed-profile", default="loihi2")
    d.add_argument("--samples", type=int, default=100)
    d.add_argument("--fixed-samples", type=int, default=20)
    d.add_argument("--emulation-samples", type=int, default=10_000)
    d.add_argument("--timesteps", type=int, default=None)
    d.add_argument("--threads", type=int, default=2)
    d.add_argument("--out", default=str(RESULTS / "lava_deploy.json"))
    q = sub.add_parser("qat")
    q.add_argument("--profile", default="loihi2")
    q.add_argument("--epochs", type=int, default=3)
    q.add_argument("--train-subset", type=int, default=3000)
    q.add_argument("--emulation-samples", type=int, default=2000)
    q.add_argument("--timesteps", type=int, default=None)
    q.add_argument("--threads", type=int, default=2)
    q.add_argument("--out-dir", default="/tmp/ff_neuro_qat_bench")
    q.add_argument("--out", default=str(RESULTS / "lava_qat.json"))
    args = p.parse_args()
    os.environ.setdefault("FF_NEURO_NO_MIRRORS", "1")
    torch.set_num_threads(args.threads)
    result = deploy(args) if args.cmd == "deploy" else qat(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    print(
        json.dumps(
            {k: v for k, v in result.items() if k not in ("env_start", "env_end")},
            indent=1,
            default=str,
        )[:4000]
    )


if __name__ == "__main__":
    main()
