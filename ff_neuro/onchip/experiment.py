"""``learn_run``: train one FF layer on the frozen spike features of a run, on Lava or the
reference.

Set-up (docs/onchip.md): the run's spiking spec (static variant, T of the run) is frozen up to layer
L; a new dense layer of H neurons learns on layer L's spikes for labelled training images (positive,
then a uniformly drawn wrong label). Init: W ~ N(0, σ²) in threshold units with σ = z_std /
sqrt(E Σ_j r_j²) on 200 calibration windows, rounded to the profile's weight grid (W_int / vth);
θ = the mean goodness of those windows at init. Test: goodness from spike counts (argmax over the
10 labels of Σ_i c_i²) of the first ``test_samples`` test images.

Backends: "reference" (PyTorch, ``batch`` windows per update) or "lava" (the Lava graph, one update
per window; the reference runs the same windows alongside: ``weights_bit_identical``). The curve of
a Lava run scores Lava's weight snapshots with the reference's inference (same integer network).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ..errors import FFNeuroError
from . import reference as ref
from . import rule
from .features import Frozen, rasters, rates, training_windows

METRICS_FILE, CURVE_FILE, WEIGHTS_FILE = (
    "learn_metrics.json",
    "learn_curve.png",
    "learn_weights.npz",
)
BACKENDS = ("lava", "reference")


class LearnError(FFNeuroError):
    """A bad ``ff-neuro learn`` request (layer, samples, profile, backend)."""


class LearnConfig(NamedTuple):
    backend: str = "reference"
    layer: int = 0
    samples: int = 1000
    profile: str = "loihi2"
    hidden: int = 256
    batch: int = 1
    test_samples: int = 1000
    points: int = 8
    z_std: float = 0.5
    alpha: float = 256.0
    lr_shift: int = 19
    headroom: float = 8.0
    rounding: str = "stochastic"
    frac_bits: int = 0  # extra low bits of the learned weight (off: the profile's width)
    decay_shift: int = 0  # weight decay 2^−d per update (0: off)
    saturation_gate: bool = True  # post factor c·[c < T − m]; False: c (straight-through)
    saturation_margin: int = 0  # m of the gate, spiking kinds only (the rate twin's gate is exact)
    seed: int = 0
    rate: bool = False  # also train the rate-coded FF layer on the same schedule
    chunk: int = 500  # windows per raster chunk (memory); samples per input chunk (--layers all)
    layers: str = "one"  # "one": a dense layer on frozen layer L; "all": every trained conv layer
    objective: str = "threshold"  # --layers all: "threshold" | "symba" (pairwise)
    negatives: str = "uniform"  # --layers all: "uniform" | "hard" (drawn ∝ exp(α_h·G) on the chip)
    hard_alpha: float = 128.0  # α_h of the hard-negative draw (mean goodness in spike units)
    hard_layer: int | None = None  # the run's layer whose goodness scores the hard negatives
    split: str = "test"  # --layers all: the images scored ("val" for choosing hyper-parameters)
    lr_steps: tuple[int, ...] = ()  # --layers all: samples from which the learning rate halves


class Setup(NamedTuple):
    frozen: Frozen
    data: object
    params: rule.RuleParams
    w0: np.ndarray  # (H, N) int64 (fixed) or float64 in threshold units
    windows: object
    kind: str  # "fixed" | "float"


def _check(cfg: LearnConfig, spec=None) -> None:
    if spec is not None:
        if not 0 <= cfg.layer < len(spec.layers):
            raise LearnError(
                f"--layer {cfg.layer} is out of range: the run has layers 0..{len(spec.layers) - 1}"
            )
        return
    if cfg.backend not in BACKENDS:
        raise LearnError(f"--backend must be one of {BACKENDS}, got {cfg.backend!r}")
    for name in ("samples", "hidden", "batch", "test_samples", "points", "chunk"):
        if getattr(cfg, name) < 1:
            raise LearnError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(cfg, name)}")
    if cfg.backend == "lava" and cfg.batch != 1:
        raise LearnError(
            "--batch applies to --backend reference only (Lava updates once per window)"
        )
    if cfg.lr_steps and cfg.layers != "all":
        raise LearnError("--lr-steps applies to --layers all")
    if cfg.rounding not in rule.ROUNDINGS:
        raise LearnError(f"--rounding must be one of {rule.ROUNDINGS}, got {cfg.rounding!r}")


def setup(run_dir, cfg: LearnConfig, dataset=None) -> Setup:
    """The frozen layers, the data, the rule parameters and the initial weights of a learning
    run."""
    from ..hardware.profiles import load_profile
    from ..hardware.quantize import float_net, quantize_spec
    from ..spiking.network import labels_for
    from .load import check_fixed_profile, open_spec

    _check(cfg)
    if not (Path(run_dir) / "config.yaml").is_file():
        raise LearnError(
            f"{run_dir} is not a run directory (no config.yaml); train one with ff-neuro train"
        )
    prof = load_profile(cfg.profile)
    if prof.fixed_point:
        check_fixed_profile(prof)
    spec, data = open_spec(run_dir, dataset)
    _check(cfg, spec)
    if spec.encoding != "current":
        raise LearnError(
            f"the learning layer needs current encoding, the run uses {spec.encoding!r}"
        )
    net = quantize_spec(spec, prof, 1.0) if prof.fixed_point else float_net(spec, prof.name)
    frozen = Frozen(spec, net, cfg.layer)
    labels = labels_for(spec)
    win = training_windows(data.train.y, cfg.samples, labels.num_classes, cfg.seed)
    calib = win.image[:200]
    x = torch.from_numpy(data.train.x[calib]).unsqueeze(1).float() / 255.0
    r = rates(frozen, labels.overlay(x, torch.from_numpy(win.label[:200])))
    sigma = cfg.z_std / float(np.sqrt((r**2).sum(1).mean()))
    bits = prof.weight_bits or 8
    vth = rule.default_vth(sigma, bits, cfg.headroom)
    g = torch.Generator().manual_seed(cfg.seed)
    w_f = (
        torch.randn((cfg.hidden, frozen.pre_size), generator=g, dtype=torch.float64).numpy() * sigma
    )
    w_int = np.clip(np.rint(w_f * vth), -(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1).astype(
        np.int64
    )
    theta = float((np.clip(r.numpy() @ (w_int / vth).T, 0, 1) ** 2).mean())
    p = rule.RuleParams(
        frozen.timesteps,
        cfg.hidden,
        theta,
        cfg.alpha,
        cfg.lr_shift,
        vth,
        bits,
        rounding=cfg.rounding,
        seed=cfg.seed,
        frac_bits=cfg.frac_bits if prof.fixed_point else 0,
        decay_shift=cfg.decay_shift,
        saturation_gate=cfg.saturation_gate,
        saturation_margin=cfg.saturation_margin,
    )
    try:
        rule.check_params(p)
    except ValueError as e:
        raise LearnError(str(e)) from None
    kind = "fixed" if prof.fixed_point else "float"
    return Setup(
        frozen, data, p, w_int << p.frac_bits if kind == "fixed" else w_int / vth, win, kind
    )


def float_weights(s: Setup) -> np.ndarray:
    """The initial weights in threshold units (float64): what the rate-coded layer starts from."""
    if s.kind != "fixed":
        return s.w0.astype(np.float64)
    return s.w0.astype(np.float64) / (s.params.vth * 2**s.params.frac_bits)


def _images(split, idx: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(split.x[idx]).unsqueeze(1).float() / 255.0


def window_inputs(s: Setup, kind: str, start: int, stop: int) -> ref.Batch:
    """Inputs of training windows [start, stop): rasters, or rates for kind "rate"."""
    from ..spiking.network import labels_for

    w = s.windows
    x = labels_for(s.frozen.spec).overlay(
        _images(s.data.train, w.image[start:stop]), torch.from_numpy(w.label[start:stop])
    )
    inputs = rates(s.frozen, x) if kind == "rate" else rasters(s.frozen, x)
    return ref.Batch(inputs, w.sign[start:stop])


class TestSet:
    """The first n images of ``split`` (test, or val for choosing hyper-parameters) under every
    label, scored chunk by chunk. The encoded inputs (packed
    bits or rates) are kept between scorings while they fit in ``cache_bytes``; beyond that they are
    encoded again at each scoring, so memory stays bounded whatever n and T."""

    CACHE_BYTES = 512 * 2**20

    def __init__(
        self,
        s: Setup,
        n: int,
        kind: str,
        chunk: int = 100,
        cache_bytes: int | None = None,
        split: str = "test",
    ):
        from ..spiking.network import labels_for

        self.labels = labels_for(s.frozen.spec)
        self.C, self.kind, self.T = self.labels.num_classes, kind, s.frozen.timesteps
        self.frozen, self.n_pre, self.chunk = s.frozen, s.frozen.pre_size, chunk
        if split not in ("test", "val"):
            raise LearnError(f"split must be test or val, got {split!r}")
        self.x, y = getattr(s.data, split).tensors(n)  # val: for choosing hyper-parameters
        self.y = y.numpy()
        self.starts = list(range(0, len(self.y), chunk))
        per_input = self.n_pre * 4 if kind == "rate" else self.T * ((self.n_pre + 7) // 8)
        budget = self.CACHE_BYTES if cache_bytes is None else cache_bytes
        fits = len(self.y) * self.C * per_input <= budget
        self.parts = [self._encode(i) for i in self.starts] if fits else None

    @property
    def cached(self) -> bool:
        return self.parts is not None

    def _encode(self, start: int):
        xl = self.labels.all_labels(self.x[start : start + self.chunk])
        if self.kind == "rate":
            return rates(self.frozen, xl).float()
        return np.packbits(rasters(self.frozen, xl).numpy(), axis=-1)

    def hits(self, w: np.ndarray, p: rule.RuleParams) -> np.ndarray:
        """(n,) bool: goodness predicts the label of test image i."""
        out = []
        for k, start in enumerate(self.starts):
            part = self._encode(start) if self.parts is None else self.parts[k]
            inp = (
                part
                if self.kind == "rate"
                else torch.from_numpy(np.unpackbits(part, axis=-1, count=self.n_pre))
            )
            g = ref.goodness_scores(w, inp, self.kind, p, self.C)
            out.append((g.argmax(1) == torch.as_tensor(self.y[start : start + len(g)])).numpy())
        return np.concatenate(out)

    def accuracy(self, w: np.ndarray, p: rule.RuleParams) -> float:
        return float(self.hits(w, p).mean())


class Activity(NamedTuple):
    """Sums over training windows: pre spikes, post spikes, weight updates (non-zero products)."""

    windows: int = 0
    pre_spikes: float = 0.0
    post_spikes: float = 0.0
    weight_updates: float = 0.0

    def add(
        self, x: np.ndarray, c: np.ndarray, e_nonzero: np.ndarray, p: rule.RuleParams
    ) -> Activity:
        post = rule.post_of(c, p) != 0
        upd = ((post.sum(1) * e_nonzero) * (x != 0).sum(1)).sum()
        return Activity(
            self.windows + len(x),
            self.pre_spikes + float(x.sum()),
            self.post_spikes + float(c.sum()),
            self.weight_updates + float(upd),
        )


def marks(windows: int, points: int, batch: int = 1) -> list[int]:
    """Window counts at which the curve is measured: ``points`` evenly spaced, multiples of
    ``batch``."""
    raw = {
        min(windows, -(-round(windows * (i + 1) / points) // batch) * batch) for i in range(points)
    }
    return sorted(raw)


def train_reference(s: Setup, cfg: LearnConfig, kind: str, test: TestSet, bar=None):
    """Reference training over all windows; returns (W, curve, seconds, Activity)."""
    p, n = s.params if kind != "rate" else rule.twin_params(s.params), len(s.windows.sign)
    w = float_weights(s) if kind != "fixed" else s.w0.copy()
    todo, curve, act, secs, epoch, done = marks(n, cfg.points, cfg.batch), [], Activity(), 0.0, 0, 0
    chunk = max(1, cfg.chunk // cfg.batch) * cfg.batch
    for start in range(0, n, chunk):
        inputs = window_inputs(s, kind, start, min(n, start + chunk))
        t0 = time.perf_counter()
        for i in range(0, len(inputs.signs), cfg.batch):
            b = ref.Batch(inputs.inputs[i : i + cfg.batch], inputs.signs[i : i + cfg.batch])
            c = ref.learn_batch(w, b, kind, p, epoch)
            epoch, done = epoch + 1, done + len(b.signs)
            if kind != "rate":
                act = act.add(
                    ref.pre_counts(b.inputs, kind, p.timesteps),
                    c,
                    np.ones(len(c), bool),
                    p,
                )
            if bar is not None:
                bar.update(len(b.signs))
            if todo and done >= todo[0]:
                secs += time.perf_counter() - t0
                curve.append({"windows": done, "test_acc_goodness": test.accuracy(w, p)})
                todo.pop(0)
                t0 = time.perf_counter()
        secs += time.perf_counter() - t0
    return w, curve, secs, act


def lava_raster(s: Setup, path: Path, cfg: LearnConfig, bar=None) -> None:
    """Write the packed rasters of all training windows to ``path`` (chunk by chunk)."""
    n, T = len(s.windows.sign), s.frozen.timesteps
    out = np.lib.format.open_memmap(path, "w+", np.uint8, (n, T, -(-s.frozen.pre_size // 8)))
    for start in range(0, n, cfg.chunk):
        stop = min(n, start + cfg.chunk)
        out[start:stop] = np.packbits(window_inputs(s, s.kind, start, stop).inputs.numpy(), axis=-1)
        if bar is not None:
            bar.update(stop - start)
    out.flush()
    del out


def train_lava(s: Setup, cfg: LearnConfig, test: TestSet, bars):
    """Lava training; the reference runs the same windows. Returns (W, curve, info, Activity)."""
    from .lava_run import run_learning

    n, p = len(s.windows.sign), s.params
    every = max(1, n // cfg.points)
    with tempfile.TemporaryDirectory(prefix="ff_neuro_learn_") as tmp:
        path = Path(tmp) / "raster.npy"
        lava_raster(s, path, cfg, bars.get("raster"))
        lava_bar = bars.get("lava")
        res = run_learning(
            s.w0,
            path,
            s.windows.sign,
            p,
            s.kind == "fixed",
            every,
            on_chunk=(lambda d, t: lava_bar.update(d - lava_bar.n)) if lava_bar else None,
        )
        packed = np.load(path, mmap_mode="r")
        w, snaps, act = s.w0.copy(), [], Activity()
        t0 = time.perf_counter()
        for k in range(n):
            inp = torch.from_numpy(
                np.unpackbits(packed[k : k + 1], axis=-1, count=s.frozen.pre_size)
            )
            c = ref.learn_batch(w, ref.Batch(inp, s.windows.sign[k : k + 1]), s.kind, p, k)
            act = act.add(ref.pre_counts(inp, s.kind, p.timesteps), c, np.ones(1, bool), p)
            if k + 1 in res.marks:
                snaps.append(w.copy())
        ref_s = time.perf_counter() - t0
        del packed
    same = [bool(np.array_equal(a, b)) for a, b in zip(res.snapshots, snaps)]
    rel = max(
        float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))
        for a, b in zip(res.snapshots, snaps)
    )
    curve = [
        {"windows": m, "test_acc_goodness": test.accuracy(wl.astype(w.dtype), p)}
        for m, wl in zip(res.marks, res.snapshots)
    ]
    info = {
        "weights_bit_identical": all(same) if s.kind == "fixed" else None,
        "snapshots_identical": same,
        "weights_max_rel_diff": rel,
        "ms_per_step": res.ms_per_step,
        "lava_steps": res.steps,
        "lava_run_seconds": round(res.run_seconds, 2),
        "lava_build_seconds": round(res.build_seconds, 2),
        "reference_seconds": round(ref_s, 2),
        "goodness_records_match": bool(np.all(res.records[:, 1] * s.windows.sign >= 0)),
    }
    return res.snapshots[-1].astype(w.dtype), curve, info, act


def learning_energy(act: Activity, profile: str, hidden: int, timesteps: int) -> dict:
    """Per training sample (2 windows): synops, spikes, neuron and weight updates, and the energy
    with the profile's per-op figures; a weight update is costed as one synaptic op (assumption:
    no profile publishes the learning engine's energy)."""
    from ..hardware.profiles import load_profile

    per = 2.0 / max(act.windows, 1)
    ops = {
        "synops": act.pre_spikes * hidden * per,
        "post_spikes": act.post_spikes * per,
        "neuron_updates": 2.0 * hidden * timesteps,
        "weight_updates": act.weight_updates * per,
    }
    out = {"per_sample": ops}
    for name in dict.fromkeys([profile, "loihi"]):
        prof = load_profile(name)
        if prof.energy_per_synop_j is None:
            out[name] = None
            continue
        e = (ops["synops"] + ops["weight_updates"]) * prof.energy_per_synop_j
        e += ops["neuron_updates"] * (prof.energy_per_neuron_update_j or 0.0)
        e += ops["post_spikes"] * (prof.energy_per_spike_j or 0.0)
        out[name] = {
            "energy_per_sample_j": e,
            "assumption": "weight update = one synaptic op (no published learning energy)",
        }
    return out


