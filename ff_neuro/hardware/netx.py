"""lava-dl netx HDF5 export, in the form ``lava.lib.dl.netx.hdf5.Network`` (lava-dl 0.6.0) runs.

Layout (checked by loading it with lava-dl's own reader and running it in Lava)::

    /layer/0   type="input", shape=(C, H, W)                  no neuron: netx only records the input shape
    /layer/i   type="conv",  shape=(C, H, W) of the output, weight (C_out, C_in, kH, kW) int32 (torch layout),
               bias (C_out,) int32, stride (2,), padding (2,), dilation (2,), groups (),
               neuron{type="CUBA", iDecay=du+1=4096, vDecay=dv, vThMant=vth, refDelay=1}

Load it with ``Network(net_config=path, input_message_bits=INPUT_MESSAGE_BITS, reset_interval=T,
reset_offset=1)`` (samples back to back, see :mod:`.netx_lava`) and send the graded integer image ``x_int = round(clip(x', 0, x_max)·input_scale)``
into ``net.inp`` (any ``input_message_bits > 0`` keeps the input graded: 0 makes Lava's Conv cast it to
bool; 24 is what ``ff-neuro deploy --fixed-point`` uses).

Biases. netx gives every CUBA neuron ``bias_exp = 6`` whatever the file says, so Lava adds
``bias·2⁶`` to v, i.e. whole units of the synaptic input a_in. The deployed layer adds
``B = bias_mant·2^bias_exp`` (units of a_in/64). To keep B exact, layer l is scaled by 2^k:

    W' = 2^k·W,   vth' = 2^k·vth,   bias' = round(B·2^k / 2⁶),   k = min(6 − bias_exp, k_max) (≥ 0)

With du = 4095 (no current memory) and dv = 0 the netx membrane is then exactly 2^k times the deployed
one (spikes and resets coincide); with dv > 0 the decay truncation differs by less than one deployed
unit per step. k_max keeps vth' within the profile's threshold bits and the largest possible input
current within u's state bits; when k < 6 − bias_exp, bias' rounds to 2^−k units of a_in. Two bounds on
that current (``current_bound``):

* ``worst-case``: 2^k·max_c Σ|W⁺| (or Σ|W⁻|) times the largest input, the guard quantize applies to the
  deployed net: no input can overflow u, but k often stops short of 6 − bias_exp (biases rounded);
* ``observed`` (what ``ff-neuro export`` uses): a margin (``OBSERVED_MARGIN`` = 1.5) × the largest |a_in|
  that the deployed net receives on training images (:func:`observed_currents`). Biases stay exact where that fits; an input
  driving a layer beyond the margin would wrap u as Loihi does. ``netx_report`` states the bound used.

Reset by subtraction (only with ``export --format netx --netx-reset subtract``). lava-dl's CUBA neuron
resets to zero, and netx has no reset field. Such a network's neurons are written with the type
``CUBA_SUBTRACT`` (:data:`SUBTRACT_TYPE`), which plain lava-dl does not know (it fails building the
block, loudly, rather than resetting to zero), plus ``biasExp`` = the deployed bias_exp. Inside
:func:`ff_neuro.lava.netx_subtract.netx_reset_subtract`, lava-dl builds them as ff_neuro's
``LIFResetSubtract`` with that bias_exp, so the file holds the deployed integer network unscaled
(k = 0): a 2^k rescaling would not be exact here, because a subtractive neuron's v is not bounded
by its threshold (a neuron driven above threshold gains I − θ per step; on mnist-quick |v| reaches
the 24-bit clip), and 2^k·v would clip where the deployed v does not.

The k chosen are written into the file (attribute ``scale_k``), so a reader rebuilds the same network. W' = 2^k·W is an
8-bit mantissa with weight exponent k on Loihi; Lava's Conv takes it as an integer. ``netx_net`` returns
the integer network netx runs, so :func:`~ff_neuro.hardware.emulate.emulate_fixed` can check it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .emulate import emulate_fixed
from .quantize import ACT_SHIFT, DECAY_UNITY, LoihiNet, max_input_current

NETX_BIAS_EXP = 6  # lava-dl 0.6.0, hdf5.Network.get_neuron_params: 'bias_exp': 6
SUBTRACT_TYPE = (
    "CUBA_SUBTRACT"  # ff_neuro's neuron type: LIFResetSubtract (ff_neuro.lava.netx_subtract)
)
INPUT_MESSAGE_BITS = 24  # graded layer-0 input, as in ff-neuro deploy --fixed-point


OBSERVED_MARGIN = 1.5  # observed current bound = this × the largest |a_in| seen on training images
SUBTRACT_BOUND = (
    "none (CUBA_SUBTRACT: unscaled, biasExp kept)"  # current_bound of subtractive files
)


def netx_scale(
    layer,
    x_max: float = 1.0,
    threshold_bits: int = 17,
    state_bits: int = 24,
    a_bound: float | None = None,
) -> int:
    """The power-of-two scale k of one layer: as large as 6 − bias_exp needs, while vth' fits the threshold
    bits and the input current 2^k·a_max fits u's state bits; a_max is ``a_bound`` when given, else the
    largest possible current (inputs in [0, x_max])."""
    need = max(0, NETX_BIAS_EXP - int(layer.bias_exp))
    a_lim = 2 ** (state_bits - 1 - ACT_SHIFT) - 1
    a_max = (
        max_input_current(np.asarray(layer.weight), x_max) if a_bound is None else float(a_bound)
    )
    k = 0
    while (
        k < need
        and int(layer.vth) << (k + 1) <= 2**threshold_bits - 1
        and a_max * 2 ** (k + 1) <= a_lim
    ):
        k += 1
    return k


def _x_max(net: LoihiNet, i: int) -> float:
    return float(net.input_max * net.input_scale) if (i == 0 and net.graded_input) else 1.0


@torch.no_grad()
def observed_currents(net: LoihiNet, inputs, margin: float = OBSERVED_MARGIN) -> list[float]:
    """``margin`` × the largest |a_in| of each layer of fixed-point ``net`` on ``inputs`` (N, T, C, H, W)."""
    seen: list[int] = []
    emulate_fixed(net, inputs, max_current=seen)
    return [margin * a for a in seen]


def netx_scales(
    net: LoihiNet,
    threshold_bits: int = 17,
    state_bits: int = 24,
    a_bounds: list[float] | None = None,
) -> list[int]:
    """k of every layer (:func:`netx_scale`); ``a_bounds`` from :func:`observed_currents`, else worst case."""
    if a_bounds is not None and len(a_bounds) != len(net.layers):
        raise ValueError(f"{len(a_bounds)} current bounds for {len(net.layers)} layers")
    return [
        netx_scale(
            layer,
            _x_max(net, i),
            threshold_bits,
            state_bits,
            None if a_bounds is None else a_bounds[i],
        )
        for i, layer in enumerate(net.layers)
    ]


def netx_net(
    net: LoihiNet, threshold_bits: int = 17, state_bits: int = 24, ks: list[int] | None = None
) -> LoihiNet:
    """The integer network netx runs from our file: layer i scaled by 2^ks[i] (default: the worst-case
    :func:`netx_scales`), bias_exp = 6; a subtractive ``net`` itself (written unscaled)."""
    if subtractive_net(net):
        return net
    if not net.fixed_point:
        raise ValueError(
            "netx stores integer (Loihi) parameters: quantise with a fixed-point profile first"
        )
    ks = netx_scales(net, threshold_bits, state_bits) if ks is None else [int(k) for k in ks]
    if len(ks) != len(net.layers) or any(k < 0 or k > NETX_BIAS_EXP for k in ks):
        raise ValueError(
            f"netx scales {ks} must be {len(net.layers)} integers in [0, {NETX_BIAS_EXP}]"
        )
    layers = []
    for i, layer in enumerate(net.layers):
        k = ks[i]
        b = np.asarray(layer.bias_mant, np.int64) * 2.0 ** (int(layer.bias_exp) + k - NETX_BIAS_EXP)
        layers.append(
            replace(
                layer,
                weight=np.asarray(layer.weight, np.int64) << k,
                vth=int(layer.vth) << k,
                bias_mant=np.rint(b).astype(np.int64),
                bias_exp=NETX_BIAS_EXP,
                scale=float(layer.scale) * 2**k,
            )
        )
    return replace(net, layers=layers)


def netx_report(
    net: LoihiNet,
    threshold_bits: int = 17,
    state_bits: int = 24,
    ks: list[int] | None = None,
    a_bounds: list[float] | None = None,
) -> list[dict]:
    """Per layer: k, vth', the largest bias error left (units of the deployed a_in), and the current
    bound: the largest |a_in| that fits u at this k, next to the worst case and ``a_bounds`` (observed).
    A subtractive net is written unscaled with its own bias_exp: nothing is rounded."""
    if subtractive_net(net):
        return [
            {"k": 0, "vth": int(layer.vth), "bias_exp": int(layer.bias_exp), "bias_exact": True}
            for layer in net.layers
        ]
    out = []
    a_lim = 2 ** (state_bits - 1 - ACT_SHIFT) - 1
    for i, (layer, nl) in enumerate(
        zip(net.layers, netx_net(net, threshold_bits, state_bits, ks).layers)
    ):
        k = int(round(np.log2(nl.scale / layer.scale)))
        exact = np.asarray(layer.bias_mant, np.float64) * 2.0 ** (int(layer.bias_exp) - ACT_SHIFT)
        err = np.abs(np.asarray(nl.bias_mant, np.float64) * 2.0**-k - exact)
        worst = max_input_current(np.asarray(layer.weight), _x_max(net, i))
        out.append(
            {
                "k": k,
                "k_needed": max(0, NETX_BIAS_EXP - int(layer.bias_exp)),
                "vth": int(nl.vth),
                "max_bias_error_a_in": float(err.max(initial=0.0)),
                "bias_exact": bool(err.max(initial=0.0) == 0.0),
                "a_in_fits_up_to": a_lim / 2**k,
                "a_in_worst_case": worst,
                "a_in_bound_used": None if a_bounds is None else float(a_bounds[i]),
                "overflow_impossible": bool(worst * 2**k <= a_lim),
            }
        )
    return out


def subtractive_net(net: LoihiNet) -> bool:
    """True when the net's neurons reset by subtraction (all of them; a mix is refused)."""
    resets = {layer.reset for layer in net.layers}
    if len(resets) > 1:
        raise ValueError(
            f"netx export needs one reset for all layers, the net has {sorted(resets)}"
        )
    return resets == {"subtract"}


