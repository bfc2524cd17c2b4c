"""Check an export in the real clients: ``ff-neuro export … --verify N`` → ``clients.json`` beside it.

On the first N test images of the run's dataset (the spec's encoding), per client: spike-count
agreement (share of (image, neuron) pairs with identical counts, all layers), the share of identical
linear-head predictions, and the client's accuracy, on the neutral-label input. NIR also runs every
image under every label (N·classes inputs) and compares goodness: the scores computed from the
client's counts with the spec's goodness rule (:func:`~ff_neuro.spiking.readout.goodness_matrix`)
against those from ff_neuro's counts. References:

  * netx: ``ff-neuro deploy --fixed-point`` on the same images: its Lava graph (``run_lava``, fixed_pt)
    and its bit-exact integer emulation (``emulate_fixed``); also the emulation of the integer network
    netx runs (:func:`~ff_neuro.hardware.netx.netx_net`) against the deployed one on ``emulation_samples``
    images, which measures what the bias_exp = 6 rescaling changes without Lava;
  * NIR: ff_neuro's float simulator (``simulate_spec``) of the network read back from the file
    (:func:`~ff_neuro.hardware.nir_graph.spec_from_nir`: weights, biases, β, θ and the reset of each
    node), which is also checked equal to the run's spec.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import torch

from ..ff.run import open_run
from ..io import atomic_write_json
from ..runtime import hardware_description
from ..spiking import simulate_spec
from ..spiking.network import labels_for
from ..spiking.readout import goodness_matrix
from ..spiking.store import run_spec
from .clients import NIR_CLIENTS, ExportError, count_agreement, run_nir_client
from .evaluate import encoded, head_predictions
from .quantize import quantize_spec

CLIENTS_JSON = "clients.json"


def check_verifiable(fmt: str, samples: int) -> None:
    """One-line errors for what ``--verify`` cannot do."""
    if fmt not in ("netx", "nir"):
        raise ExportError(
            f"--verify runs netx and nir exports in their clients; {fmt!r} has no third-party client"
        )
    if samples < 1:
        raise ExportError(f"--verify needs at least 1 image, got {samples}")


def _test_inputs(run, spec, samples: int):
    x, y = run.test_tensors(samples)
    return x, y.numpy(), labels_for(spec)


def _row(spec, counts, ref, y, ref_pred, seconds) -> dict:
    pred = head_predictions(spec, counts)
    return {
        "spike_count_agreement": count_agreement(counts, ref),
        "identical_predictions": float((pred == ref_pred).mean()),
        "accuracy": float((pred == y).mean()),
        "seconds": round(seconds, 1),
    }


def identical_samples(a, b) -> float:
    """Share of samples whose counts are identical in every layer and neuron."""
    same = np.ones(len(a[0]), bool)
    for x, z in zip(a, b):
        same &= (np.asarray(x) == np.asarray(z)).reshape(len(same), -1).all(1)
    return float(same.mean())


def simulate_counts(spec, inputs, chunk: int = 64) -> list[np.ndarray]:
    """Per-layer counts (N, C, H, W) of ``inputs`` (N, T, C, H, W) in ff_neuro's simulator, ``chunk``
    samples at a time."""
    x = torch.as_tensor(inputs).transpose(0, 1)
    parts = [
        [s.sum(0).numpy().astype(np.int64) for s in simulate_spec(spec, x[:, i : i + chunk])]
        for i in range(0, x.shape[1], chunk)
    ]
    return [np.concatenate(c) for c in zip(*parts)]


def goodness_row(spec, counts, ref, y, classes: int) -> dict:
    """Goodness from a client's counts of every image under every label, against ff_neuro's."""
    g, g_ref = goodness_matrix(spec, counts, classes), goodness_matrix(spec, ref, classes)
    pred, ref_pred = g.argmax(1).numpy(), g_ref.argmax(1).numpy()
    return {
        "labels_spike_count_agreement": count_agreement(counts, ref),
        "labels_identical_inputs": identical_samples(counts, ref),
        "goodness_equal": float((g == g_ref).all(1).float().mean()),
        "goodness_max_abs_difference": float((g - g_ref).abs().max()),
        "goodness_identical_predictions": float((pred == ref_pred).mean()),
        "goodness_accuracy": float((pred == y).mean()),
    }


def same_network(a, b) -> bool:
    """True when two specs' layers hold the same arrays and neurons (what a file round trip must keep)."""
    return all(
        np.array_equal(la.weight, lb.weight)
        and np.array_equal(la.bias, lb.bias)
        and (la.stride, la.padding, la.beta, la.threshold, la.reset)
        == (lb.stride, lb.padding, lb.beta, lb.threshold, lb.reset)
        for la, lb in zip(a.layers, b.layers)
    ) and len(a.layers) == len(b.layers)


