"""Check an export in the real clients: ``ff-neuro export … --verify N`` → ``clients.json`` beside it.

On the first N test images of the run's dataset (neutral label, the spec's encoding), per client:
spike-count agreement (share of (image, neuron) pairs with identical counts, all layers), the share of
identical linear-head predictions, and the client's accuracy. References:

  * netx: ``ff-neuro deploy --fixed-point`` on the same images: its Lava graph (``run_lava``, fixed_pt)
    and its bit-exact integer emulation (``emulate_fixed``); also the emulation of the integer network
    netx runs (:func:`~ff_neuro.hardware.netx.netx_net`) against the deployed one on ``emulation_samples``
    images, which measures what the bias_exp = 6 rescaling changes without Lava;
  * NIR: ff_neuro's float simulator (``simulate_spec``) of the exported spec.
"""

from __future__ import annotations

import datetime as dt
import platform
import time
from pathlib import Path

import numpy as np

from ..ff.run import open_run
from ..io import atomic_write_json
from ..spiking import simulate_spec
from ..spiking.network import labels_for
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


def verify_nir(path, spec, inputs, y, clients=NIR_CLIENTS) -> dict:
    import torch

    x = torch.as_tensor(inputs).transpose(0, 1)
    ref = [
        np.concatenate(c)
        for c in zip(
            *[
                [s.sum(0).numpy().astype(np.int64) for s in simulate_spec(spec, x[:, i : i + 64])]
                for i in range(0, x.shape[1], 64)
            ]
        )
    ]
    ref_pred = head_predictions(spec, ref)
    rows = {"ff_neuro simulate_spec (reference)": {"accuracy": float((ref_pred == y).mean())}}
    for c in clients:
        t0 = time.perf_counter()
        rows[c] = _row(
            spec, run_nir_client(c, path, inputs), ref, y, ref_pred, time.perf_counter() - t0
        )
    return rows


def verify_netx(
    path,
    spec,
    net,
    inputs,
    y,
    lava_reference: bool = True,
    emulation_samples: np.ndarray | None = None,
) -> dict:
    from .emulate import emulate_fixed
    from .netx import netx_net, netx_report, read_scales
    from .netx_lava import run_netx

    ks, bound = read_scales(path)  # the rescaling the file was written with
    emu = [c.numpy() for c in emulate_fixed(net, inputs)]
    emu_pred = head_predictions(spec, emu)
    rows = {"ff_neuro emulate_fixed (reference)": {"accuracy": float((emu_pred == y).mean())}}
    t0 = time.perf_counter()
    got = run_netx(path, net.encode(inputs), spec.timesteps)
    rows["lava-dl netx vs emulation"] = _row(spec, got, emu, y, emu_pred, time.perf_counter() - t0)
    if lava_reference:
        from ..lava import run_lava

        t0 = time.perf_counter()
        dep = run_lava(net, inputs, record_counts=True).counts
        rows["ff-neuro deploy --fixed-point (Lava) vs emulation"] = _row(
            spec, dep, emu, y, emu_pred, time.perf_counter() - t0
        )
        rows["lava-dl netx vs ff-neuro deploy --fixed-point (Lava)"] = {
            "spike_count_agreement": count_agreement(got, dep),
            "identical_predictions": float(
                (head_predictions(spec, got) == head_predictions(spec, dep)).mean()
            ),
        }
    out = {"rows": rows, "current_bound": bound, "scaling": netx_report(net, ks=ks)}
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


def verify_export(
    run_dir,
    out,
    fmt: str,
    samples: int = 50,
    profile: str = "loihi2",
    timesteps: int | None = None,
    lava_reference: bool = True,
    emulation_samples: int = 0,
) -> dict:
    """Run the export in ``out`` (written by ``ff-neuro export``) in its clients; writes ``out/clients.json``."""
    check_verifiable(fmt, samples)
    out = Path(out)
    run = open_run(run_dir)
    spec, _ = run_spec(run, timesteps)
    x, y, labels = _test_inputs(run, spec, max(samples, emulation_samples))
    inputs = encoded(spec, labels.neutral(x))
    if fmt == "nir":
        res = {"rows": verify_nir(out / "network.nir", spec, inputs[:samples], y[:samples])}
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
        )
    res.update(
        {
            "format": fmt,
            "run_dir": str(run_dir),
            "samples": int(samples),
            "timesteps": int(spec.timesteps),
            "hardware": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }
    )
    atomic_write_json(out / CLIENTS_JSON, res)
    return res
