"""From a trained FF run (rate or spiking) to a :class:`SpikingNetSpec`.

Rate model:  a_l = ReLU(W_l · rms_norm(a_{l−1}) + b_l),  a_{−1} = x' (the labelled image).
Data-based normalisation: λ_l = the ``percentile`` of the positive activations a_l over calibration
images (training images with their true label and with the neutral label). Layer l of the SNN gets
threshold 1, no leak (beta = 1), and the per-step current

    I_l[t] = g_l · (W_l ∗ s_{l−1}[t]) / λ_l + b_l / λ_l

so that its firing rate r_l ≈ a_l / λ_l (up to the reset-to-zero distortion r = 1/(⌊1/I⌋ + 1)
for a constant current I). Since rms_norm is scale-free, rms_norm(a_{l−1}) ≈ rms_norm(r_{l−1}):

  * variant "exact"  (simulation only): g_l = 1 / rms(r_{l−1}) per sample, from the whole window;
  * variant "static" (deployable):      g_l = 1 / ρ_{l−1}, one number per layer folded into W_l, with
    ρ_{l−1} = mean over calibration images of rms(r_{l−1}); calibration "spikes" measures r_{l−1}
    in the simulated static network itself, layer by layer (so it includes the spiking distortion
    and the encoding); calibration "rate" uses ρ_{l−1} = mean rms(a_{l−1}) / λ_{l−1}.

A rate model trained in spike units (``model.norm: none`` with a bounded ``model.activation``, relu1
or ifzero: a_l = ψ(W_l · a_{l−1} + b_l) with rates in spikes per step) converts as it is: λ_l = 1,
no gain (``native``; "exact" and "static" are then the same network).

A directly trained spiking run (kind "spiking") keeps its own weights, threshold and beta (λ = 1):
"exact" is the trained network itself (per-sample RMS input gain), "static" folds ρ as above.
The linear head is reused unchanged on rms_norm(count/T) features.
"""

from __future__ import annotations

import numpy as np
import torch

from ..config import Config
from ..data.datasets import Dataset
from ..data.labels import FourierLabels
from ..ff.classify import LinearHead
from ..ff.network import FFNet
from ..ff.run import open_run
from .encoding import check_encoding, check_timesteps, encode
from .errors import SpikingError, VariantError
from .lif import LIFParams
from .network import torch_layers
from .simulate import rms_gain, simulate_layer
from .spec import LIFConvSpec, SpikingNetSpec

VARIANTS = ("exact", "static")
CALIBRATIONS = ("spikes", "rate")
KINDS = ("rate", "spiking")


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise VariantError(f"unknown spiking variant {variant!r}; choose one of {list(VARIANTS)}")
    return variant


def is_native(cfg: Config) -> bool:
    """True when a rate model is trained in spike units: no per-sample normalisation, bounded rates."""
    return cfg.model.spike_units


def neuron_reset(cfg: Config) -> str:
    """The LIF reset whose rate function the model was trained with: relu1 in spike units is the rate of
    reset by subtraction (min(max(I, 0), 1)); everything else converts to Lava's reset to zero."""
    return "subtract" if is_native(cfg) and cfg.model.activation == "relu1" else "zero"


