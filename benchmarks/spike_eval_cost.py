"""Cost of spiking evaluation against T × the rate model's forward pass (issue 3's ≤ 1.5 budget).

For a config's FF-CNN (random weights: dense conv cost does not depend on the weights) both
models classify the same batch with the linear head on the neutral-label input:
  rate:    head(features(FFNet(x')))                       one forward pass
  spiking: head(rms_norm(counts/T)) of the static LIF net  T steps, conv batched over T·B
ratio = t_spiking / (T · t_rate), with t the process CPU time (time.process_time: robust to other
jobs on a shared machine; wall times are recorded too); the median of ``--repeats`` runs.

    python benchmarks/spike_eval_cost.py --config mnist-quick --timesteps 8,16,32 --batch 100 --threads 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path

import torch

from ff_neuro.config import load_config
from ff_neuro.data.labels import FourierLabels
from ff_neuro.ff.classify import LinearHead
from ff_neuro.ff.network import FFNet
from ff_neuro.io import atomic_write_json
from ff_neuro.runtime import hardware_description, resolve_device
from ff_neuro.spiking import SpikingNetwork, convert


def timed(fn, repeats: int, device: torch.device) -> tuple[float, float]:
    """(median CPU seconds, median wall seconds) of ``fn``; on CUDA both are wall times."""
    fn()  # warm-up
    cpu, wall = [], []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        wall.append(time.perf_counter() - t0)
        cpu.append(wall[-1] if device.type == "cuda" else time.process_time() - c0)
    return statistics.median(cpu), statistics.median(wall)


@torch.no_grad()
def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="mnist-quick")
    p.add_argument("--timesteps", default="8,16,32")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "spike_eval_cost.json"))
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = resolve_device(a.device)
    cfg = load_config(a.config)
    net = FFNet(cfg.model).to(dev).eval()
    head = LinearHead(net.readout_dim).to(dev)
    labels = FourierLabels((28, 28), 10, cfg.labels.set, cfg.labels.K, dev)
    x = torch.rand(a.batch, 1, 28, 28, device=dev)
    t_rate, w_rate = timed(
        lambda: head(net.features(net(labels.neutral(x)))).argmax(1), a.repeats, dev
    )
    rows = []
    for T in [int(t) for t in a.timesteps.split(",")]:
        n = min(20, a.batch)
        spec = convert(
            net,
            head,
            labels,
            cfg,
            "rate",
            x[:n],
            torch.zeros(n, dtype=torch.long, device=dev),
            T,
            "current",
            "static",
        )
        sn = SpikingNetwork(spec, dev)
        t_spk, w_spk = timed(lambda sn=sn: sn.predict_linear(x), a.repeats, dev)
        rows.append(
            {
                "timesteps": T,
                "seconds_spiking": round(t_spk, 4),
                "wall_seconds_spiking": round(w_spk, 4),
                "ratio_to_T_rate": round(t_spk / (T * t_rate), 3),
            }
        )
        print(
            f"T={T:3d}: spiking {t_spk:.3f} s, T x rate {T * t_rate:.3f} s, ratio {rows[-1]['ratio_to_T_rate']}"
        )
    out = {
        "config": a.config,
        "batch": a.batch,
        "device": str(dev),
        "threads": a.threads,
        "hardware": hardware_description(dev),
        "seconds_rate_forward": round(t_rate, 5),
        "wall_seconds_rate_forward": round(w_rate, 5),
        "timer": "process CPU time",
        "results": rows,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "note": "measured on a shared machine while other jobs ran (CPU contention)",
        "command": "python benchmarks/spike_eval_cost.py "
        + " ".join(argv or __import__("sys").argv[1:]),
    }
    atomic_write_json(Path(a.out), out)
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
