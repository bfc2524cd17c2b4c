"""Typed, strict YAML configs. Unknown keys are errors that name the key.

A config has the sections ``data``, ``labels``, ``model``, ``train`` (and ``spiking`` for the
spiking stage). Layer indices are 0-based: the paper's "layers 2 and 3" are ``[1, 2]``.
Shipped configs live in ``ff_neuro/configs/<name>.yaml``; ``load_config`` takes a name or a path.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

ACTIVATIONS = ("relu", "relu1", "ifzero")
PRECISIONS = ("auto", "fp32", "bf16")
SCHEDULES = ("cooldown", "cosine", "constant")
LR_SCALINGS = ("none", "linear", "sqrt")
MEASURES, LOSSES, NEGATIVES = (
    ("sum", "mean"),
    ("threshold", "symba", "softmax"),
    ("uniform", "hard", "head"),
)

CONFIG_DIR = Path(__file__).parent / "configs"


@dataclass
class LayerConfig:
    channels: int
    kernel: int = 7
    padding: int | None = None  # None: "same" (kernel // 2)
    stride: int = 1
    train: bool = True  # False: keep the random initialisation (the paper's layer 1)
    activation_scale: float | None = None  # this layer's λ (None: model.activation_scale)

    @property
    def pad(self) -> int:
        return self.kernel // 2 if self.padding is None else self.padding


@dataclass
class DataConfig:
    dataset: str = "mnist"
    val_size: int = 10_000
    split_seed: int = 0
    train_subset: int | None = None  # use only this many training images (seeded)
    root: str | None = None


@dataclass
class LabelConfig:
    kind: str = (
        "fourier"  # fourier (the paper's plane waves) | onehot (a 2×2 patch per class: ablation)
    )
    set: int = 1
    K: float = 0.35


@dataclass
class ModelConfig:
    layers: list[LayerConfig] = field(
        default_factory=lambda: [
            LayerConfig(128, 7, train=False),
            LayerConfig(128, 7),
            LayerConfig(128, 7),
        ]
    )
    loss_layers: list[int] = field(default_factory=lambda: [1, 2])  # FF loss and goodness readout
    readout_layers: list[int] = field(default_factory=lambda: [1, 2])  # linear-head features
    goodness_layers: list[int] | None = (
        None  # layers whose goodness the classifier sums (None: loss_layers)
    )
    threshold_scale: float = 1.0  # θ = threshold_scale · N, N = units of the layer
    bias: bool = True
    init: str = "calibrated"  # "calibrated": He-normal weights, zero bias, so G ≈ θ at the start;
    # "torch": PyTorch's default Conv2d initialisation
    norm: str = "rms"  # rms: per-sample RMS normalisation of every layer's input (the paper);
    # none: no normalisation (static: what a spiking network computes)
    activation: str = "relu"  # relu (the paper) | relu1 | ifzero: bounded rates of IF neurons
    activation_scale: float = (
        1.0  # λ of relu1/ifzero: a = λ·ψ(z/λ); the spiking layer gets current z/λ
    )
    train_timesteps: int | None = (
        None  # relu1/ifzero: train on rates rounded to counts over T steps
    )
    # (stochastic rounding, straight-through; functional.count_noise)

    @property
    def scales(self) -> list[float]:
        """λ_l of every layer: its own ``activation_scale``, else the model's."""
        return [
            float(
                self.activation_scale if layer.activation_scale is None else layer.activation_scale
            )
            for layer in self.layers
        ]

    @property
    def spike_units(self) -> bool:
        """Trained in spike units: no per-sample normalisation and bounded IF rates, so the rate
        model is its spiking network's T → ∞ limit."""
        return self.norm == "none" and self.activation in ("relu1", "ifzero")

    @property
    def score_layers(self) -> list[int]:
        """The layers whose goodness the goodness classifier sums."""
        return list(self.loss_layers if self.goodness_layers is None else self.goodness_layers)


