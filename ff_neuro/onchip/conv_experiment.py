"""``learn_network``: every trained conv layer of a run learns by the on-chip FF rule, on Lava or the
reference (``ff-neuro learn RUN --layers all``; docs/onchip.md, "Every trained conv layer learning in one Lava graph").

Set-up: the run's spiking spec (static variant, T of the run); its untrained leading layers (the
config's ``train: false``, layer 0 of ``mnist-quick``) stay frozen with the spec's parameters, and
every trained layer is replaced by a plastic conv of the same geometry (no bias, threshold 1 in
float units) that learns from scratch. Init, layer by layer on 200 calibration windows of the
rate model: K ~ N(0, σ_l²) in threshold units with σ_l = z_std / sqrt(E Σ_patch r²) (the layer's
fan-in rates), rounded to the weight grid W_int / vth_l, vth_l = ⌊w_max / (headroom · σ_l)⌋;
θ_l = the mean goodness of the layer at init. ``lr_steps`` (samples) become the rule's window
indices (a sample's first window), so the learning rate halves from that sample on. Test: goodness from spike counts (argmax over the
labels of Σ c²) of each plastic layer, and of the run's goodness layers summed (mean goodness).

Backends: "reference" (``conv_reference``; ``batch`` samples per update) and "lava" (one Lava graph,
``conv_lava``; the sequential reference runs the same windows alongside and every plastic layer's
kernel is compared at every snapshot). The curves score the snapshots with the reference's
inference (the same integer network).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from . import conv_reference as cref
from . import conv_rule, rule
from .conv_net import LearningNet, PlasticConv, Schedule, schedule
from .experiment import LearnConfig, LearnError
from .features import training_windows

NEGATIVES = ("uniform", "hard")


class NetSetup(NamedTuple):
    spec: object
    data: object
    net: LearningNet  # fixed or float, as the profile
    rate_net: LearningNet  # float frozen layers: the rate-coded comparison
    k0: list[np.ndarray]  # initial kernel matrices (integer, or float in threshold units)
    sched: Schedule
    images: np.ndarray  # training image index per sample
    labels: np.ndarray  # true label per sample
    negs: np.ndarray  # uniform negatives' labels per sample (unused with hard negatives)
    plastic_layers: list[int]  # the run's layer index of each plastic layer
    kind: str  # "fixed" | "float"
    encoder: object  # the profile's LoihiNet: its ``encode`` is the input the Lava source sends

    @property
    def label_encoder(self):
        from ..spiking.network import labels_for

        return labels_for(self.spec)


def trained_layers(run_dir: Path, n_layers: int) -> list[bool]:
    """Per layer of the run: trained (``train`` true or absent in config.yaml) or frozen."""
    import yaml

    cfg = yaml.safe_load((Path(run_dir) / "config.yaml").read_text()) or {}
    layers = (cfg.get("model") or {}).get("layers") or []
    return [
        bool((layers[i] if i < len(layers) else {}).get("train", True)) for i in range(n_layers)
    ]


def _check(cfg: LearnConfig) -> None:
    if cfg.negatives not in NEGATIVES:
        raise LearnError(f"--negatives must be one of {NEGATIVES}, got {cfg.negatives!r}")
    if cfg.objective not in ("threshold", "symba"):
        raise LearnError(f"--objective must be threshold or symba, got {cfg.objective!r}")
    if cfg.backend == "lava" and cfg.batch != 1:
        raise LearnError(
            "--batch applies to --backend reference only (Lava updates once per window)"
        )
    steps = list(cfg.lr_steps)
    if steps and (steps != sorted(set(steps)) or steps[0] < 1 or steps[-1] >= cfg.samples):
        raise LearnError(
            f"--lr-steps must be increasing sample counts in [1, --samples) = [1, {cfg.samples}),"
            f" got {','.join(map(str, steps))}"
        )
    if cfg.lr_shift + len(steps) > 40:
        raise LearnError(f"--lr-shift {cfg.lr_shift} plus {len(steps)} --lr-steps exceeds 40")


def setup_network(run_dir, cfg: LearnConfig, dataset=None) -> NetSetup:
    from ..hardware.profiles import load_profile
    from ..hardware.quantize import float_net, quantize_spec
    from ..spiking.network import labels_for
    from .load import check_fixed_profile, open_spec

    _check(cfg)
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise LearnError(
            f"{run_dir} is not a run directory (no config.yaml); train one with ff-neuro train"
        )
    prof = load_profile(cfg.profile)
    if prof.fixed_point:
        check_fixed_profile(prof)
    spec, data = open_spec(run_dir, dataset)
    if spec.encoding != "current":
        raise LearnError(
            f"the learning network needs current encoding, the run uses {spec.encoding!r}"
        )
    trained = trained_layers(run_dir, len(spec.layers))
    n_frozen = trained.index(True) if True in trained else len(trained)
    if n_frozen == 0 or not all(trained[n_frozen:]):
        raise LearnError(
            "--layers all needs frozen leading layers (train: false) followed only by trained ones"
        )
    if n_frozen == len(trained):
        raise LearnError("the run has no trained layer to learn")
    fixed = prof.fixed_point
    net_q = quantize_spec(spec, prof, 1.0) if fixed else float_net(spec, prof.name)
    net_f = float_net(spec, prof.name)
    labels_enc = labels_for(spec)
    C = labels_enc.num_classes
    win = training_windows(data.train.y, cfg.samples, C, cfg.seed)
    images, labels, negs = win.image[0::2], win.label[0::2], win.label[1::2]
    calib = torch.from_numpy(data.train.x[win.image[:200]]).unsqueeze(1).float() / 255.0
    r = labels_enc.overlay(calib, torch.from_numpy(win.label[:200])).double()
    for la in net_f.layers[:n_frozen]:
        w = torch.as_tensor(la.weight, dtype=torch.float64)
        b = torch.as_tensor(la.bias_mant, dtype=torch.float64)
        r = (F.conv2d(r, w, b, la.stride, la.padding) / float(la.vth)).clamp(0, 1)
    bits = prof.weight_bits or 8
    gen = torch.Generator().manual_seed(cfg.seed)
    per_sample = C + 2 if cfg.negatives == "hard" else 2
    lr_steps = tuple(int(m) * per_sample for m in cfg.lr_steps)  # a sample's first window
    plastic, k0 = [], []
    T = int(spec.timesteps)
    for i, sl in enumerate(spec.layers[n_frozen:]):
        g = conv_rule.geometry_of(
            sl.in_shape, sl.weight.shape[0], sl.weight.shape[2], int(sl.stride), int(sl.padding)
        )
        x = cref.to_whc(r)
        sq = conv_rule.patches(x * x, g).sum(2).mean()
        sigma = cfg.z_std / float(np.sqrt(max(sq, 1e-12)))
        vth = rule.default_vth(sigma, bits, cfg.headroom)
        kf = (
            torch.randn((g.out_channels, g.fan_in), generator=gen, dtype=torch.float64).numpy()
            * sigma
        )
        w_max = 2 ** (bits - 1) - 1
        k_int = np.clip(np.rint(kf * vth), -w_max, w_max).astype(np.int64)
        w_t = torch.as_tensor(conv_rule.torch_weight(k_int / vth, g))
        r = F.conv2d(r, w_t, None, g.stride, g.padding).clamp(0, 1)
        theta = float((r**2).mean())
        p = rule.RuleParams(
            T,
            g.neurons,
            theta,
            cfg.alpha,
            cfg.lr_shift,
            vth,
            bits,
            rounding=cfg.rounding,
            seed=cfg.seed + 7919 * (i + 1),
            frac_bits=cfg.frac_bits if fixed else 0,
            decay_shift=cfg.decay_shift,
            saturation_gate=cfg.saturation_gate,
            saturation_margin=cfg.saturation_margin,
            lr_steps=lr_steps,
        )
        try:
            rule.check_params(p)
        except ValueError as e:
            raise LearnError(f"layer {n_frozen + i}: {e}") from None
        plastic.append(PlasticConv(g, p))
        k0.append(k_int << p.frac_bits if fixed else k_int / vth)
    hard = cfg.negatives == "hard"
    hard_layer = cfg.hard_layer - n_frozen if cfg.hard_layer is not None else 0
    if hard and not 0 <= hard_layer < len(plastic):
        raise LearnError(
            f"--hard-layer must be a trained layer ({n_frozen}..{len(spec.layers) - 1})"
        )
    kw = dict(
        objective=cfg.objective, hard_layer=hard_layer if hard else None, hard_alpha=cfg.hard_alpha
    )
    net = LearningNet(net_q.layers[:n_frozen], plastic, T, fixed, **kw)
    rate_net = LearningNet(
        net_f.layers[:n_frozen],
        [
            pl._replace(params=rule.twin_params(pl.params)._replace(frac_bits=0)) for pl in plastic
        ],  # the rate twin: exact rates, so relu1's exact gate (no margin) and no low bits
        T,
        False,
        **kw,
    )
    sched = schedule(labels, C, hard, key0=0)
    return NetSetup(
        spec,
        data,
        net,
        rate_net,
        k0,
        sched,
        images,
        labels,
        negs,
        list(range(n_frozen, len(spec.layers))),
        "fixed" if fixed else "float",
        net_q,
    )


def sample_inputs(s: NetSetup, kind: str, start: int, stop: int) -> torch.Tensor:
    """(S, slots, 1, H, W) inputs of samples [start, stop): encoded (fixed: int64; float: float64)
    or images in [0, 1] (rate), one slot per label (hard negatives) or [positive, negative]."""
    x = torch.from_numpy(s.data.train.x[s.images[start:stop]]).unsqueeze(1).float() / 255.0
    n = len(x)
    if s.sched.hard:
        xl = s.label_encoder.all_labels(x)  # (n·C, 1, H, W), sample-major
    else:
        y = np.stack([s.labels[start:stop], s.negs[start:stop]], 1).reshape(-1)
        xl = s.label_encoder.overlay(x.repeat_interleave(2, 0), torch.from_numpy(y))
    xl = xl.reshape(n, -1, *xl.shape[1:])
    return encode(s, kind, xl)


def encode(s: NetSetup, kind: str, xl: torch.Tensor) -> torch.Tensor:
    """Labelled images in [0, 1] → what the network of ``kind`` receives (rate: the images)."""
    if kind == "fixed":
        return torch.as_tensor(s.encoder.encode(xl.numpy()), dtype=torch.long)
    return xl.double()


def chunks(s: NetSetup, kind: str, chunk: int):
    n = len(s.labels)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        yield cref.Chunk(start, sample_inputs(s, kind, start, stop), s.labels[start:stop])
