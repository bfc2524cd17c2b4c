"""Stage 6: run an NIR export in norse and print its accuracy: only nir, norse, numpy and torch in the loop.

    ff-neuro export RUN_DIR --format nir --out EXPORT_DIR
    python examples/06_export_in_norse.py EXPORT_DIR [N]       (N test images, default 200)

ff_neuro only loads the test images; the label overlay, the encoding and the linear head come from
EXPORT_DIR/manifest.json and manifest.npz. Under a minute for 200 images on a 2-core CPU.
"""

import json
import sys
from pathlib import Path

import nir
import norse.torch
import numpy as np
import torch

out, n = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 200
man, arr = json.loads((out / "manifest.json").read_text()), np.load(out / "manifest.npz")
from ff_neuro.data import load_dataset  # noqa: E402  (the images only)

x, y = load_dataset(man["input"]["dataset"]).test.tensors(n)

K, T = man["input"]["K"], man["timesteps"]  # label overlay: neutral pattern, minmax
z = (1 - K) * x.numpy() + K * arr["neutral_pattern"]
lo, hi = z.min((1, 2, 3), keepdims=True), z.max((1, 2, 3), keepdims=True)
x_in = torch.as_tensor((z - lo) / np.maximum(hi - lo, 1e-8), dtype=torch.float32)
assert man["encoding"] == "current", "rate encoding: draw Bernoulli(x_in) at every step instead"

net = norse.torch.from_nir(nir.read(str(out / man["files"]["network"])))
nodes, state = man["head"]["nodes"], None
counts = {node: 0 for node in nodes}
with torch.no_grad():
    for _ in range(T):  # the same input current at every step
        _, state = net(x_in, state)
        counts = {node: counts[node] + state.cache[node] for node in nodes}
rates = [(counts[node] / T).flatten(1) for node in nodes]  # head: RMS-normalised window rates
feats = torch.cat(
    [r / torch.sqrt(r.pow(2).mean(1, keepdim=True) + man["head"]["eps"]) for r in rates], 1
)
logits = feats @ torch.as_tensor(arr["head_weight"]).T + torch.as_tensor(arr["head_bias"])
print(
    f"norse {norse.__version__}: accuracy {100 * (logits.argmax(1) == y).float().mean():.2f} % on {n} test images"
)
