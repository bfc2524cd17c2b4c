"""Where a converted network loses goodness: layers 0..k spiking, the rest computed by the rate model
from their spike counts (rate = count/T · λ). Prints goodness accuracy for the rate model and for the
hybrids spk0, spk01, ... (all layers spiking = the spiking network), on the first N test images.

    python benchmarks/spike_goodness_hybrid.py RUN_DIR N T [LAMBDA0]

LAMBDA0 overrides layer 0's activation scale (rate model and conversion) without retraining; useful
only for an untrained layer 0. Results go to stdout (numbers are quoted in docs/RESULTS.md, section 0).
"""

from __future__ import annotations

import sys

import torch

from ff_neuro.ff import open_run
from ff_neuro.ff.functional import activation
from ff_neuro.spiking import SpikingNetwork, convert


def main() -> None:
    run, n, T = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    r = open_run(run)
    (net, head, labels), cfg = r.parts, r.cfg
    if len(sys.argv) > 4:
        cfg.model.layers[0].activation_scale = float(sys.argv[4])
        net.layers[0].act_scale = float(sys.argv[4])
    lams = cfg.model.scales
    x, y = r.test_tensors(n)
    spec = convert(
        net, head, labels, cfg, "rate", *r.calibration_images(50), T, "current", "static"
    )
    sn = SpikingNetwork(spec, max_batch_steps=4096)
    names = ["rate"] + [
        "spk" + "".join(str(i) for i in range(k + 1)) for k in range(len(net.layers))
    ]
    with torch.no_grad():
        for upto, name in enumerate(names):
            hits = 0
            for i in range(0, n, 20):
                xl = labels.all_labels(x[i : i + 20])
                acts = (
                    [c.float() / T * lams[j] for j, c in enumerate(sn.spike_counts(xl)[:upto])]
                    if upto
                    else []
                )
                h = acts[-1] if acts else xl
                for li in range(upto, len(net.layers)):
                    layer = net.layers[li]
                    h = activation(layer.conv(h), layer.act, layer.act_scale)
                    acts.append(h)
                hits += int(
                    (net.goodness_score(acts).view(-1, 10).argmax(1) == y[i : i + 20]).sum()
                )
            print(f"{name} {hits / n:.4f}", flush=True)


if __name__ == "__main__":
    main()
