"""lava-dl netx HDF5 export (the format ``lava.lib.dl.netx.hdf5.Network`` reads), written with h5py.

Layout (schema of lava-dl's netx, checked against its reader)::

    /layer/0   type="input", shape=(C, H, W), neuron{type, iDecay, vDecay, vThMant, refDelay}
    /layer/i   type="conv",  shape=(C, H, W) of the output, weight (C_out, C_in, kH, kW) int32 (torch layout),
               bias (C_out,) int32, stride (2,), padding (2,), dilation (2,), groups (),
               neuron{type="CUBA", iDecay=du+1, vDecay=dv, vThMant=vth, refDelay=1}

netx adds a conv layer's ``bias`` to the neuron with bias_exp = 6, so the bias stored is
``round(bias_mant · 2^bias_exp / 2^6)`` (exact when bias_exp >= 6). netx's input layer is a neuron
layer driven by its input; ours is the labelled image sent as graded values straight into conv 1,
which netx expresses as an input layer with weight 1 and bias 0 (a documented approximation).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .quantize import ACT_SHIFT, DECAY_UNITY, LoihiNet


def _neuron(g, du: int, dv: int, vth: int) -> None:
    n = g.create_group("neuron")
    n.create_dataset("type", data=np.bytes_("CUBA"))
    n.create_dataset("iDecay", data=np.int64(du + 1))
    n.create_dataset("vDecay", data=np.int64(dv))
    n.create_dataset("vThMant", data=np.int64(vth))
    n.create_dataset("refDelay", data=np.int64(1))
    n.create_dataset("gradedSpike", data=np.bool_(False))


def write_netx(net: LoihiNet, path: str | Path) -> Path:
    """Write a fixed-point ``net`` (from :func:`quantize_spec`) as a netx HDF5 file."""
    import h5py
    if not net.fixed_point:
        raise ValueError("netx stores integer (Loihi) parameters: quantise with a fixed-point profile first")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        layers = f.create_group("layer")
        g = layers.create_group("0")
        g.create_dataset("type", data=np.bytes_("input"))
        g.create_dataset("shape", data=np.asarray(net.layers[0].in_shape, dtype=np.int64))
        g.create_dataset("weight", data=np.int64(1))
        g.create_dataset("bias", data=np.int64(0))
        _neuron(g, DECAY_UNITY - 1, 0, 0)
        for i, layer in enumerate(net.layers, start=1):
            g = layers.create_group(str(i))
            g.create_dataset("type", data=np.bytes_("conv"))
            g.create_dataset("shape", data=np.asarray(layer.out_shape, dtype=np.int64))
            g.create_dataset("weight", data=np.asarray(layer.weight).astype(np.int32))
            bias = np.rint(np.asarray(layer.bias_mant, np.float64) * 2.0 ** (int(layer.bias_exp) - ACT_SHIFT))
            g.create_dataset("bias", data=bias.astype(np.int32))
            for key, val in (("stride", layer.stride), ("padding", layer.padding), ("dilation", 1)):
                g.create_dataset(key, data=np.asarray([val, val], dtype=np.int64))
            g.create_dataset("groups", data=np.int64(1))
            _neuron(g, int(layer.du), int(layer.dv), int(layer.vth))
        f.attrs["ff_neuro"] = "FF-CNN exported by ff_neuro; layer 0 input is the labelled image (graded)"
        f.attrs["input_scale"] = float(net.input_scale)
        f.attrs["timesteps"] = int(net.timesteps)
        f.attrs["profile"] = net.profile
    return path
