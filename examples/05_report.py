"""Stage 5: pictures of a trained run and its HTML report.

    python examples/05_report.py [RUN_DIR]       (default /tmp/ff_neuro_examples/run, from example 02)

Computes Class Activation Maps and per-layer goodness separation with the Python API, then writes
RUN_DIR/report/index.html (the same as `ff-neuro report RUN_DIR`). The report includes the spiking
and Lava sections when examples 03/04 (or `ff-neuro spike` / `ff-neuro deploy`) ran on this run.
"""

import sys
from pathlib import Path

import torch

from ff_neuro.analysis import (
    build_report,
    goodness_samples,
    plot_cam_grid,
    rate_model_cams,
    separation_score,
)
from ff_neuro.analysis.cam import COMBINED
from ff_neuro.data import load_dataset
from ff_neuro.ff import open_run

run_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ff_neuro_examples/run")
torch.set_num_threads(2)
run = open_run(run_dir, "cpu")
model, cfg = run.model, run.cfg
data = load_dataset(cfg.data.dataset)
x = torch.from_numpy(data.test.x[:500]).unsqueeze(1).float() / 255
y = torch.from_numpy(data.test.y[:500])

# CAMs: Σ_k rms_norm(a_l)[k, x, y] · W_head[c, l, k, x, y]; their pixel sum + bias is the logit
cams = rate_model_cams(model, x[:10])
print({k: tuple(v.shape) for k, v in cams.items()})
logit = cams[COMBINED][0].sum((1, 2)) + model.head.fc.bias
print(f"image 0: argmax of CAM sums = {int(logit.argmax())}, label = {int(y[0])}")
print(plot_cam_grid(x[:10], y[:10].tolist(), cams, run_dir / "cam_first10.png"))

# does every layer separate positive from negative data? (0.5 = chance)
g = goodness_samples(model, x, y)
for layer, d in g.items():
    print(
        f"layer {layer}: separation {separation_score(d['pos'], d['neg'], model.net.thresholds[layer]):.3f}"
    )

index = build_report(run_dir, dataset=data, samples=500)
print(f"report: {index}")
