"""Why spike-count goodness collapses after conversion: measurements before any fix.

For a trained rate run, on the first ``--samples`` test images:

1. **Rate-domain ablations.** The rate model's goodness accuracy when one spiking distortion at a time
   is put into its forward pass, with a_l = ReLU(z_l) and λ_l the layer's calibration scale:
     * ``saturation``   a ← min(a, λ)                         (at most one spike per step)
     * ``reset_zero``   a ← λ · φ(a/λ), φ(I) = 1/(⌊1/I⌋ + 1)   (IF neuron, reset to zero, constant I, T → ∞)
     * ``static_norm``  rms_norm(x) ← x / ρ, ρ = mean rms over calibration images (one gain per layer)
     * ``all``          the three together (what the static spiking network computes as T → ∞)
2. **Spiking goodness vs T** (exact and static variants): accuracy, agreement of the argmax with the
   rate model, and the histogram of predicted classes (a systematic bias piles predictions up).
3. **The rate–current curve** of every layer in the static network at the largest T: per neuron, the
   mean input current per step vs its firing rate, against φ and the ideal min(I, 1).

    python benchmarks/spike_goodness_diagnosis.py --run runs/quick --samples 500 --timesteps 16,64,256
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np
import torch

from ff_neuro.ff import open_run
from ff_neuro.ff.functional import rms_norm
from ff_neuro.ff.objective import layer_goodness
from ff_neuro.io import atomic_write_json
from ff_neuro.runtime import hardware_description
from ff_neuro.spiking import SpikingNetwork, convert
from ff_neuro.spiking.convert import activation_scales, calibration_inputs
from ff_neuro.spiking.network import torch_layers
from ff_neuro.spiking.simulate import layer_currents, lif_scan


def reset_zero_rate(i: torch.Tensor) -> torch.Tensor:
    """φ(I) = 1/(⌊1/I⌋ + 1) for I > 0 (strict threshold 1, reset to zero, constant current), 0 otherwise."""
    out = torch.zeros_like(i)
    pos = i > 0
    out[pos] = 1.0 / (torch.floor(1.0 / i[pos]) + 1.0)
    return out


@torch.no_grad()
def ablated_scores(net, labels, x, lams, rhos, saturation=False, reset_zero=False, static=False):
    """(N, C) goodness of the rate model with the chosen distortions in its forward pass."""
    h = labels.all_labels(x)
    acts = []
    for i, layer in enumerate(net.layers):
        h = h / rhos[i] if static else rms_norm(h)
        a = torch.relu(layer.conv(h))
        if reset_zero:
            a = lams[i] * reset_zero_rate(a / lams[i])
        elif saturation:
            a = a.clamp(max=lams[i])
        acts.append(a)
        h = a
    score = sum(layer_goodness(acts[i], net.measure) for i in net.cfg.loss_layers)
    return score.view(x.shape[0], labels.num_classes)


def batched(fn, x, batch):
    return torch.cat([fn(x[i : i + batch]) for i in range(0, len(x), batch)])


@torch.no_grad()
def rate_current_curve(spec, x_labelled, bins=40):
    """Per layer: mean current per step vs firing rate of every neuron, binned by current."""
    layers = torch_layers(spec)
    s = x_labelled.unsqueeze(0).expand(spec.timesteps, *x_labelled.shape).float()
    out = []
    for kw in layers:
        cur = layer_currents(s, kw["weight"], kw["bias"], kw["stride"], kw["padding"])
        s = lif_scan(cur, kw["p"])
        i_mean, rate = cur.mean(0).flatten().numpy(), s.mean(0).flatten().numpy()
        keep = i_mean > 0
        edges = np.linspace(0, max(1.5, float(np.percentile(i_mean[keep], 99.9))), bins + 1)
        idx = np.digitize(i_mean[keep], edges) - 1
        centres, rates = [], []
        for b in range(bins):
            m = idx == b
            if m.sum() >= 20:
                centres.append(float((edges[b] + edges[b + 1]) / 2))
                rates.append(float(rate[keep][m].mean()))
        frac_sat = float((i_mean > 1).mean())
        out.append(
            {
                "current": centres,
                "rate": rates,
                "fraction_current_above_1": frac_sat,
                "mean_current": float(i_mean[keep].mean()),
                "rate_over_current": float(rate[keep].sum() / i_mean[keep].sum()),
            }
        )
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True)
    p.add_argument("--samples", type=int, default=500)
    p.add_argument(
        "--spike-samples", type=int, default=200, help="test images for the spiking runs"
    )
    p.add_argument("--timesteps", default="16,64,256")
    p.add_argument("--variants", default="exact,static")
    p.add_argument(
        "--curve-timesteps", type=int, default=64, help="T of the rate-current curve (static)"
    )
    p.add_argument("--calib-samples", type=int, default=200)
    p.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "spike_goodness_diagnosis.json")
    )
    a = p.parse_args(argv)
    t_start = time.perf_counter()
    run = open_run(a.run)
    (net, head, labels), cfg, meta = run.parts, run.cfg, run.meta
    x, y = run.test_tensors(a.samples)
    cx, cy = run.calibration_images(a.calib_samples, 0)
    xl = calibration_inputs(labels, cx, cy)
    lams, _ = activation_scales(net, xl, 99.9)
    rhos, h = [], xl
    with torch.no_grad():
        for layer in net.layers:
            rhos.append(float(h.flatten(1).pow(2).mean(1).sqrt().mean()))
            h = torch.relu(layer.conv(h / rhos[-1]))
    res: dict = {
        "run": str(a.run),
        "samples": int(len(y)),
        "lambda": lams,
        "rho_rate": rhos,
        "ablations": {},
        "spiking": [],
        "hardware": hardware_description(torch.device("cpu")),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    base = batched(lambda xb: ablated_scores(net, labels, xb, lams, rhos), x, 100)
    base_pred = base.argmax(1)
    top2 = base.topk(2, 1).values
    res["rate_margin"] = {
        "median_relative_margin": float(((top2[:, 0] - top2[:, 1]) / top2[:, 0]).median()),
        "p10_relative_margin": float(((top2[:, 0] - top2[:, 1]) / top2[:, 0]).quantile(0.1)),
    }
    for name, kw in {
        "none": {},
        "saturation": {"saturation": True},
        "reset_zero": {"reset_zero": True},
        "static_norm": {"static": True},
        "all": {"reset_zero": True, "static": True},
    }.items():
        pred = batched(
            lambda xb, kw=kw: ablated_scores(net, labels, xb, lams, rhos, **kw), x, 100
        ).argmax(1)
        res["ablations"][name] = {
            "acc_goodness": float((pred == y).float().mean()),
            "same_as_rate": float((pred == base_pred).float().mean()),
            "predicted_per_class": torch.bincount(pred, minlength=10).tolist(),
        }
        print(name, res["ablations"][name], flush=True)
    for T in [int(t) for t in a.timesteps.split(",")]:
        for variant in a.variants.split(","):
            t0 = time.perf_counter()
            spec = convert(
                net, head, labels, cfg, meta.get("kind", "rate"), cx, cy, T, "current", variant
            )
            sn = SpikingNetwork(spec, max_batch_steps=4096)
            n = a.spike_samples
            pred = batched(sn.goodness_scores, x[:n], 50).argmax(1)
            row = {
                "variant": variant,
                "timesteps": T,
                "samples": n,
                "acc_goodness": float((pred == y[:n]).float().mean()),
                "same_as_rate": float((pred == base_pred[:n]).float().mean()),
                "rate_acc_goodness_same_images": float((base_pred[:n] == y[:n]).float().mean()),
                "predicted_per_class": torch.bincount(pred, minlength=10).tolist(),
                "confusion": torch.bincount(y[:n] * 10 + pred, minlength=100).view(10, 10).tolist(),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            res["spiking"].append(row)
            atomic_write_json(a.out, res)
            print(
                variant,
                T,
                {k: row[k] for k in ("acc_goodness", "same_as_rate", "predicted_per_class")},
                flush=True,
            )
    spec = convert(
        net,
        head,
        labels,
        cfg,
        meta.get("kind", "rate"),
        cx,
        cy,
        a.curve_timesteps,
        "current",
        "static",
    )
    res["rate_current"] = {
        "timesteps": a.curve_timesteps,
        "layers": rate_current_curve(spec, labels.neutral(x[:100])),
    }
    res["seconds"] = round(time.perf_counter() - t_start, 1)
    atomic_write_json(a.out, res)
    return res


if __name__ == "__main__":
    main()
