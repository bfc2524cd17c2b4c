"""Running sums of a chunked Lava deployment: accuracy, spike-count agreement, activity, timing, progress,
and the class predicted for every image (linear head and goodness).

Agreement is counted over (sample, neuron) pairs of all layers: a pair agrees when both models give
the neuron the same spike count for that sample. The linear head's predictions on Lava also come
from the few numbers the graph returns (Dense readouts and Σc² per layer):
W_l·rms_norm(c_l/T) = R_l / (T·sqrt(Σc_l²/(N_l T²) + ε)).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ..ff.functional import EPS
from ..hardware.cost import activity
from ..hardware.emulate import emulate_fixed
from ..hardware.quantize import LoihiNet, float_net
from ..spiking.network import simulate_spec
from ..spiking.readout import goodness_predictions
from ..spiking.readout import head_predictions as predictions
from .graph import run_lava


def reference_counts(spec, net: LoihiNet, inputs: np.ndarray) -> tuple[list[np.ndarray], float]:
    """Per-layer counts of the reference model (snnTorch simulate_spec, or the fixed-point emulation)
    and its sample-steps per second."""
    t0 = time.perf_counter()
    if net.fixed_point:
        counts = [c.numpy() for c in emulate_fixed(net, inputs)]
    else:
        x = torch.as_tensor(inputs).transpose(0, 1)
        counts = []
        for i in range(0, x.shape[1], 64):
            trains = simulate_spec(spec, x[:, i : i + 64].contiguous())
            counts.append([s.sum(0).numpy().astype(np.int64) for s in trains])
        counts = [np.concatenate(c) for c in zip(*counts)]
    sec = time.perf_counter() - t0
    return counts, inputs.shape[0] * inputs.shape[1] / max(sec, 1e-9)


def agreeing_pairs(a: list[np.ndarray], b: list[np.ndarray]) -> tuple[int, int]:
    """(agreeing, all) (sample, neuron) pairs over all layers."""
    return sum(int((x == y).sum()) for x, y in zip(a, b)), sum(x.size for x in a)


def agreement(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """Fraction of (sample, neuron) pairs, over all layers, with identical spike counts."""
    same, pairs = agreeing_pairs(a, b)
    return same / pairs


def identical_samples(a: list[np.ndarray], b: list[np.ndarray]) -> int:
    """Number of samples whose counts agree in every neuron of every layer."""
    return int(
        np.logical_and.reduce([(x == y).reshape(len(x), -1).all(1) for x, y in zip(a, b)]).sum()
    )


def readout_predictions(spec, readout: list[np.ndarray], stats: np.ndarray) -> np.ndarray:
    """Linear-head predictions from the few numbers Lava returns: the Dense readouts R_l = W_l · c_l and
    the per-layer Σ c_l² of the window counters, since W_l · rms_norm(c_l / T) = R_l / (T · sqrt(Σc_l² / (N_l T²) + ε))."""
    logits = np.asarray(spec.head_bias, np.float64)[None, :].repeat(len(stats), 0)
    T = spec.timesteps
    for r, l in zip(readout, spec.readout_layers):
        n = float(np.prod(spec.layers[l].out_shape))
        logits = logits + r / T / np.sqrt(stats[:, l, 1] / (n * T * T) + EPS)[:, None]
    return logits.argmax(1)


def _activity(net: LoihiNet, inputs: np.ndarray, counts) -> dict:
    return activity(net.layers, inputs, counts)


class Tally:
    """Running sums of a chunked deployment (accuracy hits, agreeing pairs, activity, timings, progress)."""

    def __init__(self, progress, total: int):
        self.progress, self.total, self.done = progress, total, 0
        self.hits = self.ref_hits = self.same = self.pairs = self.identical = self.readout_same = 0
        self.u_same = self.u_hits = self.g_hits = self.g_ref_hits = self.g_same = self.g_pairs = 0
        self.steps = self.graphs = self.lava_samples = self.ref_samples = 0
        self.run_s = self.build_s = self.ref_s = 0.0
        self.act: dict[str, float] = {}
        self.predicted: dict[str, list[int]] = {"linear": [], "goodness": []}  # per image, in order
        self.check = {"samples": 0, "same": 0, "pairs": 0, "identical": 0, "steps": 0, "run_s": 0.0}

    def lava(self, net, inputs, readout: bool, backend: str):
        base = self.done

        def step(done, steps):
            self.done = base + done
            if self.progress:
                self.progress(self.done, self.total)

        res = run_lava(
            net,
            inputs,
            record_counts=True,
            readout=readout,
            backend=backend,
            on_chunk=step,
            chunk_steps=None if self.progress is None else 20 * net.timesteps,
        )
        self.steps += res.steps
        self.run_s += res.run_seconds
        self.build_s += res.build_seconds
        self.graphs += 1
        self.lava_samples += len(inputs)
        return res

    def reference(self, spec, net, inputs):
        t0 = time.perf_counter()
        ref = reference_counts(spec, net, inputs)[0]
        self.ref_s += time.perf_counter() - t0
        self.ref_samples += len(inputs)
        return ref

    def add_linear(self, spec, net, inputs, y, res, ref) -> None:
        pred = predictions(spec, res.counts)
        self.predicted["linear"] += pred.tolist()
        self.hits += int((pred == y).sum())
        self.ref_hits += int((predictions(spec, ref) == y).sum())
        same, pairs = agreeing_pairs(res.counts, ref)
        self.same += same
        self.pairs += pairs
        self.identical += identical_samples(res.counts, ref)
        if (
            res.readout is not None
        ):  # the on-Lava Dense readout gives the same predictions from a few numbers
            self.readout_same += int(
                (readout_predictions(spec, res.readout, res.stats) == pred).sum()
            )
        for k, v in _activity(net, inputs, res.counts).items():
            self.act[k] = self.act.get(k, 0.0) + v * len(y)

    def add_unrounded(self, spec0, inputs0, y, counts) -> None:
        ref0 = reference_counts(spec0, float_net(spec0), inputs0)[0]
        self.u_same += agreeing_pairs(counts, ref0)[0]
        self.u_hits += int((predictions(spec0, ref0) == y).sum())

    def add_goodness(self, spec, classes: int, y, counts, ref) -> None:
        pred = goodness_predictions(spec, counts, classes)
        self.predicted["goodness"] += pred.tolist()
        self.g_hits += int((pred == y).sum())
        self.g_ref_hits += int((goodness_predictions(spec, ref, classes) == y).sum())
        same, pairs = agreeing_pairs(counts, ref)
        self.g_same += same
        self.g_pairs += pairs

    def add_reference_backend(self, net, inputs, fast_counts) -> None:
        res = self.lava(net, inputs, readout=False, backend="reference")
        c = self.check
        c["samples"] += len(inputs)
        same, pairs = agreeing_pairs(res.counts, fast_counts)
        c["same"] += same
        c["pairs"] += pairs
        c["identical"] += identical_samples(res.counts, fast_counts)
        c["steps"] += res.steps
        c["run_s"] += res.run_seconds
        self.steps -= res.steps  # keep the reference models' steps out of the fast ms/step
        self.run_s -= res.run_seconds
        self.lava_samples -= len(inputs)

    def backend_check(self, requested: int) -> dict | None:
        c = self.check
        if not requested:
            return None
        return {
            "models": "Lava reference (lava.proc conv/lif models)",
            "samples": c["samples"],
            "spike_count_agreement": c["same"] / max(c["pairs"], 1),
            "identical_samples": c["identical"],
            "reference_ms_per_step": 1000 * c["run_s"] / max(c["steps"], 1),
        }
