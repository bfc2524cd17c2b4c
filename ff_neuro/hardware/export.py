"""``ff-neuro export``: a trained run → files for a hardware profile.

Formats, and the clients that run them (docs/hardware.md has the measured agreement):
  * ``lava``: ``lava_net.npz`` (per layer: Lava Conv weight (C_out, kW, kH, C_in), bias_mant) and
    ``lava_net.json`` (shapes, vth, du, dv, bias_exp, input scale, profile, resources). No pickles.
  * ``netx``: ``network.net`` (lava-dl 0.6.0 netx HDF5, fixed-point profiles only; :mod:`.netx`).
    Reset by subtraction is refused unless asked for with ``netx_reset="subtract"``: its neurons then
    have the type ``CUBA_SUBTRACT``, which lava-dl loads only inside
    :func:`ff_neuro.lava.netx_subtract.netx_reset_subtract` (plain lava-dl fails on it, loudly).
  * ``nir``:  ``network.nir`` (NIR graph of the float spec; norse, snnTorch, sinabs; :mod:`.nir_graph`);
    reset by subtraction is node metadata ``reset="subtract"``, and the export says in one line which
    clients run it faithfully.
Every format also gets ``manifest.json`` + ``manifest.npz`` (:mod:`.manifest`): the input, label
patterns, head and readout, which no format carries; and ``labels.json`` (label set, K, resources).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..ff.run import open_run
from ..io import atomic_write_json
from ..spiking.store import run_spec
from .cost import estimate_resources
from .manifest import save_npz, write_manifest
from .netx import OBSERVED_MARGIN, observed_currents
from .profiles import ProfileError, load_profile
from .quantize import LoihiNet, float_net, quantize_spec

FORMATS = ("lava", "netx", "nir")


def lava_conv_layout(w: np.ndarray) -> np.ndarray:
    """torch (C_out, C_in, kH, kW) cross-correlation → Lava Conv (C_out, kW, kH, C_in) convolution."""
    return np.ascontiguousarray(np.asarray(w).transpose(0, 3, 2, 1)[:, ::-1, ::-1, :])


def net_description(net: LoihiNet) -> dict:
    return {
        "profile": net.profile,
        "fixed_point": net.fixed_point,
        "timesteps": net.timesteps,
        "graded_input": net.graded_input,
        "input_scale": net.input_scale,
        "input_max": net.input_max,
        "loss_layers": net.loss_layers,
        "readout_layers": net.readout_layers,
        "layers": [
            {
                "in_shape_chw": list(layer.in_shape),
                "out_shape_chw": list(layer.out_shape),
                "stride": layer.stride,
                "padding": layer.padding,
                "vth": float(layer.vth),
                "du": float(layer.du),
                "dv": float(layer.dv),
                "bias_exp": int(layer.bias_exp),
                "scale": float(layer.scale),
                "reset": layer.reset,
            }
            for layer in net.layers
        ],
        "semantics": "Lava LIF per step: u = u(1-du) + a_in; v = v(1-dv) + u + bias; spike v > vth; then "
        "v = 0 (reset zero: LIFReset) or v = v - vth (reset subtract: "
        "ff_neuro.lava.procs.lif_subtract.LIFResetSubtract) "
        "(fixed point: Loihi bit-accurate, a_in and vth shifted by 6 bits)",
    }


def write_lava(net: LoihiNet, out: Path) -> list[Path]:
    arrays = {}
    for i, layer in enumerate(net.layers):
        arrays[f"layer{i}.weight"] = lava_conv_layout(layer.weight)
        arrays[f"layer{i}.bias_mant"] = np.asarray(layer.bias_mant)
    if net.head_weight is not None:
        arrays["head.weight"] = np.asarray(net.head_weight)
        arrays["head.bias"] = np.asarray(net.head_bias)
    npz = save_npz(out / "lava_net.npz", **arrays)
    desc = out / "lava_net.json"
    atomic_write_json(desc, net_description(net))
    return [npz, desc]


def input_description(spec) -> dict:
    return {
        "labels": spec.meta.get("labels"),
        "encoding": spec.encoding,
        "timesteps": spec.timesteps,
        "in_shape": spec.meta.get("in_shape"),
        "how": "manifest.json (label mixing, encoding, head, readout) and manifest.npz (label patterns, head)",
    }


NETX_RESETS = ("subtract",)
NETX_SUBTRACT_ADVICE = (
    "export --format nir (sinabs, norse and snnTorch run it exactly), --format lava, or "
    "--format netx --netx-reset subtract for a netx file that lava-dl loads only inside "
    "ff_neuro.lava.netx_subtract.netx_reset_subtract() (docs/hardware.md)"
)


def subtractive(spec) -> bool:
    """True when any layer resets by subtraction."""
    return any(layer.reset == "subtract" for layer in spec.layers)


def check_reset(spec, fmt: str, netx_reset: str | None) -> None:
    """One-line errors: netx refuses reset by subtraction unless ``netx_reset="subtract"`` asks for
    the ff_neuro neuron type, which only a subtractive network may use."""
    if netx_reset is not None and netx_reset not in NETX_RESETS:
        raise ProfileError(f"unknown netx reset {netx_reset!r}; choose one of {list(NETX_RESETS)}")
    if netx_reset is not None and fmt != "netx":
        raise ProfileError(f"--netx-reset is for --format netx, not {fmt}")
    if fmt == "netx" and subtractive(spec) and netx_reset != "subtract":
        raise ProfileError(
            "this network's neurons reset by subtraction, which netx cannot express (lava-dl's "
            f"CUBA neuron resets to zero): {NETX_SUBTRACT_ADVICE}"
        )
    if netx_reset == "subtract" and not all(layer.reset == "subtract" for layer in spec.layers):
        raise ProfileError(
            "--netx-reset subtract needs a network whose neurons all reset by subtraction; this one "
            "resets to zero: export it without --netx-reset"
        )


def export_spec(
    spec,
    profile: str,
    out: str | Path,
    fmt: str = "lava",
    dataset: str | None = None,
    netx_inputs=None,
    netx_margin: float = OBSERVED_MARGIN,
    netx_reset: str | None = None,
) -> list[Path]:
    """Write ``spec`` under ``profile`` in format ``fmt`` into ``out``; returns the paths written.
    netx: ``netx_inputs`` (N, T, C, H, W), training inputs, bound each layer's current by what they
    drive, times ``netx_margin`` (:func:`~ff_neuro.hardware.netx.observed_currents`); ``None``: the
    worst case. ``netx_reset="subtract"`` writes a network that resets by subtraction as
    ``CUBA_SUBTRACT`` neurons (:mod:`.netx`); without it such a network is refused."""
    if fmt not in FORMATS:
        raise ProfileError(f"unknown export format {fmt!r}; choose one of {list(FORMATS)}")
    prof = load_profile(profile)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res = estimate_resources(spec.layers, prof)
    if prof.fixed_point and not prof.deployable:
        raise ProfileError(
            f"profile {prof.name!r} is for cost estimates only (no Lava neuron model); "
            f"export with loihi, loihi2 or ideal"
        )
    check_reset(spec, fmt, netx_reset)
    net = quantize_spec(spec, prof) if prof.fixed_point else float_net(spec, prof.name)
    if fmt == "lava":
        paths = write_lava(net, out)
    elif fmt == "netx":
        from .netx import write_netx

        if not net.fixed_point:
            raise ProfileError(
                "netx holds integer Loihi parameters: export it with a fixed-point profile "
                "(loihi or loihi2)"
            )
        bounds = None if netx_inputs is None else observed_currents(net, netx_inputs, netx_margin)
        paths = [write_netx(net, out / "network.net", prof.threshold_bits, prof.state_bits, bounds)]
    else:
        from .nir_graph import SUBTRACT_CLIENTS, write_nir

        paths = [write_nir(spec, out / "network.nir")]
        if subtractive(spec):
            print(f"[export] {SUBTRACT_CLIENTS}")
    fixed = net if (fmt != "nir" and net.fixed_point) else None  # NIR always holds the float spec
    paths += write_manifest(out, spec, fmt, prof.name, {"network": paths[0].name}, fixed, dataset)
    info = {
        **input_description(spec),
        "resources": res.to_dict(),
        "format": fmt,
        "profile": prof.name,
    }
    atomic_write_json(out / "labels.json", json.loads(json.dumps(info, default=str)))
    if not res.fits:
        print(f"[export] warning: the network does not fit {prof.name}: {'; '.join(res.reasons)}")
    return [*paths, out / "labels.json"]


NETX_BOUNDS = ("observed", "worst-case")
NETX_BOUND_IMAGES = 100  # training images whose currents bound the netx rescaling


def netx_bound_inputs(run, spec, n: int = NETX_BOUND_IMAGES, seed: int = 0):
    """Encoded inputs (N·(C+1), T, C, H, W) of ``n`` seeded training images, each with the neutral label
    and with every class label (the inputs the linear head and goodness see)."""
    from ..spiking.network import labels_for
    from .evaluate import encoded

    x, _ = run.dataset.train.subset(n, seed=seed).tensors()
    labels = labels_for(spec)
    xl = torch.cat([labels.neutral(x), labels.all_labels(x)])
    return encoded(spec, xl)


def export_run(
    run_dir,
    profile: str,
    out,
    fmt: str = "lava",
    timesteps: int | None = None,
    netx_bound: str = "observed",
    netx_margin: float = OBSERVED_MARGIN,
    netx_reset: str | None = None,
) -> list[Path]:
    """Export a run's deployable spec: the one ``ff-neuro spike`` saved, else the default conversion
    (:func:`ff_neuro.spiking.store.run_spec`, which says so on stderr). netx: ``netx_bound`` chooses
    the current bound of the bias-keeping rescaling (:mod:`.netx`), ``netx_reset`` as in
    :func:`export_spec`."""
    if netx_bound not in NETX_BOUNDS:
        raise ProfileError(f"unknown netx bound {netx_bound!r}; choose one of {list(NETX_BOUNDS)}")
    run = open_run(run_dir)
    spec, _ = run_spec(run, timesteps)
    check_reset(spec, fmt, netx_reset)  # before the bound's simulation
    inputs = netx_bound_inputs(run, spec) if fmt == "netx" and netx_bound == "observed" else None
    return export_spec(
        spec, profile, out, fmt, run.cfg.data.dataset, inputs, netx_margin, netx_reset
    )