def calibration_inputs(labels: FourierLabels, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Labelled calibration images: each image with its true label and with the neutral label."""
    return torch.cat([labels.overlay(x, y), labels.neutral(x)])


@torch.no_grad()
def activation_scales(
    net: FFNet, x_labelled: torch.Tensor, percentile: float
) -> tuple[list[float], list[float]]:
    """(λ_l, mean rms(a_l)) per layer: the ``percentile`` of positive ReLU activations, and the mean RMS."""
    lams, rms = [], []
    for a in net(x_labelled):
        pos = a[a > 0].flatten()
        if pos.numel() > 2_000_000:
            pos = pos[
                torch.randperm(pos.numel(), generator=torch.Generator().manual_seed(0))[:2_000_000]
            ]
        lams.append(float(np.percentile(pos.cpu().numpy(), percentile)) if pos.numel() else 1.0)
        rms.append(float(a.flatten(1).pow(2).mean(1).sqrt().mean()))
    return lams, rms


CALIB_BATCH_STEPS = 256  # calibration chunks: T · images ≤ this (as in evaluation), so memory does not grow with T or N


@torch.no_grad()
def mean_window_rms(
    layers: list[LIFConvSpec],
    x_labelled: torch.Tensor,
    timesteps: int,
    encoding: str,
    seed: int = 0,
) -> float:
    """Mean over images of rms(r), r = the window rate of the last of ``layers`` (of the encoded input
    when ``layers`` is empty), simulated in chunks of ≤ CALIB_BATCH_STEPS image-steps. Chunk k's rate
    encoding is drawn from a generator seeded with (seed, k), so every call sees the same input spikes."""
    chunk = max(1, CALIB_BATCH_STEPS // timesteps)
    specs = torch_layers(SpikingNetSpec(layers, timesteps, encoding, [], []), x_labelled.device)
    total = 0.0
    for k, i in enumerate(range(0, x_labelled.shape[0], chunk)):
        gen = torch.Generator().manual_seed(seed * 1_000_003 + k)
        s = encode(x_labelled[i : i + chunk], timesteps, encoding, gen).float()
        for layer in specs:
            s = simulate_layer(s, **layer)
        total += float((1.0 / rms_gain(s)).sum())
    return total / x_labelled.shape[0]


@torch.no_grad()
def convert(
    net: FFNet,
    head: LinearHead,
    labels: FourierLabels,
    cfg: Config,
    kind: str,
    calib_x: torch.Tensor,
    calib_y: torch.Tensor,
    timesteps: int,
    encoding: str,
    variant: str = "static",
    calibration: str = "spikes",
    percentile: float = 99.9,
    seed: int = 0,
) -> SpikingNetSpec:
    """The spec of ``variant`` for a trained network; ``calib_*`` are training images (N, 1, H, W) and labels.

    Calibration is simulated in chunks (:func:`mean_window_rms`): memory is bounded whatever T and N."""
    check_timesteps(timesteps)
    check_encoding(encoding)
    check_variant(variant)
    if calibration not in CALIBRATIONS:
        raise SpikingError(
            f"unknown calibration {calibration!r}; choose one of {list(CALIBRATIONS)}"
        )
    if kind == "spiking" and calibration == "rate":
        calibration = "spikes"  # a directly trained SNN has no rate activations to calibrate on
    xl = calibration_inputs(labels, calib_x, calib_y)
    n_layers = len(net.layers)
    native = is_native(cfg)
    reset = neuron_reset(cfg)
    p = (
        LIFParams(1.0, 1.0, reset)
        if kind == "rate"
        else LIFParams(float(cfg.spiking.beta), float(cfg.spiking.threshold), reset)
    )
    rms_a = None
    if native:
        lams = cfg.model.scales
    elif kind == "rate":
        lams, rms_a = activation_scales(net, xl, percentile)
    else:
        lams = [1.0] * n_layers
    # trained without any input gain: nothing to normalise
    static_in = native or (kind == "spiking" and cfg.spiking.input_norm == "none")
    exact = variant == "exact" and not static_in
    shape = tuple(int(v) for v in xl.shape[1:])
    layers: list[LIFConvSpec] = []
    rhos = []
    for i, (layer, out_shape) in enumerate(zip(net.layers, net.shapes)):
        conv = layer.conv
        w = conv.weight.detach().float() / lams[i]
        if native and i > 0:
            w = w * lams[i - 1]  # the input is the spike rate r = a/λ of the previous layer
        b = (
            conv.bias.detach().float() if conv.bias is not None else torch.zeros(conv.out_channels)
        ) / lams[i]
        if variant == "static" and not static_in:
            if i == 0 or calibration == "spikes":
                rho = mean_window_rms(layers, xl, timesteps, encoding, seed)
            else:
                rho = rms_a[i - 1] / lams[i - 1]
            rhos.append(rho)
            w = w / rho
        layers.append(
            LIFConvSpec(
                weight=w.cpu().numpy().astype(np.float32),
                bias=b.cpu().numpy().astype(np.float32),
                stride=int(conv.stride[0]),
                padding=int(conv.padding[0]),
                beta=p.beta,
                threshold=p.threshold,
                in_shape=shape,
                out_shape=tuple(int(v) for v in out_shape),
                act_scale=float(lams[i]),
                rms_input=exact,
                reset=p.reset,
            )
        )
        shape = layers[-1].out_shape
    if kind == "rate":
        thresholds = [net.thresholds[i] / lams[i] ** 2 for i in range(n_layers)]
    else:
        thresholds = [cfg.spiking.readout_scale * float(np.prod(s.out_shape)) for s in layers]
    meta = {
        "variant": variant,
        "source_kind": kind,
        "native": native,
        "goodness_measure": cfg.goodness.measure,
        "calibration": calibration if variant == "static" else None,
        "percentile": percentile if kind == "rate" and not native else None,
        "rho": rhos or None,
        "calibration_images": int(calib_x.shape[0]),
        "calibration_seed": seed,
        "goodness_thresholds": thresholds,
        "labels": labels.meta(),
        "in_shape": list(net.in_shape),
        "config_name": cfg.name,
    }
    return SpikingNetSpec(
        layers,
        timesteps,
        encoding,
        cfg.model.score_layers,
        list(cfg.model.readout_layers),
        head.fc.weight.detach().cpu().numpy().astype(np.float32),
        head.fc.bias.detach().cpu().numpy().astype(np.float32),
        meta,
    )


def spiking_spec_from_run(
    run,
    timesteps: int | None = None,
    encoding: str | None = None,
    variant: str = "static",
    calibration: str = "spikes",
    percentile: float = 99.9,
    calib_samples: int = 200,
    dataset: Dataset | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> SpikingNetSpec:
    """Convert a run's best checkpoint (``run``: a run directory or an open
    :class:`~ff_neuro.ff.run.Run`). Defaults: T and encoding of the run's ``spiking`` config;
    ``variant="static"`` is the deployable one (what Lava runs). This always converts: the spec that
    ``ff-neuro spike`` saved is loaded by :func:`ff_neuro.spiking.store.run_spec`."""
    run = open_run(run, device, dataset=dataset)
    cfg = run.cfg
    T = cfg.spiking.timesteps if timesteps is None else timesteps
    enc = cfg.spiking.encoding if encoding is None else encoding
    check_timesteps(T)
    check_encoding(enc)
    check_variant(variant)
    net, head, labels = run.parts
    cx, cy = run.calibration_images(calib_samples, seed)
    return convert(
        net,
        head,
        labels,
        cfg,
        run.kind,
        cx.to(run.device),
        cy.to(run.device),
        T,
        enc,
        variant,
        calibration,
        percentile,
        seed,
    )