@dataclass
class GoodnessConfig:
    """The FF objective per layer (equations in ``ff_neuro.ff.objective``); defaults = the paper."""

    measure: str = (
        "sum"  # sum: g = Σy², θ = threshold_scale·N | mean: g = Σy²/N, θ = threshold_scale
    )
    loss: str = "threshold"  # threshold | symba | softmax
    scale: float = 1.0  # α, the logit scale: α(g − θ), α(g⁺ − g⁻) or α·g_c
    relative: bool = (
        False  # symba/softmax: goodness over its detached mean, α(g⁺ − g⁻)/ḡ (a relative margin)
    )
    negatives: str = (
        "uniform"  # uniform | hard: P(c) ∝ exp(α Σ_l g_l(x, c)) | head: P(c) ∝ exp(head logit c),
    )
    # c ≠ y
    regions: int = 1  # the loss compares goodness over R × R regions of each layer (measure mean;
    # threshold or symba); classification still sums whole layers
    negatives_per_image: int = 1  # k wrong labels per image, drawn without replacement (k ≤ C − 1)
    hard_layers: list[int] | None = None  # layers whose goodness scores hard negatives (None: the
    # classifier's score layers); [1] stops the scoring pass after the first trained layer


@dataclass
class TrainConfig:
    method: str = "ff"  # ff | bp | random
    epochs: int = 200
    budget_minutes: float | None = None  # train as many of `epochs` as fit in this wall clock,
    # decided from measured steps before the first one and again after epoch 1 (ff.budget)
    batch_size: int = 50
    lr: float = 5e-5
    head_lr: float = 1e-3
    schedule: str = "cooldown"  # lr schedule: cooldown (the paper: linear cool-down in the second
    # half, per epoch) | cosine (per step: linear warm-up over `warmup`, then cosine to 0) | constant
    warmup: float = 0.0  # cosine: share of all steps spent warming up linearly from 0
    lr_scaling: str = "none"  # none | linear | sqrt: lr and head_lr × (batch_size/lr_ref_batch)^p
    lr_ref_batch: int = 50  # the batch size that lr and head_lr are given for
    augment_shift: int = 0  # training images only: each moved by a random (dy, dx) in {−s…s}², zero
    # fill (data.augment); 0 = off. Nothing of it reaches inference, spikes or the chip
    augment_flip: bool = False  # training images only: each mirrored left to right with p = 1/2
    # (after the shift; for symmetric classes such as Fashion-MNIST's, not for digits)
    seed: int = 0
    eval_batch_size: int = 500
    val_goodness: bool = True  # also compute goodness accuracy on validation each epoch
    val_goodness_subset: int | None = (
        None  # ... on this many validation images only (it costs C passes)
    )
    select: str = "linear"  # best.safetensors = best validation accuracy of: linear | goodness
    precision: str = "fp32"  # training arithmetic: fp32 | bf16 (autocast) | auto: bf16 where the
    # device has bf16 hardware and a measured gain (ff.precision); evaluation is always fp32
    channels_last: bool | None = None  # None: on CUDA; on the CPU where auto measures it faster
    compile: bool = False  # torch.compile every layer (CUDA only)
    compile_mode: str = "default"  # torch.compile mode, e.g. "reduce-overhead" (CUDA graphs)
    ff_posneg: str = (
        "sequential"  # "batched": positives and negatives in one pass of 2B (for GPUs);
    )
    # "sequential": two passes of B, half the memory, faster on CPU
    nan_check_every: int = 100  # steps between finiteness checks of the loss (host syncs)


