"""The FF convolutional network: a stack of locally trained layers.

Layer l computes  y_l = ψ(conv_l(N(x_{l−1}).detach()))  with x_0 the labelled image, so no gradient
crosses a layer boundary. N is the identity (``model.norm: none``, the shipped spike-unit configs:
static, deployable as is) or the paper's per-sample ``rms_norm`` (``norm: rms``); ψ is the rate
function ``model.activation`` with scale λ (relu1, the IF rate with reset by subtraction, in the
shipped configs; relu in the paper's; see ``functional.activation``). The same ``LayerConfig`` list defines the spiking model and the
Lava graph; they read the weights of this module.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import LayerConfig, ModelConfig
from .functional import activation, rms_norm
from .objective import layer_goodness


class FFConv(nn.Module):
    """One FF layer: normalise the (detached) input (``norm`` rms: the paper; none: static, deployable),
    convolve, apply the rate function (``activation``, see ``functional.activation``)."""

    def __init__(
        self,
        in_channels: int,
        spec: LayerConfig,
        bias: bool = True,
        init: str = "calibrated",
        norm: str = "rms",
        act: str = "relu",
        act_scale: float = 1.0,
    ):
        super().__init__()
        self.spec, self.norm, self.act, self.act_scale = spec, norm, act, act_scale
        self.conv = nn.Conv2d(
            in_channels, spec.channels, spec.kernel, spec.stride, spec.pad, bias=bias
        )
        if init == "calibrated":
            # Var(w) = 2 / fan_in on an RMS-normalised input gives E[y²] ≈ 1 per ReLU unit, i.e. G ≈ θ = N
            # from the first step instead of G ≈ N/6 with PyTorch's default (which costs an epoch of rescaling).
            nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
            if bias:
                nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor, detach: bool = True) -> torch.Tensor:
        if self.norm == "rms":
            x = rms_norm(x)
        return activation(self.conv(x.detach() if detach else x), self.act, self.act_scale)


def output_shapes(cfg: ModelConfig, in_shape: tuple[int, int, int]) -> list[tuple[int, int, int]]:
    """(C, H, W) after every layer, for an input of shape ``in_shape`` = (C, H, W)."""
    shapes, (c, h, w) = [], in_shape
    for spec in cfg.layers:
        h = (h + 2 * spec.pad - spec.kernel) // spec.stride + 1
        w = (w + 2 * spec.pad - spec.kernel) // spec.stride + 1
        if h < 1 or w < 1:
            raise ValueError(
                f"layer {len(shapes)} shrinks the input to {h}×{w}: lower the kernel or raise padding"
            )
        c = spec.channels
        shapes.append((c, h, w))
    return shapes


class FFNet(nn.Module):
    """Stack of :class:`FFConv` layers with goodness threshold θ = s · N per layer (measure "sum", the
    paper) or θ = s (measure "mean", g = Σy²/N), s = ``threshold_scale``."""

    def __init__(
        self, cfg: ModelConfig, in_shape: tuple[int, int, int] = (1, 28, 28), measure: str = "sum"
    ):
        super().__init__()
        self.cfg, self.in_shape, self.measure = cfg, tuple(in_shape), measure
        self.shapes = output_shapes(cfg, self.in_shape)
        chans = [self.in_shape[0]] + [s[0] for s in self.shapes[:-1]]
        self.layers = nn.ModuleList(
            FFConv(c, spec, cfg.bias, cfg.init, cfg.norm, cfg.activation, lam)
            for c, spec, lam in zip(chans, cfg.layers, cfg.scales)
        )
        for layer, spec in zip(self.layers, cfg.layers):
            layer.requires_grad_(spec.train)
        per_unit = measure == "mean"
        self.thresholds = [
            cfg.threshold_scale * (1.0 if per_unit else float(torch.Size(s).numel()))
            for s in self.shapes
        ]

    @property
    def readout_dim(self) -> int:
        return sum(torch.Size(self.shapes[i]).numel() for i in self.cfg.readout_layers)

    def forward(
        self, x: torch.Tensor, detach: bool = True, upto: int | None = None
    ) -> list[torch.Tensor]:
        """Activations of every layer (of layers 0..``upto`` only, when given); ``detach=False`` lets
        backprop cross layers (the bp control)."""
        acts = []
        for layer in self.layers[: None if upto is None else upto + 1]:
            x = layer(x, detach=detach)
            acts.append(x)
        return acts

    def goodness_score(self, acts: list[torch.Tensor]) -> torch.Tensor:
        """Σ over the loss layers of g_l: the score used by goodness classification."""
        return sum(layer_goodness(acts[i], self.measure) for i in self.cfg.score_layers)

    def features(self, acts: list[torch.Tensor], detach: bool = True) -> torch.Tensor:
        """Linear-head input: RMS-normalised, flattened activations of the readout layers (detached)."""
        f = torch.cat([self.features_of(acts[i]) for i in self.cfg.readout_layers], 1)
        return f.detach() if detach else f

    @staticmethod
    def features_of(a: torch.Tensor) -> torch.Tensor:
        """One readout layer's share of the linear-head input: rms_norm(a), flattened."""
        return rms_norm(a.float()).flatten(1)
