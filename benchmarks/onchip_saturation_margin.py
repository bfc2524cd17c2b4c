"""How often the relu1 gate of the on-chip rule sees a saturated spiking neuron, per margin m.

The rule's post factor is p = c·[c < T − m] (``--saturation-margin m``): with m = 0 it is relu1's
exact derivative for the rate model, whose count T·relu1(z) reaches T exactly when the drive z ≥ 1.
A spiking integrate-and-fire neuron of the learning network is driven by the spikes of the layers
below, which start a step or two into the window, so at z ≥ 1 it mostly fires T − 1 or T − 2 times.
This measures, on **validation** images under their true and a drawn label, each plastic layer's
drive z = (W ∗ c_below) / (T·vth) (the window's mean input current in threshold units, from the
spike counts c_below of the layer below) against its count c, and for each m how many neurons the
gate [c ≥ T − m] calls saturated that are (tp), that are not (fp), and misses (fn). Writes JSON.
Not a timed test.

    .venv/bin/python benchmarks/onchip_saturation_margin.py --run runs/quick10cl \
        --weights benchmarks/results/learn_all_k18_val_base_weights.npz \
        --out benchmarks/results/onchip_saturation_margin.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from ff_neuro.io import atomic_write_json
    from ff_neuro.onchip import conv_reference as cref
    from ff_neuro.onchip import conv_rule
    from ff_neuro.onchip.conv_experiment import sample_inputs, setup_network
    from ff_neuro.onchip.experiment import LearnConfig
    from ff_neuro.runtime import measurement_stamp

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", required=True)
    ap.add_argument("--weights", help="learned kernels (learn_metrics_weights.npz); default: init")
    ap.add_argument("--images", type=int, default=300, help="validation images (2 windows each)")
    ap.add_argument("--margins", type=int, default=5, help="m = 0 … this")
    ap.add_argument("--out", default="benchmarks/results/onchip_saturation_margin.json")
    a = ap.parse_args()
    cfg = LearnConfig(samples=a.images, layers="all", split="val", chunk=50)
    s = setup_network(Path(a.run), cfg)
    ks = s.k0
    if a.weights:
        with np.load(a.weights, allow_pickle=False) as z:
            ks = [z[f"layer{li}"] for li in s.plastic_layers]
    x = sample_inputs(s, "fixed", 0, a.images)[:, :2].flatten(0, 1)  # true label, drawn label
    cs = cref.counts(s.net, ks, x, "fixed")
    T, nf, layers = s.net.timesteps, len(s.net.frozen), []
    for i, pl in enumerate(s.net.plastic):
        w = torch.as_tensor(conv_rule.torch_weight(ks[i], pl.geometry), dtype=torch.float64)
        g = pl.geometry
        z = F.conv2d(cs[nf + i - 1].double(), w, None, g.stride, g.padding) / (T * pl.params.vth)
        c, sat = cs[nf + i], z >= 1
        rows = []
        for m in range(a.margins + 1):
            gate = c >= T - m
            rows.append(
                {
                    "margin": m,
                    "tp": int((gate & sat).sum()),
                    "fp": int((gate & ~sat).sum()),
                    "fn": int((~gate & sat).sum()),
                }
            )
        best = min(rows, key=lambda r: r["fp"] + r["fn"])["margin"]
        hist = np.bincount(c[sat].numpy().ravel(), minlength=T + 1)
        layers.append(
            {
                "layer": s.plastic_layers[i],
                "driven_at_or_above_threshold": float(sat.double().mean()),
                "counts_of_those_neurons_T_minus_0_to_5": [int(hist[T - j]) for j in range(6)],
                "margins": rows,
                "best_margin": best,
            }
        )
        print(f"layer {s.plastic_layers[i]}: z ≥ 1 for {100 * float(sat.double().mean()):.1f} %;"
              f" best margin {best}; " + ", ".join(
                  f"m={r['margin']}: miss {r['fn']}, false {r['fp']}" for r in rows))  # fmt: skip
    settings = {k: v for k, v in vars(a).items() if k != "out"}
    atomic_write_json(a.out, {"settings": settings, **measurement_stamp(), "layers": layers})
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
