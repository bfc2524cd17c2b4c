"""SpikingModel: Forward-Forward trained directly in the spiking network (kind "spiking").

Same interface, parameters and checkpoint layout as :class:`ff_neuro.ff.model.RateModel` (an FFNet's
conv weights and a linear head), but every forward pass is the LIF simulation of ``simulate.py``:

    s_0 = encode(x', T);   s_l = LIF(g_l · (W_l ∗ s_{l−1}.detach()) + b_l),  g_l = 1/rms(r_{l−1}) or 1
    G_l = Σ (count_l / T)²,  θ_l = readout_scale · N_l,
    loss_l = softplus(θ_l − G_l⁺) + softplus(G_l⁻ − θ_l)          (ff_loss, mean over the batch)

Gradients flow through time inside one layer (BPTT with snnTorch's fast-sigmoid surrogate for the
spike's derivative, reset detached) and never across layers: each layer's input spikes are
detached, and its loss is back-propagated and its graph freed before the next layer runs.
Positive and negative data are both spike trains. The linear head learns from the detached
spike-count features rms_norm(count/T) of the neutral-label input. Inference runs the "exact"
spec of the trained network through :class:`SpikingNetwork`.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from snntorch import surrogate

from ..config import Config
from ..errors import ConfigError
from ..data.labels import sample_negatives
from ..ff.functional import ff_loss
from ..ff.model import RateModel
from .encoding import encode
from .lif import LIFParams, heaviside
from .network import SpikingNetwork
from .readout import spike_features, spike_goodness
from .simulate import simulate_layer
from .spec import LIFConvSpec, SpikingNetSpec


class SpikingModel(RateModel):
    kind = "spiking"

    def __init__(self, cfg: Config, in_shape: tuple[int, int, int] = (1, 28, 28), num_classes: int = 10,
                 device: torch.device | str = "cpu"):
        if cfg.train.method not in ("ff", "random"):
            raise ConfigError(f"the spiking model trains with train.method 'ff' or 'random', got "
                              f"{cfg.train.method!r}: use --model rate for the bp control")
        super().__init__(cfg, in_shape, num_classes, device)
        sc = cfg.spiking
        self.T, self.encoding = sc.timesteps, sc.encoding
        self.lif = LIFParams(float(sc.beta), float(sc.threshold))
        self.spike_fn = surrogate.fast_sigmoid(slope=sc.surrogate_slope)
        self.rms_input = sc.input_norm == "rms"
        self.net.thresholds = [sc.readout_scale * float(np.prod(s)) for s in self.net.shapes]

    # --- simulation -----------------------------------------------------------------------
    def _layer(self, i: int, inputs: torch.Tensor, train: bool) -> torch.Tensor:
        conv = self.net.layers[i].conv
        return simulate_layer(inputs.detach(), conv.weight, conv.bias, conv.stride[0], conv.padding[0], self.lif,
                              rms_input=self.rms_input, spike_fn=self.spike_fn if train else heaviside)

    def spec(self) -> SpikingNetSpec:
        """The trained network as a spec ("exact" when input_norm is rms: not deployable as is)."""
        layers, shape = [], tuple(self.net.in_shape)
        for layer, out in zip(self.net.layers, self.net.shapes):
            conv = layer.conv
            bias = conv.bias if conv.bias is not None else torch.zeros(conv.out_channels)
            layers.append(LIFConvSpec(conv.weight.detach().cpu().numpy().copy(), bias.detach().cpu().numpy().copy(),
                                      conv.stride[0], conv.padding[0], self.lif.beta, self.lif.threshold,
                                      shape, tuple(out), 1.0, self.rms_input))
            shape = tuple(out)
        lab = self.labels
        meta = {"variant": "exact" if self.rms_input else "static", "source_kind": "spiking",
                "goodness_thresholds": list(self.net.thresholds),
                "labels": {"set": lab.label_set, "K": lab.K, "num_classes": lab.num_classes},
                "in_shape": list(self.net.in_shape), "config_name": self.cfg.name}
        return SpikingNetSpec(layers, self.T, self.encoding, list(self.cfg.model.loss_layers),
                              list(self.cfg.model.readout_layers), self.head.fc.weight.detach().cpu().numpy().copy(),
                              self.head.fc.bias.detach().cpu().numpy().copy(), meta)

    def network(self) -> SpikingNetwork:
        return SpikingNetwork(self.spec(), self.device, seed=self.cfg.train.seed)

    # --- training -------------------------------------------------------------------------
    def _ff_backward(self, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator,
                     head_logits: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Layer by layer on positive and negative spike trains: simulate, local loss, BPTT, free the graph."""
        neg = sample_negatives(y, self.num_classes, gen)
        b, out = x.shape[0], {}
        s = encode(torch.cat([self.labels.overlay(x, y), self.labels.overlay(x, neg)]), self.T, self.encoding, gen)
        last = max(self.cfg.model.loss_layers, default=-1)
        for i, layer in enumerate(self.net.layers):
            learn = i in self.cfg.model.loss_layers and layer.spec.train
            with torch.set_grad_enabled(learn):
                s = self._layer(i, s, train=learn)
            if i in self.cfg.model.loss_layers:
                g = spike_goodness(s.sum(0), self.T)
                li = ff_loss(g[:b], g[b:], self.net.thresholds[i])
                if learn:
                    li.backward()
                out[f"layer{i}"] = li.detach()
            s = s.detach()
            if i >= last:
                break
        return out

    def _head_logits(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Linear-head logits on spike-count features of the neutral-label input (the graph reaches the head only)."""
        with torch.no_grad():
            s = encode(self.labels.neutral(x), self.T, self.encoding, gen)
            counts = []
            for i in range(len(self.net.layers)):
                s = self._layer(i, s, train=False)
                counts.append(s.sum(0))
            feats = spike_features(counts, self.T, self.cfg.model.readout_layers)
        return self.head(feats)

    # --- inference ------------------------------------------------------------------------
    @torch.no_grad()
    def predict_linear(self, x: torch.Tensor) -> torch.Tensor:
        return self.network().predict_linear(x)

    @torch.no_grad()
    def predict_goodness(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.method != "ff":
            return None
        return self.network().predict_goodness(x)

    @torch.no_grad()
    def spike_counts(self, x_labelled: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer spike counts (N, C, H, W) of labelled images."""
        return self.network().spike_counts(x_labelled)
