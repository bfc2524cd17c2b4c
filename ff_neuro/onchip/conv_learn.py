"""``learn_network``: train every trained conv layer of a run by the on-chip rule, measure goodness
before and after per layer, check Lava against the reference, cost per window (docs/onchip.md).

Metrics (``learn_metrics.json``): per plastic layer its bit-identity with the reference at every
snapshot (Lava), goodness before / after and the curve, the rate-coded network's (``--rate``: same
init, θ, α, learning rate, schedule; counts replaced by T·rates, float64); the network's goodness
(the run's goodness layers); the frozen layers' spike statistics in Lava against the reference
(layer 0 runs inside the graph); energy and latency per learning window from the profiles.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from . import conv_reference as cref
from .conv_experiment import NetSetup, chunks, sample_inputs, setup_network
from .conv_scoring import NetTestSet
from .experiment import CURVE_FILE, METRICS_FILE, LearnConfig
from .experiment import marks as curve_marks


def _initial(s: NetSetup, kind: str) -> list[np.ndarray]:
    if kind != "rate" or s.kind != "fixed":
        return [k.copy() for k in s.k0]
    return [
        k.astype(np.float64) / (pl.params.vth * 2**pl.params.frac_bits)
        for k, pl in zip(s.k0, s.net.plastic)
    ]


def weight_stats(s: NetSetup, kmats, kind: str) -> list[dict]:
    """Per plastic kernel, in threshold units (the integer weight / (vth·2^f) in fixed point): mean,
    mean |w| and standard deviation; in fixed point also the fraction of weights at the clip."""
    out = []
    for k, pl in zip(kmats, s.net.plastic):
        p, fixed = pl.params, kind == "fixed"
        w = np.asarray(k, np.float64) / (p.vth * 2**p.frac_bits if fixed else 1.0)
        out.append(
            {
                "mean": float(w.mean()),
                "abs_mean": float(np.abs(w).mean()),
                "std": float(w.std()),
                "at_clip": float((np.abs(k) >= p.state_max).mean()) if fixed else None,
            }
        )
    return out


def _point(samples: int, s: NetSetup, acc: dict, kmats=None, kind: str = "") -> dict:
    stats = {} if kmats is None else {"weights": weight_stats(s, kmats, kind)}
    windows = samples * s.sched.per_sample
    k = s.net.plastic[0].params.at(max(0, windows - 1)).lr_shift  # the last update's rate 2^-k
    return {"samples": samples, "windows": windows, "lr_shift": k, **acc, **stats}


def train_reference(s: NetSetup, cfg: LearnConfig, kind: str, test: NetTestSet, bar=None):
    """Reference training over all samples; returns (kernels, curve, training seconds)."""
    ks, curve, n = _initial(s, kind), [], len(s.labels)
    todo = curve_marks(n, cfg.points, cfg.batch)
    scoring = [0.0]

    def on_sample(done, km):
        if bar is not None:
            bar.update(done - bar.n)
        if todo and done >= todo[0]:
            t0 = time.perf_counter()
            curve.append(_point(done, s, test.accuracy(km), km, kind))
            todo.pop(0)
            scoring[0] += time.perf_counter() - t0

    net = s.rate_net if kind == "rate" else s.net
    t0 = time.perf_counter()
    cref.train(net, ks, chunks(s, kind, cfg.chunk), s.sched, kind, cfg.batch, on_sample)
    return ks, curve, time.perf_counter() - t0 - scoring[0]


def write_inputs(s: NetSetup, path: Path, chunk: int) -> None:
    """The Lava source's file: (samples, slots, X, Y, C) encoded inputs (int16 or float64)."""
    n = len(s.labels)
    first = sample_inputs(s, s.kind, 0, min(n, chunk))
    shape = (n, first.shape[1], *reversed(first.shape[2:]))  # (C, H, W) → (X, Y, C)
    dtype = np.int16 if s.kind == "fixed" else np.float64
    out = np.lib.format.open_memmap(path, "w+", dtype, shape)
    for start in range(0, n, chunk):
        x = first if start == 0 else sample_inputs(s, s.kind, start, min(n, start + chunk))
        out[start : start + len(x)] = x.permute(0, 1, 4, 3, 2).numpy().astype(dtype)
    out.flush()
    del out