@dataclass
class SpikingConfig:
    timesteps: int = 16
    encoding: str = "current"  # current | rate
    beta: float = 1.0  # membrane decay factor per step (Lava dv = 1 − beta)
    threshold: float = 1.0
    surrogate_slope: float = 5.0
    readout_scale: float = (
        0.05  # goodness threshold on Σ(count/T)² is readout_scale · N (rms rate √0.05 ≈ 0.22)
    )
    input_norm: str = (
        "rms"  # direct training: rms = per-sample RMS gain on each layer's input rates | none
    )
    # (ignored in spike units: model.norm none with a bounded activation)
    gradient: str = "bptt"  # direct training within a layer: bptt (surrogate through time) | rate
    # (exact spikes forward, gradient of the rate ψ(mean current): DSR)
    rate_epochs: int = 0  # hybrid training: the first N epochs train the network's rate limit
    # (T → ∞, the same weights), the rest in spikes; 0: every epoch in spikes (spike units only)
    finetune_lr: float = 0.25  # hybrid: the spiking epochs' schedule starts at this × train.lr
    epoch_images: int | None = None  # images of one spiking epoch, drawn afresh each epoch
    # (null: the whole training split); the rate epochs of a hybrid run always take the whole split


@dataclass
class HardwareConfig:
    profile: str | None = (
        None  # train under this hardware profile's constraints (quantisation-aware)
    )


