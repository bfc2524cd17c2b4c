"""Stage 3: convert the trained rate model to a spiking (LIF) network and look at its spikes.

    python examples/03_spiking_conversion.py [RUN_DIR]       (default /tmp/ff_neuro_examples/run, from example 02)

Builds the deployable ("static") spiking spec of the run, classifies a few test images with spike
counts over T steps, sweeps T with ``spike_run`` (writes RUN_DIR/spike_metrics.json) and draws the
accuracy-vs-T curve and a spike raster. A few minutes on a 2-core CPU.
"""

import sys
from pathlib import Path

import torch

from ff_neuro.analysis import plot_accuracy_vs_timesteps, plot_spike_raster, raster_trains
from ff_neuro.data import load_dataset
from ff_neuro.spiking import SpikingNetwork, spike_run, spiking_spec_from_run

run_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ff_neuro_examples/run")
torch.set_num_threads(2)
data = load_dataset("mnist")
x = torch.from_numpy(data.test.x[:200]).unsqueeze(1).float() / 255
y = torch.from_numpy(data.test.y[:200])

# the spec is plain numpy: per layer conv weights + LIF parameters (what Lava runs)
spec = spiking_spec_from_run(
    run_dir, timesteps=16, encoding="current", variant="static", dataset=data
)
print(
    f"T = {spec.timesteps}, encoding {spec.encoding}, layers "
    f"{[(l.weight.shape, round(float(l.threshold), 3)) for l in spec.layers]}"
)
snn = SpikingNetwork(spec)
counts = snn.spike_counts(snn.labels.neutral(x[:1]))  # per-layer spike counts (1, C, H, W)
print(f"spikes of image 0 per layer: {[int(c.sum()) for c in counts]}")
acc = (snn.predict_linear(x) == y).float().mean().item()
print(f"spiking linear-head accuracy on 200 test images at T = 16: {acc:.3f}")

# sweep T (linear head only, which is 10x cheaper than goodness) → RUN_DIR/spike_metrics.json
metrics = spike_run(
    run_dir,
    timesteps=(4, 8, 16),
    encodings=("current", "rate"),
    samples=100,
    variants=("static",),
    device="cpu",
    goodness=False,
    dataset=data,
)
for r in metrics["results"]:
    print(
        f"{r['encoding']:>7} T={r['timesteps']:>3}: linear {r['acc_linear']:.3f}, spikes {r['spikes_total']:.0f}"
    )
print(plot_accuracy_vs_timesteps(metrics, run_dir / "example_accuracy_vs_T.png"))
print(plot_spike_raster(raster_trains(snn, x[0]), run_dir / "example_raster.png"))