def train_lava(s: NetSetup, cfg: LearnConfig, test: NetTestSet, bar=None):
    """Lava training of all plastic layers; the sequential reference runs the same windows.
    Returns (kernels, curve, info)."""
    from .conv_lava import run_network_learning

    n, per = len(s.labels), s.sched.per_sample
    every = per * max(1, n // cfg.points)
    with tempfile.TemporaryDirectory(prefix="ff_neuro_convlearn_") as tmp:
        path = Path(tmp) / "inputs.npy"
        write_inputs(s, path, cfg.chunk)
        res = run_network_learning(
            s.net,
            [k.copy() for k in s.k0],
            path,
            s.sched,
            every,
            on_chunk=(lambda d, t: bar.update(round(d / t * n) - bar.n))
            if bar is not None
            else None,
        )
    ks, snaps = [k.copy() for k in s.k0], []
    trace = cref.Trace(np.zeros((s.sched.windows, s.net.depth, 2)))

    def keep(done, km):
        if done * per in res.marks:
            snaps.append([k.copy() for k in km])

    t0 = time.perf_counter()
    cref.train(s.net, ks, chunks(s, s.kind, cfg.chunk), s.sched, s.kind, 1, keep, trace)
    ref_s = time.perf_counter() - t0
    nf = len(s.net.frozen)
    layers = []
    for i in range(len(s.net.plastic)):
        same = [bool(np.array_equal(a, b[i])) for a, b in zip(res.snapshots[i], snaps)]
        diff = max(float(np.abs(a - b[i]).max()) for a, b in zip(res.snapshots[i], snaps))
        g_ok = bool(np.array_equal(res.records[i][:, 0], trace.stats[:, nf + i, 1]))
        layers.append(
            {
                "weights_bit_identical": all(same) if s.kind == "fixed" else None,
                "snapshots_identical": same,
                "weights_max_abs_diff": diff,
                "goodness_records_identical": g_ok,
                "third_factor_sign_ok": bool(np.all(res.records[i][:, 1] * s.sched.signs >= 0)),
            }
        )
    snap = [[sn[j].astype(s.k0[0].dtype) for sn in res.snapshots] for j in range(len(res.marks))]
    curve = [_point(m // per, s, test.accuracy(km), km, s.kind) for m, km in zip(res.marks, snap)]
    info = {
        "snapshot_windows": res.marks,
        "frozen_layers_stats_identical": bool(
            np.array_equal(res.stats[:, :nf], trace.stats[:, :nf])
        ),
        "all_layers_stats_identical": bool(np.array_equal(res.stats, trace.stats)),
        "ms_per_step": res.ms_per_step,
        "ms_per_window": res.ms_per_step * s.net.timesteps,
        "lava_steps": res.steps,
        "lava_run_seconds": round(res.run_seconds, 2),
        "lava_build_seconds": round(res.build_seconds, 2),
        "reference_seconds": round(ref_s, 2),
    }
    return [sn[-1].astype(s.k0[0].dtype) for sn in res.snapshots], curve, info, layers


def window_cost(s: NetSetup, kmats, profile: str, samples: int = 50) -> dict:
    """Per learning window (mean over the first ``samples`` samples' positive and negative windows,
    final kernels): synaptic ops, spikes, neuron updates of the whole network; the learning work of
    each plastic layer (the correlation's non-zero multiply-accumulates); energy and latency from the
    profiles. A window of a hard-negative schedule costs the same; a sample costs per_sample windows."""
    from ..hardware.cost import activity, energy_latency, estimate_resources
    from ..hardware.profiles import load_profile
    from . import conv_rule, rule

    x = sample_inputs(s, s.kind, 0, min(samples, len(s.labels)))
    if s.sched.hard:
        n = len(x)
        x = torch.stack([x[torch.arange(n), torch.as_tensor(s.labels[:n])], x[:, 0]], 1)
    x = x[:, :2].flatten(0, 1)
    cs = cref.counts(s.net, kmats, x, s.kind)
    layers = cref._layers(s.net, kmats, s.kind == "fixed")
    T = s.net.timesteps
    act = activity(
        layers, x.unsqueeze(1).expand(-1, T, *x.shape[1:]).numpy(), [c.numpy() for c in cs]
    )
    nf, macs = len(s.net.frozen), []
    for i, pl in enumerate(s.net.plastic):
        post = rule.post_of(cref.to_whc(cs[nf + i]), pl.params).reshape(
            len(x), pl.geometry.positions, -1
        )
        pre = conv_rule.patches(cref.to_whc(cs[nf + i - 1]), pl.geometry)
        macs.append(float(((post != 0).sum(2) * (pre != 0).sum(2)).sum()) / len(x))
    act = {**act, "learning_macs_per_window": macs}
    out = {"per_window": act, "timesteps_per_window": T}
    for name in dict.fromkeys([profile, "loihi"]):
        prof = load_profile(name)
        res = estimate_resources(layers, prof)
        inf = energy_latency(act, prof, T, res.cores_used)
        learn_j = None if prof.energy_per_synop_j is None else sum(macs) * prof.energy_per_synop_j
        out[name] = {
            "cores_used": res.cores_used,
            "fits": res.fits,
            "inference_energy_per_window_j": inf["energy_per_inference_j"],
            "energy_terms_missing": inf["energy_terms_missing"],
            "learning_energy_per_window_j": learn_j,
            "learning_energy_assumption": "one correlation multiply-accumulate = one synaptic op "
            "(no profile publishes a learning-engine or embedded-CPU energy)",
            "latency_per_window_s": inf["latency_per_inference_s"],
            "latency_model": inf["latency_model"],
            "learning_latency_per_window_s": None,
            "learning_latency_note": "not published: the kernel update runs on the embedded CPU or "
            "as microcode (docs/onchip.md); no profile gives its speed",
        }
    return out


def _bar(total: int, desc: str, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="sample", smoothing=0.05)


def learn_network(
    run_dir,
    cfg: LearnConfig,
    dataset=None,
    progress: bool = True,
    metrics_path: str | Path | None = None,
    write: bool = True,
) -> dict:
    """Train every trained conv layer of the run on the chip's rule (``cfg.backend``), score,
    compare and write the metrics, the curve and the kernels. Returns the metrics dict."""
    from ..io import atomic_write_json
    from ..runtime import hardware_description

    t_start = time.perf_counter()
    run_dir = Path(run_dir)
    s = setup_network(run_dir, cfg, dataset)
    n = len(s.labels)
    test = NetTestSet(s, cfg.test_samples, s.kind, split=cfg.split)
    before = test.accuracy(s.k0)
    bar = _bar(n, "Lava" if cfg.backend == "lava" else "reference", progress)
    if cfg.backend == "lava":
        ks, curve, info, checks = train_lava(s, cfg, test, bar)
    else:
        ks, curve, secs = train_reference(s, cfg, s.kind, test, bar)
        info = {
            "reference_seconds": round(secs, 2),
            "ms_per_window": 1000.0 * secs / s.sched.windows,
        }
        checks = [{"weights_bit_identical": None} for _ in s.net.plastic]
    if bar is not None:
        bar.close()
    rate = None
    if cfg.rate:
        rtest = NetTestSet(s, cfg.test_samples, "rate", split=cfg.split)
        rcfg = cfg._replace(batch=cfg.batch if cfg.backend == "reference" else 1)
        r0 = _initial(s, "rate")
        r_before = {**rtest.accuracy(r0), "weights": weight_stats(s, r0, "rate")}
        _, rcurve, rsecs = train_reference(s, rcfg, "rate", rtest, _bar(n, "rate-coded", progress))
        rate = {
            "before": r_before,
            "curve": rcurve,
            "seconds": round(rsecs, 2),
            "batch": rcfg.batch,
        }
    full_curve = [_point(0, s, before, s.k0, s.kind)] + curve
    layers = []
    for i, (pl, li) in enumerate(zip(s.net.plastic, s.plastic_layers)):
        g = pl.geometry
        entry = {
            "layer": li,
            "neurons": g.neurons,
            "out_channels": g.out_channels,
            "kernel": list(g.kernel),
            "stride": g.stride,
            "fan_in": g.fan_in,
            "vth": pl.params.vth,
            "theta": pl.params.theta,
            **checks[i],
            "test_acc_goodness_before": before["layers"][i],
            "test_acc_goodness_after": curve[-1]["layers"][i],
            "curve": [_layer_point(c, i) for c in full_curve],
        }
        if rate:
            entry["rate_coded"] = {
                "test_acc_goodness_before": rate["before"]["layers"][i],
                "test_acc_goodness_after": rate["curve"][-1]["layers"][i],
                "curve": [
                    _layer_point(c, i) for c in [_point(0, s, rate["before"])] + rate["curve"]
                ],
            }
        layers.append(entry)
    bit = [c["weights_bit_identical"] for c in checks]
    metrics = {
        "mode": "network",
        "backend": cfg.backend,
        "profile": cfg.profile,
        "fixed_point": s.kind == "fixed",
        "objective": cfg.objective,
        "negatives": cfg.negatives,
        "hard_alpha": cfg.hard_alpha if cfg.negatives == "hard" else None,
        "frozen_layers": list(range(len(s.net.frozen))),
        "plastic_layers": s.plastic_layers,
        "network_layers": [s.plastic_layers[i] for i in test.network_layers],
        "samples": n,
        "windows": s.sched.windows,
        "windows_per_sample": s.sched.per_sample,
        "batch": cfg.batch if cfg.backend == "reference" else 1,
        "timesteps": s.net.timesteps,
        "test_samples": len(test.y),
        "split": cfg.split,
        "hidden": sum(pl.geometry.neurons for pl in s.net.plastic),
        "layer": s.plastic_layers[0],
        "weights_bit_identical": None if bit[0] is None else all(bit),
        "test_acc_goodness_before": before["network"],
        "test_acc_goodness_after": curve[-1]["network"],
        "curve": [
            {"windows": c["windows"], "lr_shift": c["lr_shift"], "test_acc_goodness": c["network"]}
            for c in full_curve
        ],
        "lr_steps_samples": list(cfg.lr_steps),
        "layers": layers,
        **info,
        "cost": window_cost(s, ks, cfg.profile),
        "rate_coded": None
        if not rate
        else {
            "test_acc_goodness_before": rate["before"]["network"],
            "test_acc_goodness_after": rate["curve"][-1]["network"],
            "curve": [
                {"windows": c["windows"], "test_acc_goodness": c["network"]} for c in rate["curve"]
            ],
            "seconds": rate["seconds"],
            "batch": rate["batch"],
            "what": "same layers, init, θ, α, learning rate and schedule; counts replaced by T·rates "
            "of the rate model (exact SGD on each layer's FF loss), float64",
        },
        "torch_rate_model": _torch_model(run_dir),
        "rules": [pl.params._asdict() for pl in s.net.plastic],
        "config": cfg._asdict(),
        "wall_seconds": round(time.perf_counter() - t_start, 2),
        "torch_threads": torch.get_num_threads(),
        "hardware": hardware_description(torch.device("cpu")),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if write:
        path = Path(metrics_path) if metrics_path else run_dir / METRICS_FILE
        atomic_write_json(path, metrics)
        np.savez_compressed(
            path.with_name(path.stem + "_weights.npz"),
            **{f"layer{li}": k for li, k in zip(s.plastic_layers, ks)},
            **{f"layer{li}_init": k for li, k in zip(s.plastic_layers, s.k0)},
        )
        from .plot import plot_network_curves

        plot_network_curves(
            metrics, path.with_suffix(".png") if metrics_path else run_dir / CURVE_FILE
        )
    return metrics


def _layer_point(c: dict, i: int) -> dict:
    """Layer i's entry of a curve point: accuracy, and its activity and weight statistics."""
    out = {"windows": c["windows"], "test_acc_goodness": c["layers"][i]}
    if c.get("activity"):
        out["activity"] = c["activity"][i]
    if c.get("weights"):
        out["weights"] = c["weights"][i]
    return out


def _torch_model(run_dir: Path) -> dict | None:
    import json

    f = run_dir / "metrics.json"
    if not f.is_file():
        return None
    m = json.loads(f.read_text())
    return {
        "test_acc_goodness": m.get("test_acc_goodness"),
        "test_acc_linear": m.get("test_acc_linear"),
        "what": "the run's own torch-trained rate model (all its layers)",
    }
