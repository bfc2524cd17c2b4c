"""Stage 6: classify with an NIR export in norse, by the linear head and by goodness, from the export alone.

    ff-neuro export RUN_DIR --format nir --out EXPORT_DIR
    python examples/06_export_in_norse.py EXPORT_DIR [N] [MNIST_DIR]   (N test images, default 100)

Only nir, norse, numpy and torch: ff_neuro is not imported. The network is EXPORT_DIR/network.nir; the
label overlay, the encoding, the linear head and the goodness rule come from manifest.json and
manifest.npz. The test images are read from MNIST's IDX files in MNIST_DIR (default: $FF_NEURO_DATA,
else ff_neuro's cache ~/.cache/ff_neuro/mnist), raw or gzipped.

Reset by subtraction (the default mnist-quick): the IF nodes carry metadata reset='subtract'.
norse.torch.from_nir applies its reset_method to CubaLIF nodes only and would reset these IF nodes to
zero, silently; the few lines marked SHIM give each such node norse's own IAF step with norse's
reset_subtract (the same shim as ff_neuro.hardware.nir_graph.norse_from_nir). A few minutes for 100
images (each under 11 labels) on a 2-core CPU.
"""

import gzip
import json
import os
import sys
from pathlib import Path

import nir
import norse.torch
import numpy as np
import torch
from norse.torch.functional.iaf import IAFFeedForwardState
from norse.torch.functional.reset import reset_subtract
from norse.torch.functional.threshold import threshold


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST's format: big-endian dims, then uint8 data), raw or .gz."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", ndim, 4)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def mnist_test(folder: Path, n: int):
    def find(name):
        for p in (folder / name, folder / f"{name}.gz"):
            if p.is_file():
                return p
        sys.exit(f"no {name}(.gz) in {folder}: pass the folder with MNIST's IDX files")

    x = read_idx(find("t10k-images-idx3-ubyte"))[:n].astype(np.float32) / 255.0
    return x[:, None], read_idx(find("t10k-labels-idx1-ubyte"))[:n].astype(np.int64)


def iaf_subtract_step(input_tensor, state, p, dt=0.001):  # SHIM: norse's IAF step, reset_subtract
    v = state.v + input_tensor
    z = threshold(v - p.v_th, p.method, p.alpha)
    return z, IAFFeedForwardState(v=reset_subtract(z, v, p.v_reset, p.v_th))


def norse_network(graph):
    net = norse.torch.from_nir(graph)
    for name, node in graph.nodes.items():  # SHIM: IF nodes that reset by subtraction
        if isinstance(node, nir.IF) and node.metadata.get("reset") == "subtract":
            getattr(net, name).activation = iaf_subtract_step
    return net


def label_mix(x, pattern, K):
    """x' = minmax((1 - K) x + K P), per sample (manifest input.label_mix)."""
    z = (1 - K) * x + K * pattern
    lo, hi = z.min((1, 2, 3), keepdims=True), z.max((1, 2, 3), keepdims=True)
    return torch.as_tensor((z - lo) / np.maximum(hi - lo, 1e-8), dtype=torch.float32)


@torch.no_grad()
def window_counts(net, x_in, T, nodes, batch=100):
    """Spike counts of ``nodes`` over T steps of the constant input current x_in, from rest."""
    out = {node: [] for node in nodes}
    for i in range(0, len(x_in), batch):
        state, counts = None, {node: 0 for node in nodes}
        for _ in range(T):
            _, state = net(x_in[i : i + batch], state)
            counts = {node: counts[node] + state.cache[node] for node in nodes}
        for node in nodes:
            out[node].append(counts[node])
    return {node: torch.cat(c) for node, c in out.items()}


def main():
    out = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    default = Path(os.environ.get("FF_NEURO_DATA", Path.home() / ".cache" / "ff_neuro"))
    folder = Path(sys.argv[3]) if len(sys.argv) > 3 else default / "mnist"
    man, arr = json.loads((out / "manifest.json").read_text()), np.load(out / "manifest.npz")
    assert man["encoding"] == "current", "rate encoding: draw Bernoulli(x') at every step instead"
    x, y = mnist_test(folder, n)
    K, T = man["input"]["K"], man["timesteps"]
    net = norse_network(nir.read(str(out / man["files"]["network"])))

    head = man[
        "head"
    ]  # linear head: RMS-normalised window rates of the readout nodes, neutral label
    counts = window_counts(net, label_mix(x, arr["neutral_pattern"], K), T, head["nodes"])
    rates = [(counts[node] / T).flatten(1) for node in head["nodes"]]
    feats = torch.cat(
        [r / torch.sqrt(r.pow(2).mean(1, keepdim=True) + head["eps"]) for r in rates], 1
    )
    logits = feats @ torch.as_tensor(arr["head_weight"]).T + torch.as_tensor(arr["head_bias"])
    linear = (logits.argmax(1).numpy() == y).mean()

    g = man["goodness"]  # score(x, c) = sum_l act_scale_l^2 sum (count/T)^2 / n_l, x labelled c
    layer = {entry["node"]: i for i, entry in enumerate(man["layers"])}
    pats = arr["label_patterns"]
    xl = label_mix(np.repeat(x, len(pats), 0), np.tile(pats, (n, 1, 1))[:, None], K)
    counts = window_counts(net, xl, T, g["nodes"])
    score = 0
    for node in g["nodes"]:
        r = (counts[node] / T).flatten(1)
        n_l = r.shape[1] if g["measure"] == "mean" else 1
        score = score + g["act_scales"][layer[node]] ** 2 * r.pow(2).sum(1) / n_l
    goodness = (score.view(n, len(pats)).argmax(1).numpy() == y).mean()
    print(
        f"norse {norse.__version__}, reset {man['reset']['mode']}, {n} test images: "
        f"linear head {100 * linear:.2f} %, goodness {100 * goodness:.2f} %"
    )


if __name__ == "__main__":
    main()
