"""RateModel: the FF network, its linear head, the label encoder and the training rule in one place.

``method`` selects the rule, all on the same architecture:
  * ``ff``     – Forward-Forward: per-layer goodness loss, no gradient across layers; the head
                 learns from detached neutral-label features at the same time;
  * ``bp``     – the control trained end-to-end with backprop through all layers and the head;
  * ``random`` – the control with untrained (random) conv layers; only the head learns.
The trainer, the checkpoint code and the CLI talk to any model through this interface, so the
spiking model (``ff_neuro.spiking``) plugs into the same loop.
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F

from ..checkpoint import load_module, load_optimizer, module_tensors, optimizer_tensors
from ..config import Config
from ..data.labels import FourierLabels, sample_negatives
from .classify import LinearHead, goodness_scores
from .functional import ff_loss_terms, goodness
from .network import FFNet


class RateModel:
    kind = "rate"

    def __init__(self, cfg: Config, in_shape: tuple[int, int, int] = (1, 28, 28), num_classes: int = 10,
                 device: torch.device | str = "cpu"):
        self.cfg, self.device, self.method = cfg, torch.device(device), cfg.train.method
        self.num_classes = num_classes
        self.net = FFNet(cfg.model, in_shape).to(self.device)
        self.head = LinearHead(self.net.readout_dim, num_classes).to(self.device)
        self.labels = FourierLabels(in_shape[1:], num_classes, cfg.labels.set, cfg.labels.K, self.device)
        t = cfg.train
        cuda = self.device.type == "cuda"
        if cuda:
            self.net.to(memory_format=torch.channels_last)
        if t.compile and cuda:
            for layer in self.net.layers:
                layer.forward = torch.compile(layer.forward, mode=t.compile_mode, dynamic=False)
        adam = {"fused": True} if cuda else {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        if self.method == "bp":
            self.net.requires_grad_(True)
            self.optimizers["net"] = torch.optim.Adam([*self.net.parameters(), *self.head.parameters()], lr=t.lr, **adam)
        else:
            if self.method == "random":
                self.net.requires_grad_(False)
            params = [p for p in self.net.parameters() if p.requires_grad]
            if params:
                self.optimizers["net"] = torch.optim.Adam(params, lr=t.lr, **adam)
            self.optimizers["head"] = torch.optim.Adam(self.head.parameters(), lr=t.head_lr, **adam)
        self.base_lrs = {k: [g["lr"] for g in o.param_groups] for k, o in self.optimizers.items()}

    # --- training -------------------------------------------------------------------------
    def autocast(self):
        if self.cfg.train.bf16 and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def set_lr_factor(self, factor: float) -> None:
        for k, opt in self.optimizers.items():
            for g, lr in zip(opt.param_groups, self.base_lrs[k]):
                g["lr"] = lr * factor

    def train_step(self, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """One optimisation step on images ``x`` (B, 1, H, W) in [0, 1]; returns detached losses."""
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=True)
        out = self._ff_backward(x, y, gen) if self.method == "ff" else {}
        head_loss = self._head_loss(x, y, gen)
        head_loss.backward()
        for opt in self.optimizers.values():
            opt.step()
        out["head"] = head_loss.detach()
        out["total"] = sum(out.values())
        return out

    def _head_loss(self, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Cross-entropy of the linear head on the neutral-label input (end to end for ``bp``)."""
        if self.method == "bp":
            with self.autocast():
                acts = self.net(self.labels.neutral(x), detach=False)
                return F.cross_entropy(self.head(self.net.features(acts, detach=False)), y)
        with torch.no_grad(), self.autocast():
            feats = self.net.features(self.net(self.labels.neutral(x)))
        return F.cross_entropy(self.head(feats), y)

    def _ff_backward(self, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """Layer by layer: forward, local loss, backward, free the graph.

        Equivalent to summing the layer losses (no gradient crosses a layer), but only one layer's
        activations are alive at a time. With ``train.ff_posneg: sequential`` positives and negatives
        go through in two passes (the loss is a sum of a positive and a negative term), halving that.
        """
        neg = sample_negatives(y, self.num_classes, gen)
        b = x.shape[0]
        if self.cfg.train.ff_posneg == "batched":
            passes = [(self.labels.overlay(torch.cat([x, x]), torch.cat([y, neg])), b)]
        else:
            passes = [(self.labels.overlay(x, y), b), (self.labels.overlay(x, neg), 0)]
        out: dict[str, torch.Tensor] = {}
        last = max(self.cfg.model.loss_layers, default=-1)
        for h, n_pos in passes:
            for i, layer in enumerate(self.net.layers[:last + 1]):
                with self.autocast():
                    h = layer(h)
                if i in self.cfg.model.loss_layers:
                    g = goodness(h.float())
                    li = ff_loss_terms(g[:n_pos], g[n_pos:], self.net.thresholds[i])
                    li.backward()
                    out[f"layer{i}"] = out.get(f"layer{i}", 0) + li.detach()
                h = h.detach()
        return out

    # --- inference ------------------------------------------------------------------------
    @torch.no_grad()
    def predict_linear(self, x: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            return self.head(self.net.features(self.net(self.labels.neutral(x)))).argmax(1)

    @torch.no_grad()
    def predict_goodness(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.method != "ff":
            return None
        with self.autocast():
            return goodness_scores(self.net, self.labels, x).argmax(1)

    # --- state ----------------------------------------------------------------------------
    def weights(self) -> dict[str, torch.Tensor]:
        return {**module_tensors("net", self.net), **module_tensors("head", self.head)}

    def load_weights(self, tensors: dict[str, torch.Tensor]) -> None:
        load_module("net", self.net, tensors)
        load_module("head", self.head, tensors)

    def training_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors, meta = self.weights(), {}
        for k, opt in self.optimizers.items():
            t, m = optimizer_tensors(f"opt.{k}", opt)
            tensors.update(t)
            meta[k] = m
        return tensors, meta

    def load_training_state(self, tensors: dict[str, torch.Tensor], meta: dict) -> None:
        self.load_weights(tensors)
        for k, opt in self.optimizers.items():
            load_optimizer(f"opt.{k}", opt, {n: v.to(self.device) for n, v in tensors.items()}, meta[k])