@dataclass
class Config:
    name: str = "custom"
    data: DataConfig = field(default_factory=DataConfig)
    labels: LabelConfig = field(default_factory=LabelConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    goodness: GoodnessConfig = field(default_factory=GoodnessConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    spiking: SpikingConfig = field(default_factory=SpikingConfig)
    hardware: HardwareConfig = field(default_factory=HardwareConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **sections: dict[str, Any]) -> Config:
        """A copy with keys overridden, e.g. ``cfg.replace(train={"epochs": 3})``."""
        d = self.to_dict()
        for sec, vals in sections.items():
            if sec not in d or not isinstance(d[sec], dict):
                raise ConfigError(f"unknown config section {sec!r}; valid: {list(d)}")
            d[sec].update(vals)
        return from_dict(d)


def _build(cls: type, data: Any, where: str) -> Any:
    """Instantiate dataclass ``cls`` from ``data``, rejecting unknown keys with their dotted path."""
    hints = typing.get_type_hints(cls)
    if not isinstance(data, dict):
        raise ConfigError(
            f"config section {where or '<root>'} must be a mapping, got {type(data).__name__}"
        )
    names = {f.name for f in fields(cls)}
    for key in data:
        if key not in names:
            path = f"{where}.{key}" if where else key
            raise ConfigError(f"unknown config key {path!r}; valid keys here: {sorted(names)}")
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        val, hint, path = data[f.name], hints[f.name], f"{where}.{f.name}" if where else f.name
        if dataclasses.is_dataclass(hint):
            val = _build(hint, val, path)
        elif typing.get_origin(hint) is list and dataclasses.is_dataclass(typing.get_args(hint)[0]):
            if not isinstance(val, list):
                raise ConfigError(f"config key {path!r} must be a list")
            val = [_build(typing.get_args(hint)[0], v, f"{path}[{i}]") for i, v in enumerate(val)]
        elif hint in (int, int | None) and isinstance(val, float) and val.is_integer():
            val = int(val)  # 1.0e4 in YAML is 10000
        elif (
            hint in (float, float | None)
            and isinstance(val, (int, str))
            and not isinstance(val, bool)
        ):
            try:
                val = float(val)
            except ValueError:
                raise ConfigError(f"config key {path!r} must be a number, got {val!r}") from None
        kwargs[f.name] = val
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"config section {where or '<root>'}: {e}") from None


# Limits checked by ``validate``: beyond them a run fails deep inside the allocator or runs for ever.
DATASETS = {
    "mnist": (28, 28, 60_000),
    "fashion-mnist": (28, 28, 60_000),
}  # H, W, official training images
MAX_LAYERS = 32
MAX_CHANNELS = 4096
MAX_CONV_WEIGHTS = 2**26  # all conv weights together (64 Mi floats = 256 MB)
MAX_LAYER_UNITS = 2**22  # C·H·W of one layer's output for one image
MAX_EPOCHS = 100_000
MAX_BATCH = 65_536
MAX_TIMESTEPS = 4096  # spiking T (the CLI's --timesteps has the same bound)
MAX_SEED = 2**32 - 1
MAX_SHIFT = 8  # train.augment_shift: pixels (a quarter of the smallest image side we ship)
NUM_CLASSES = 10  # both datasets
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def _check_types(obj: Any, where: str) -> None:
    """Every field of dataclass ``obj`` has its annotated type (ints are not bools, numbers are finite)."""
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        _check_value(getattr(obj, f.name), hints[f.name], f"{where}.{f.name}" if where else f.name)


def _check_value(val: Any, hint: Any, path: str) -> None:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if val is None and type(None) in args:
            return
        hint = next(a for a in args if a is not type(None))
        args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(val, hint):
            raise ConfigError(f"config key {path!r} must be a mapping, got {val!r}")
        _check_types(val, path)
    elif typing.get_origin(hint) is list:
        if not isinstance(val, list):
            raise ConfigError(f"config key {path!r} must be a list, got {val!r}")
        for i, v in enumerate(val):
            _check_value(v, args[0], f"{path}[{i}]")
    elif hint is bool:
        if not isinstance(val, bool):
            raise ConfigError(f"config key {path!r} must be true or false, got {val!r}")
    elif hint is int:
        if isinstance(val, bool) or not isinstance(val, int):
            raise ConfigError(f"config key {path!r} must be an integer, got {val!r}")
    elif hint is float:
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            raise ConfigError(f"config key {path!r} must be a number, got {val!r}")
        if not math.isfinite(val):
            raise ConfigError(f"config key {path!r} must be a finite number, got {val!r}")
    elif hint is str:
        if not isinstance(val, str):
            raise ConfigError(f"config key {path!r} must be a string, got {val!r}")


def _range(
    cfg: Config,
    key: str,
    lo: float | None = None,
    hi: float | None = None,
    *,
    open_lo: bool = False,
    optional: bool = False,
) -> None:
    """``cfg.<key>`` lies in [lo, hi] (lo excluded when ``open_lo``); None passes when ``optional``."""
    sec, name = key.split(".")
    val = getattr(getattr(cfg, sec), name)
    if val is None and optional:
        return
    too_low = lo is not None and (val <= lo if open_lo else val < lo)
    if too_low or (hi is not None and val > hi):
        if hi is None:
            want = f"> {lo}" if open_lo else f">= {lo}"
        else:
            want = f"in {'(' if open_lo else '['}{lo}, {hi}]"
        raise ConfigError(f"config key {key!r} must be {want}, got {val!r}")


def _choice(cfg: Config, key: str, valid: tuple | list) -> None:
    sec, name = key.split(".")
    val = getattr(getattr(cfg, sec), name)
    if val not in valid:
        raise ConfigError(f"config key {key!r} must be one of {list(valid)}, got {val!r}")


def _check_layers(cfg: Config) -> None:
    layers = cfg.model.layers
    if not layers:
        raise ConfigError("config key 'model.layers' must list at least one layer")
    if len(layers) > MAX_LAYERS:
        raise ConfigError(
            f"config key 'model.layers' has {len(layers)} layers; at most {MAX_LAYERS} are allowed"
        )
    h, w, _ = DATASETS.get(cfg.data.dataset, (28, 28, 0))
    cin, weights = 1, 0
    for i, layer in enumerate(layers):
        path = f"model.layers[{i}]"
        if not 1 <= layer.channels <= MAX_CHANNELS:
            raise ConfigError(
                f"config key '{path}.channels' must be in [1, {MAX_CHANNELS}], got {layer.channels}"
            )
        if layer.kernel < 1:
            raise ConfigError(f"config key '{path}.kernel' must be >= 1, got {layer.kernel}")
        if layer.stride < 1:
            raise ConfigError(f"config key '{path}.stride' must be >= 1, got {layer.stride}")
        if layer.padding is not None and not 0 <= layer.padding <= layer.kernel:
            raise ConfigError(
                f"config key '{path}.padding' must be in [0, kernel = {layer.kernel}] "
                f"or null (same), got {layer.padding}"
            )
        if layer.kernel > h + 2 * layer.pad or layer.kernel > w + 2 * layer.pad:
            raise ConfigError(
                f"config key '{path}.kernel' = {layer.kernel} is larger than the layer's padded "
                f"input {h + 2 * layer.pad}×{w + 2 * layer.pad}; lower the kernel or raise padding"
            )
        h = (h + 2 * layer.pad - layer.kernel) // layer.stride + 1
        w = (w + 2 * layer.pad - layer.kernel) // layer.stride + 1
        units = layer.channels * h * w
        if units > MAX_LAYER_UNITS:
            raise ConfigError(
                f"config key '{path}.channels': the layer has {units:,} units per image "
                f"({layer.channels}×{h}×{w}); at most {MAX_LAYER_UNITS:,} are allowed"
            )
        weights += layer.channels * cin * layer.kernel**2
        cin = layer.channels
    if weights > MAX_CONV_WEIGHTS:
        raise ConfigError(
            f"config key 'model.layers': {weights:,} conv weights in all; at most "
            f"{MAX_CONV_WEIGHTS:,} are allowed (fewer channels or smaller kernels)"
        )


def validate(cfg: Config) -> Config:
    """Check every value (types, ranges, lists, sizes); a bad one raises :class:`ConfigError` naming its key."""
    _check_types(cfg, "")
    # data
    _choice(cfg, "data.dataset", list(DATASETS))
    n_train = DATASETS[cfg.data.dataset][2]
    _range(cfg, "data.val_size", 1, n_train - 1)
    _range(cfg, "data.split_seed", 0, MAX_SEED)
    _range(cfg, "data.train_subset", 1, optional=True)
    if cfg.data.root is not None and not cfg.data.root.strip():
        raise ConfigError("config key 'data.root' must be a folder or null, got an empty string")
    # labels
    _choice(cfg, "labels.kind", ("fourier", "onehot"))
    _choice(cfg, "labels.set", (1, 2))
    _range(cfg, "labels.K", 0.0, 1.0)
    # model
    _check_layers(cfg)
    n = len(cfg.model.layers)
    for key in ("loss_layers", "readout_layers", "goodness_layers"):
        val = getattr(cfg.model, key)
        if val is None:
            continue
        if not val:
            raise ConfigError(
                f"config key 'model.{key}' must name at least one layer"
                + (" (or be null: the loss layers)" if key == "goodness_layers" else "")
            )
        bad = [i for i in val if not 0 <= i < n]
        if bad:
            raise ConfigError(
                f"model.{key} has indices {bad} outside 0..{n - 1} (layer indices are 0-based)"
            )
        if len(set(val)) != len(val):
            raise ConfigError(f"config key 'model.{key}' lists a layer twice: {val}")
    _range(cfg, "model.threshold_scale", 0.0, open_lo=True)
    if cfg.model.norm not in ("rms", "none"):
        raise ConfigError(f"model.norm must be 'rms' or 'none', got {cfg.model.norm!r}")
    if cfg.model.activation not in ACTIVATIONS:
        raise ConfigError(
            f"model.activation must be one of {list(ACTIVATIONS)}, got {cfg.model.activation!r}"
        )
    tt = cfg.model.train_timesteps
    if tt is not None and (not isinstance(tt, int) or isinstance(tt, bool) or not 1 <= tt <= 4096):
        raise ConfigError(
            f"model.train_timesteps must be an integer in 1..4096 or null, got {tt!r}"
        )
    if tt is not None and cfg.model.activation == "relu":
        raise ConfigError(
            "model.train_timesteps needs a bounded rate (model.activation relu1 or ifzero)"
        )
    if not all(s > 0 for s in cfg.model.scales):
        raise ConfigError(f"every activation_scale must be > 0, got {cfg.model.scales}")
    if not cfg.model.activation_scale > 0:
        raise ConfigError(f"model.activation_scale must be > 0, got {cfg.model.activation_scale}")
    if cfg.model.init not in ("calibrated", "torch"):
        raise ConfigError(f"model.init must be 'calibrated' or 'torch', got {cfg.model.init!r}")
    # goodness
    for key, valid in (("measure", MEASURES), ("loss", LOSSES), ("negatives", NEGATIVES)):
        if getattr(cfg.goodness, key) not in valid:
            raise ConfigError(
                f"goodness.{key} must be one of {list(valid)}, got {getattr(cfg.goodness, key)!r}"
            )
    if not cfg.goodness.scale > 0:
        raise ConfigError(f"goodness.scale must be > 0, got {cfg.goodness.scale}")
    _range(cfg, "goodness.negatives_per_image", 1, NUM_CLASSES - 1)
    _range(cfg, "goodness.regions", 1, 64)
    if cfg.goodness.regions > 1 and (
        cfg.goodness.measure != "mean" or cfg.goodness.loss == "softmax"
    ):
        raise ConfigError(
            "goodness.regions > 1 needs goodness.measure mean and loss threshold or symba"
        )
    hl = cfg.goodness.hard_layers
    if hl is not None:
        if not hl:
            raise ConfigError(
                "config key 'goodness.hard_layers' must name at least one layer (or be null)"
            )
        bad = [i for i in hl if not 0 <= i < n]
        if bad or len(set(hl)) != len(hl):
            raise ConfigError(
                f"goodness.hard_layers must list distinct layer indices in 0..{n - 1}, got {hl}"
            )
    # train
    if cfg.train.method not in ("ff", "bp", "random"):
        raise ConfigError(f"train.method must be ff, bp or random, got {cfg.train.method!r}")
    _range(cfg, "train.epochs", 1, MAX_EPOCHS)
    _range(cfg, "train.budget_minutes", 0.0, 7 * 24 * 60.0, open_lo=True, optional=True)
    _range(cfg, "train.batch_size", 1, MAX_BATCH)
    _range(cfg, "train.lr", 0.0, 10.0, open_lo=True)
    _choice(cfg, "train.schedule", SCHEDULES)
    _range(cfg, "train.warmup", 0.0, 0.9)
    _choice(cfg, "train.lr_scaling", LR_SCALINGS)
    _range(cfg, "train.lr_ref_batch", 1, MAX_BATCH)
    _range(cfg, "train.augment_shift", 0, MAX_SHIFT)
    _choice(cfg, "train.precision", PRECISIONS)
    _range(cfg, "train.head_lr", 0.0, 10.0, open_lo=True)
    _range(cfg, "train.seed", 0, MAX_SEED)
    _range(cfg, "train.eval_batch_size", 1, MAX_BATCH)
    _range(cfg, "train.val_goodness_subset", 1, optional=True)
    _range(cfg, "train.nan_check_every", 1)
    if cfg.train.select not in ("linear", "goodness"):
        raise ConfigError(f"train.select must be 'linear' or 'goodness', got {cfg.train.select!r}")
    _choice(cfg, "train.compile_mode", COMPILE_MODES)
    if cfg.train.ff_posneg not in ("batched", "sequential"):
        raise ConfigError(
            f"train.ff_posneg must be 'batched' or 'sequential', got {cfg.train.ff_posneg!r}"
        )
    # spiking
    _range(cfg, "spiking.timesteps", 1, MAX_TIMESTEPS)
    if cfg.spiking.encoding not in ("current", "rate"):
        raise ConfigError(
            f"spiking.encoding must be 'current' or 'rate', got {cfg.spiking.encoding!r}"
        )
    _range(cfg, "spiking.beta", 0.0, 1.0)
    _range(cfg, "spiking.threshold", 0.0, open_lo=True)
    _range(cfg, "spiking.surrogate_slope", 0.0, open_lo=True)
    _range(cfg, "spiking.readout_scale", 0.0, open_lo=True)
    if cfg.spiking.input_norm not in ("rms", "none"):
        raise ConfigError(
            f"spiking.input_norm must be 'rms' or 'none', got {cfg.spiking.input_norm!r}"
        )
    if cfg.spiking.gradient not in ("bptt", "rate"):
        raise ConfigError(
            f"spiking.gradient must be 'bptt' or 'rate', got {cfg.spiking.gradient!r}"
        )
    _range(cfg, "spiking.rate_epochs", 0)
    _range(cfg, "spiking.finetune_lr", 0.0, 1.0, open_lo=True)
    _range(cfg, "spiking.epoch_images", cfg.train.batch_size, optional=True)
    if cfg.spiking.rate_epochs:
        if cfg.spiking.rate_epochs >= cfg.train.epochs:
            raise ConfigError(
                f"spiking.rate_epochs ({cfg.spiking.rate_epochs}) must be below train.epochs "
                f"({cfg.train.epochs}): at least one epoch trains in spikes"
            )
        if not cfg.model.spike_units or cfg.spiking.beta != 1.0 or cfg.spiking.threshold != 1.0:
            raise ConfigError(
                "spiking.rate_epochs needs a network in spike units (model.norm none, activation "
                "relu1 or ifzero, spiking.beta 1 and spiking.threshold 1), whose rate limit is the "
                "rate model"
            )
    if cfg.hardware.profile is not None and not cfg.hardware.profile.strip():
        raise ConfigError(
            "config key 'hardware.profile' must be a profile name or null, got an empty string"
        )
    return cfg


# Keys of older configs and checkpoints, read as their replacements: (section, old key) → {value: new}.
LEGACY_KEYS = {
    ("train", "cooldown"): ("schedule", {True: "cooldown", False: "constant"}),
    ("train", "bf16"): ("precision", {True: "bf16", False: None}),
}


def _migrate(data: Any) -> Any:
    """Rewrite the keys of :data:`LEGACY_KEYS` (old run directories stay readable and resumable)."""
    for (sec, old), (new, values) in LEGACY_KEYS.items():
        part = data.get(sec) if isinstance(data, dict) else None
        if not isinstance(part, dict) or old not in part:
            continue
        val = part.pop(old)
        if not isinstance(val, bool):
            raise ConfigError(f"config key '{sec}.{old}' must be true or false, got {val!r}")
        if values[val] is None:
            continue
        if new in part and part[new] != values[val]:
            raise ConfigError(
                f"config keys '{sec}.{old}' (older name) and '{sec}.{new}' disagree: keep only "
                f"'{sec}.{new}'"
            )
        part[new] = values[val]
    return data


def from_dict(data: dict[str, Any]) -> Config:
    return validate(_build(Config, _migrate(copy.deepcopy(data)), ""))


def available_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_config(name_or_path: str | Path) -> Config:
    """Load a shipped config by name (``mnist-quick``) or a YAML file by path."""
    path = Path(name_or_path)
    if not path.is_file():
        path = CONFIG_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ConfigError(
                f"no config file or shipped config named {str(name_or_path)!r}; "
                f"shipped: {available_configs()}"
            )
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid YAML ({str(e).splitlines()[0]})") from None
    try:
        return from_dict(data)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def parse_override(item: str, what: str = "--set") -> tuple[str, str, Any]:
    """'section.key=VALUE' → (section, key, value), VALUE read as YAML without tags (``!!…``)."""
    key, sep, value = item.partition("=")
    section, dot, name = key.partition(".")
    if not sep or not dot or not name:
        raise ConfigError(f"{what} {item!r} must look like SECTION.KEY=VALUE, e.g. train.lr=1e-4")
    try:
        if any(isinstance(t, yaml.TagToken) for t in yaml.scan(value, Loader=yaml.SafeLoader)):
            raise ConfigError(f"{what} {item!r}: YAML tags (!...) are not allowed in VALUE")
        return section, name, yaml.safe_load(value)
    except yaml.YAMLError as e:
        raise ConfigError(
            f"{what} {item!r}: VALUE is not valid YAML ({str(e).splitlines()[0]})"
        ) from None


def parse_overrides(items: list[str], what: str = "--set") -> dict[str, dict]:
    """['train.lr=1e-4', ...] → {'train': {'lr': 0.0001}} (see :func:`parse_override`)."""
    out: dict[str, dict] = {}
    for item in items:
        section, name, value = parse_override(item, what)
        out.setdefault(section, {})[name] = value
    return out


def dump_config(cfg: Config) -> str:
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)