def _bar(total: int, desc: str, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="win", smoothing=0.05)


def learn_run(
    run_dir,
    cfg: LearnConfig,
    dataset=None,
    progress: bool = True,
    metrics_path: str | Path | None = None,
    write: bool = True,
) -> dict:
    """Train the learning layer (``cfg``), measure goodness before/after, write the metrics,
    the learning curve and the weights. Returns the metrics dict."""
    from ..io import atomic_write_json
    from ..runtime import hardware_description

    t_start = time.perf_counter()
    run_dir = Path(run_dir)
    s = setup(run_dir, cfg, dataset)
    n = len(s.windows.sign)
    test = TestSet(s, cfg.test_samples, s.kind)
    before = test.accuracy(s.w0, s.params)
    bars = {
        k: _bar(n, d, progress)
        for k, d in (("raster", "rasters"), ("lava", "Lava windows"), ("ref", "reference windows"))
    }
    if cfg.backend == "lava":
        for k in ("ref",):
            if bars[k] is not None:
                bars[k].close()
        w, curve, info, act = train_lava(s, cfg, test, bars)
    else:
        for k in ("raster", "lava"):
            if bars[k] is not None:
                bars[k].close()
        t0 = time.perf_counter()
        w, curve, secs, act = train_reference(s, cfg, s.kind, test, bars["ref"])
        info = {
            "weights_bit_identical": None,
            "ms_per_step": None,
            "reference_seconds": round(secs, 2),
            "reference_wall_seconds": round(time.perf_counter() - t0, 2),
            "ms_per_window": 1000.0 * secs / n,
        }
    for b in bars.values():
        if b is not None:
            b.close()
    after = curve[-1]["test_acc_goodness"]
    rate = None
    if cfg.rate:
        rate_test = TestSet(s, cfg.test_samples, "rate")
        rate_cfg = cfg._replace(batch=cfg.batch if cfg.backend == "reference" else 1)
        w0r = float_weights(s)
        _, rcurve, rsecs, _ = train_reference(
            s, rate_cfg, "rate", rate_test, _bar(n, "rate-coded", progress)
        )
        rate = {
            "test_acc_goodness_before": rate_test.accuracy(w0r, s.params),
            "test_acc_goodness_after": rcurve[-1]["test_acc_goodness"],
            "curve": rcurve,
            "seconds": round(rsecs, 2),
            "batch": rate_cfg.batch,
            "what": "same layer, init, θ, α, learning rate and windows; counts replaced by T·rates "
            "of the rate model (exact SGD on the FF loss), float64",
        }
    run_metrics = run_dir / "metrics.json"
    torch_model = None
    if run_metrics.is_file():
        import json

        m = json.loads(run_metrics.read_text())
        torch_model = {
            "test_acc_goodness": m.get("test_acc_goodness"),
            "test_acc_linear": m.get("test_acc_linear"),
            "what": "the run's own torch-trained rate model (all its layers)",
        }
    metrics = {
        "backend": cfg.backend,
        "profile": cfg.profile,
        "fixed_point": s.kind == "fixed",
        "layer": cfg.layer,
        "hidden": cfg.hidden,
        "pre_neurons": s.frozen.pre_size,
        "samples": cfg.samples,
        "windows": n,
        "batch": cfg.batch if cfg.backend == "reference" else 1,
        "timesteps": s.params.timesteps,
        "test_samples": len(test.y),
        "test_acc_goodness_before": before,
        "test_acc_goodness_after": after,
        "curve": [{"windows": 0, "test_acc_goodness": before}] + curve,
        **info,
        "learning_energy": learning_energy(act, cfg.profile, cfg.hidden, s.params.timesteps),
        "rate_coded": rate,
        "torch_rate_model": torch_model,
        "rule": s.params._asdict(),
        "config": cfg._asdict(),
        "wall_seconds": round(time.perf_counter() - t_start, 2),
        "torch_threads": torch.get_num_threads(),
        "hardware": hardware_description(torch.device("cpu")),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if write:
        path = Path(metrics_path) if metrics_path else run_dir / METRICS_FILE
        atomic_write_json(path, metrics)
        np.savez_compressed(path.with_name(path.stem + "_weights.npz"), w=w, w0=s.w0)
        from .plot import plot_learning_curve

        plot_learning_curve(
            metrics, path.with_suffix(".png") if metrics_path else run_dir / CURVE_FILE
        )
    return metrics