def _neuron(g, layer) -> None:
    n = g.create_group("neuron")
    subtract = layer.reset == "subtract"
    n.create_dataset("type", data=np.bytes_(SUBTRACT_TYPE if subtract else "CUBA"))
    if subtract:
        n.create_dataset("biasExp", data=np.int64(int(layer.bias_exp)))
    n.create_dataset("iDecay", data=np.int64(int(layer.du) + 1))
    n.create_dataset("vDecay", data=np.int64(int(layer.dv)))
    n.create_dataset("vThMant", data=np.int64(int(layer.vth)))
    n.create_dataset("refDelay", data=np.int64(1))
    n.create_dataset("gradedSpike", data=np.bool_(False))


def write_netx(
    net: LoihiNet,
    path: str | Path,
    threshold_bits: int = 17,
    state_bits: int = 24,
    a_bounds: list[float] | None = None,
) -> Path:
    """Write a fixed-point ``net`` (from :func:`quantize_spec`) as a netx HDF5 file (atomically); the
    scales come from ``a_bounds`` (:func:`observed_currents`) when given, else from the worst case.
    A subtractive net is written unscaled as :data:`SUBTRACT_TYPE` neurons (module docstring)."""
    import h5py

    subtract = subtractive_net(net)
    if subtract:
        ks, nx = [0] * len(net.layers), net
    else:
        ks = netx_scales(net, threshold_bits, state_bits, a_bounds)
        nx = netx_net(net, threshold_bits, state_bits, ks)
    if any(int(layer.du) != DECAY_UNITY - 1 for layer in nx.layers):
        raise ValueError(
            "netx export expects du = 4095 (no current memory), the neuron ff_neuro deploys"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        layers = f.create_group("layer")
        g = layers.create_group("0")
        g.create_dataset("type", data=np.bytes_("input"))
        g.create_dataset("shape", data=np.asarray(nx.layers[0].in_shape, dtype=np.int64))
        for i, layer in enumerate(nx.layers, start=1):
            g = layers.create_group(str(i))
            g.create_dataset("type", data=np.bytes_("conv"))
            g.create_dataset("shape", data=np.asarray(layer.out_shape, dtype=np.int64))
            g.create_dataset("weight", data=np.asarray(layer.weight).astype(np.int32))
            g.create_dataset("bias", data=np.asarray(layer.bias_mant).astype(np.int32))
            for key, val in (("stride", layer.stride), ("padding", layer.padding), ("dilation", 1)):
                g.create_dataset(key, data=np.asarray([val, val], dtype=np.int64))
            g.create_dataset("groups", data=np.int64(1))
            _neuron(g, layer)
        f.attrs["ff_neuro"] = "FF-CNN exported by ff_neuro; see manifest.json beside this file"
        f.attrs["input_message_bits"] = INPUT_MESSAGE_BITS
        f.attrs["input_scale"] = float(net.input_scale)
        f.attrs["timesteps"] = int(net.timesteps)
        f.attrs["profile"] = net.profile
        f.attrs["scale_k"] = np.asarray(ks, dtype=np.int64)
        f.attrs["current_bound"] = (
            SUBTRACT_BOUND if subtract else "worst-case" if a_bounds is None else "observed"
        )
    tmp.replace(path)
    return path


def read_scales(path: str | Path) -> tuple[list[int] | None, str]:
    """The k per layer and the current bound recorded in a netx file written by :func:`write_netx`
    (``None`` for files written before the attribute existed: worst-case scales)."""
    import h5py

    with h5py.File(path, "r") as f:
        ks = f.attrs.get("scale_k")
        bound = f.attrs.get("current_bound", "worst-case")
    bound = bound.decode() if isinstance(bound, bytes) else str(bound)
    return (None if ks is None else [int(k) for k in np.asarray(ks).ravel()]), bound