def client_versions() -> dict:
    """Installed versions of the NIR clients (``None`` where one is missing)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("nir", "nirtorch", "norse", "snntorch", "sinabs"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def verify_nir(path, spec, neutral, labelled, y, clients=NIR_CLIENTS) -> dict:
    """Rows of :func:`verify_export` for a NIR file: ``neutral`` (N, T, C, H, W) inputs with the neutral
    label, ``labelled`` (N·classes, T, C, H, W) every image under every label (sample-major)."""
    import nir

    from .nir_graph import spec_from_nir

    classes = len(labelled) // len(neutral)
    file_spec = spec_from_nir(nir.read(str(path)), spec)
    ref, ref_lab = simulate_counts(file_spec, neutral), simulate_counts(file_spec, labelled)
    ref_pred = head_predictions(spec, ref)
    g_ref = goodness_matrix(spec, ref_lab, classes).argmax(1).numpy()
    rows = {
        "ff_neuro simulate_spec of the file (reference)": {
            "accuracy": float((ref_pred == y).mean()),
            "goodness_accuracy": float((g_ref == y).mean()),
            "file_equals_run_spec": same_network(file_spec, spec),
            "resets": sorted({layer.reset for layer in file_spec.layers}),
        }
    }
    for c in clients:
        t0 = time.perf_counter()
        counts = run_nir_client(c, path, neutral)
        row = _row(spec, counts, ref, y, ref_pred, 0.0)
        row["identical_images"] = identical_samples(counts, ref)
        del counts
        row.update(goodness_row(spec, run_nir_client(c, path, labelled), ref_lab, y, classes))
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows[c] = row
    return rows


def verify_netx(
    path,
    spec,
    net,
    inputs,
    y,
    lava_reference: bool = True,
    emulation_samples: np.ndarray | None = None,
    backend: str = "reference",
) -> dict:
    from .emulate import emulate_fixed
    from .netx import netx_net, netx_report, read_scales
    from .netx_lava import run_netx, subtract_file

    ks, bound = read_scales(path)  # the rescaling the file was written with
    emu = [c.numpy() for c in emulate_fixed(net, inputs)]
    emu_pred = head_predictions(spec, emu)
    rows = {"ff_neuro emulate_fixed (reference)": {"accuracy": float((emu_pred == y).mean())}}
    t0 = time.perf_counter()
    got = run_netx(path, net.encode(inputs), spec.timesteps, backend=backend)
    netx = "lava-dl netx" + (" (netx_reset_subtract)" if subtract_file(path) else "")
    rows[f"{netx} vs emulation"] = _row(spec, got, emu, y, emu_pred, time.perf_counter() - t0)
    if lava_reference:
        from ..lava import run_lava

        t0 = time.perf_counter()
        dep = run_lava(net, inputs, record_counts=True).counts
        rows["ff-neuro deploy --fixed-point (Lava) vs emulation"] = _row(
            spec, dep, emu, y, emu_pred, time.perf_counter() - t0
        )
        rows[f"{netx} vs ff-neuro deploy --fixed-point (Lava)"] = {
            "spike_count_agreement": count_agreement(got, dep),
            "identical_predictions": float(
                (head_predictions(spec, got) == head_predictions(spec, dep)).mean()
            ),
        }
    out = {
        "rows": rows,
        "current_bound": bound,
        "scaling": netx_report(net, ks=ks),
        "lava_models": backend,
    }
    if emulation_samples is not None:
        a = [c.numpy() for c in emulate_fixed(net, emulation_samples)]
        b = [c.numpy() for c in emulate_fixed(netx_net(net, ks=ks), emulation_samples)]
        out["netx_integer_network_vs_deployed_emulation"] = {
            "samples": int(len(emulation_samples)),
            "spike_count_agreement": count_agreement(a, b),
            "identical_predictions": float(
                (head_predictions(spec, a) == head_predictions(spec, b)).mean()
            ),
        }
    return out


def row_text(name: str, row: dict) -> str:
    """One line of a clients.json row: shares in %, seconds, differences and flags as they are."""

    def figure(key, value) -> str:
        if key == "seconds":
            return f"{key} {value} s"
        if isinstance(value, float) and "difference" not in key:
            return f"{key} {100 * value:.4f} %"
        return f"{key} {value}"

    return f"{name:55s} " + "  ".join(figure(k, v) for k, v in row.items())


def verify_export(
    run_dir,
    out,
    fmt: str,
    samples: int = 50,
    profile: str = "loihi2",
    timesteps: int | None = None,
    lava_reference: bool = True,
    emulation_samples: int = 0,
    backend: str = "reference",
) -> dict:
    """Run the export in ``out`` (written by ``ff-neuro export``) in its clients; writes ``out/clients.json``."""
    check_verifiable(fmt, samples)
    out = Path(out)
    run = open_run(run_dir)
    spec, _ = run_spec(run, timesteps)
    x, y, labels = _test_inputs(run, spec, max(samples, emulation_samples))
    inputs = encoded(spec, labels.neutral(x))
    if fmt == "nir":
        labelled = encoded(spec, labels.all_labels(x[:samples]))
        rows = verify_nir(out / "network.nir", spec, inputs[:samples], labelled, y[:samples])
        res = {
            "rows": rows,
            "inputs_per_image": f"neutral label, and each of the {labels.num_classes} labels",
            "client_versions": client_versions(),
        }
    else:
        net = quantize_spec(spec, profile)
        res = verify_netx(
            out / "network.net",
            spec,
            net,
            inputs[:samples],
            y[:samples],
            lava_reference,
            inputs if emulation_samples else None,
            backend,
        )
    res.update(
        {
            "format": fmt,
            "run_dir": str(run_dir),
            "samples": int(samples),
            "timesteps": int(spec.timesteps),
            "hardware": hardware_description(torch.device("cpu")),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }
    )
    atomic_write_json(out / CLIENTS_JSON, res)
    return res
