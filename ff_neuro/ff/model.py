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

import torch
import torch.nn.functional as F

from ..checkpoint import load_module, load_optimizer, module_tensors, optimizer_tensors
from ..config import Config
from ..data.labels import FourierLabels, sample_negatives
from ..errors import ConfigError
from .classify import LinearHead, goodness_scores, label_scores
from .distributed import SINGLE, GradReducer, all_gather_rows, rows_of_rank
from .functional import count_noise
from .network import FFNet
from .objective import (
    hard_negatives,
    layer_goodness,
    region_goodness,
    softmax_loss,
    symba_loss,
    threshold_terms,
    uniform_negatives,
)
from .precision import Precision, resolve_precision


class RateModel:
    kind = "rate"

    def __init__(
        self,
        cfg: Config,
        in_shape: tuple[int, int, int] = (1, 28, 28),
        num_classes: int = 10,
        device: torch.device | str = "cpu",
    ):
        self.cfg, self.device, self.method = cfg, torch.device(device), cfg.train.method
        self.num_classes = num_classes
        self.net = FFNet(cfg.model, in_shape, cfg.goodness.measure).to(self.device)
        self.head = LinearHead(self.net.readout_dim, num_classes).to(self.device)
        self.labels = FourierLabels.from_config(cfg.labels, in_shape[1:], num_classes, self.device)
        t = cfg.train
        cuda = self.device.type == "cuda"
        # auto is resolved by the trainer, which times a real step (ff.precision); until then fp32
        first = "fp32" if t.precision == "auto" else t.precision
        self.set_precision(resolve_precision(first, self, channels_last=t.channels_last))
        if t.compile and cuda:
            for layer in self.net.layers:
                layer.forward = torch.compile(layer.forward, mode=t.compile_mode, dynamic=False)
        adam = {"fused": True} if cuda else {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        if self.method == "bp":
            self.net.requires_grad_(True)
            self.optimizers["net"] = torch.optim.Adam(
                [*self.net.parameters(), *self.head.parameters()], lr=t.lr, **adam
            )
        else:
            if self.method == "random":
                self.net.requires_grad_(False)
            params = [p for p in self.net.parameters() if p.requires_grad]
            if params:
                self.optimizers["net"] = torch.optim.Adam(params, lr=t.lr, **adam)
            self.optimizers["head"] = torch.optim.Adam(self.head.parameters(), lr=t.head_lr, **adam)
        self.base_lrs = {k: [g["lr"] for g in o.param_groups] for k, o in self.optimizers.items()}
        self.dist = SINGLE  # data-parallel rank (ff.distributed), set by the trainer under torchrun
        self._reducer = GradReducer(SINGLE)

    # --- training -------------------------------------------------------------------------
    # Phases of a run (the spiking model's hybrid training; the rate model has one): what the
    # current epoch trains ("rate" | "spiking"), how many leading epochs train the rate limit
    # (trainer.run_lr_factor, budget.decide), the lr factor at which the epochs after them start,
    # and the images of a spiking epoch (None: the whole training split).
    phase: str | None = None
    rate_epochs = 0
    finetune_lr = 1.0
    epoch_images: int | None = None

    def begin_epoch(self, epoch: int) -> None:
        """Called by the trainer before every epoch (1-based); the rate model has no phases."""

    def epoch_steps(self, steps: int, batch: int) -> int:
        """The training steps of the current epoch, of batches of ``batch`` images, when a whole pass
        over the training split is ``steps``: all of them, except in a spiking epoch of a model with
        ``epoch_images`` N (``spiking.epoch_images``), which takes the first min(S, max(1, ⌊N/B⌋))
        batches of its epoch's permutation (each epoch draws its own)."""
        if self.phase != "spiking" or self.epoch_images is None:
            return steps
        return max(1, min(steps, self.epoch_images // batch))

    def set_precision(self, precision: Precision) -> None:
        """Train with ``precision`` (bf16 autocast or fp32, channels_last or not); weights stay fp32."""
        self.precision = precision
        fmt = torch.channels_last if precision.channels_last else torch.contiguous_format
        self.net.to(memory_format=fmt)

    def autocast(self):
        """The autocast context of training passes (evaluation never uses it)."""
        return self.precision.autocast(self.device)

    def _fmt(self, h: torch.Tensor) -> torch.Tensor:
        """A layer input in the training memory format (channels_last when the precision says so)."""
        return (
            h.contiguous(memory_format=torch.channels_last) if self.precision.channels_last else h
        )

    def set_lr_factor(self, factor: float) -> None:
        for k, opt in self.optimizers.items():
            for g, lr in zip(opt.param_groups, self.base_lrs[k]):
                g["lr"] = lr * factor

    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
    ) -> dict[str, torch.Tensor]:
        """One optimisation step on images ``x`` (B, 1, H, W) in [0, 1]; returns detached losses."""
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=True)
        self._reducer = GradReducer(self.dist)
        logits = self._head_logits(x, gen)
        out = self._ff_backward(x, y, gen, logits.detach()) if self.method == "ff" else {}
        head_loss = F.cross_entropy(logits, y)
        head_loss.backward()
        self._reducer.launch(self.head.parameters())
        if self.method == "bp":
            self._reducer.launch(self.net.parameters())
        self._reducer.wait()
        for opt in self.optimizers.values():
            opt.step()
        out["head"] = head_loss.detach()
        out["total"] = sum(out.values())
        return out

    def _head_logits(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Linear-head logits of the neutral-label input; the graph reaches the head only (end to end for ``bp``)."""
        if self.method == "bp":
            with self.autocast():
                acts = self.net(self.labels.neutral(x), detach=False)
                return self.head(self.net.features(acts, detach=False))
        with torch.no_grad(), self.autocast():
            feats = self.net.features(self.net(self._fmt(self.labels.neutral(x))))
        return self.head(feats)

    def _encode(self, x_labelled: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Layer-0 input of labelled images (the spiking model encodes them over T steps)."""
        return x_labelled

    def _layer(
        self, i: int, h: torch.Tensor, train: bool, gen: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(input of the next layer, activations whose goodness layer i is trained on); with
        ``model.train_timesteps`` T the rates carry the spike-count quantisation of a T-step window."""
        with self.autocast():
            a = self.net.layers[i](self._fmt(h))
        if self.cfg.model.train_timesteps and gen is not None:
            a = count_noise(a, self.cfg.model.scales[i], int(self.cfg.model.train_timesteps), gen)
        return a, a

    def _ff_backward(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        gen: torch.Generator,
        head_logits: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Layer by layer: forward, local loss, backward, free the graph (objective: ``ff.objective``).

        Equivalent to summing the layer losses (no gradient crosses a layer), but only one layer's
        activations are alive at a time. Inputs go through as groups: positives and negatives (one
        group of (1 + k)B with ``train.ff_posneg: batched``, B and kB with ``sequential``; k =
        ``goodness.negatives_per_image``, negatives image-major), or every label of every image
        (loss ``softmax``). The threshold loss is a sum of per-group terms, so each
        group is back-propagated on its own (half the memory); the pairwise losses need both at once.
        """
        groups = self._ff_groups(x, y, gen, head_logits)
        last = max(self.cfg.model.loss_layers, default=-1)
        return self._train_layers(groups, y, gen, range(last + 1))[1]

    def _ff_groups(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        gen: torch.Generator,
        head_logits: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """The labelled layer-0 inputs of one step, as the groups :meth:`_ff_backward` describes."""
        obj = self.cfg.goodness
        if obj.loss == "softmax":
            groups = [self.labels.all_labels(x)]
        else:
            neg = self.negatives(x, y, gen, head_logits)
            xk = x.repeat_interleave(neg.shape[1], 0) if neg.dim() == 2 else x
            groups = [self.labels.overlay(x, y), self.labels.overlay(xk, neg.flatten())]
            if self.cfg.train.ff_posneg == "batched":
                groups = [torch.cat(groups)]
        return [self._encode(h, gen) for h in groups]

    def _train_layers(
        self, groups: list[torch.Tensor], y: torch.Tensor, gen: torch.Generator, layers: range
    ) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
        """Layers ``layers`` (consecutive) of one step: each one's forward, local loss and backward
        (the gradients wait for the optimiser step); returns the groups as the next layer's input
        (detached) and the losses by layer. The first ``len(y)`` rows of the groups are positives."""
        obj, b = self.cfg.goodness, y.shape[0]
        out: dict[str, torch.Tensor] = {}
        for i in layers:
            learn = i in self.cfg.model.loss_layers
            if not learn:
                with torch.no_grad():
                    groups = [self._layer(i, h, False, gen)[0] for h in groups]
                continue
            if obj.loss == "threshold":
                groups, li = self._threshold_layer(i, groups, b, self.net.thresholds[i], gen)
            else:
                outs = [self._layer(i, h, True, gen) for h in groups]
                g = torch.cat([self._goodness(a) for _, a in outs])
                li = (
                    softmax_loss(g.view(b, -1), y, obj.scale, obj.relative)
                    if obj.loss == "softmax"
                    else symba_loss(g[:b], g[b:], obj.scale, obj.relative)
                )
                if li.requires_grad:
                    li.backward()
                groups = [h.detach() for h, _ in outs]
            self._reducer.launch(self.net.layers[i].parameters())
            out[f"layer{i}"] = li.detach()
        return groups, out

    def _goodness(self, a: torch.Tensor) -> torch.Tensor:
        """The goodness the loss trains: (n,) per layer, or (n, R²) per region (``goodness.regions``)."""
        r = self.cfg.goodness.regions
        return layer_goodness(a, self.cfg.goodness.measure) if r == 1 else region_goodness(a, r)

    def _threshold_layer(
        self,
        i: int,
        groups: list[torch.Tensor],
        b: int,
        theta: float,
        gen: torch.Generator | None = None,
    ):
        """The threshold loss of layer i, group by group (the first b rows of the inputs are positives)."""
        obj, outs, total, start = self.cfg.goodness, [], 0.0, 0
        for h in groups:
            h, a = self._layer(i, h, True, gen)
            g = self._goodness(a)
            n_pos = max(0, min(len(g), b - start))
            li = threshold_terms(g[:n_pos], 1.0, theta, obj.scale) + threshold_terms(
                g[n_pos:], -1.0, theta, obj.scale
            )
            if li.requires_grad:
                li.backward()
            total, start = total + li.detach(), start + len(g)
            outs.append(h.detach())
        return outs, total

    def negatives(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        gen: torch.Generator,
        head_logits: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Wrong labels: (B,) for one per image, (B, k) for ``goodness.negatives_per_image`` k > 1
        (distinct per image). Uniform; hard (from the current goodness of every label on
        ``goodness.hard_layers``, α-scaled, in the training precision); or head (from the linear
        head's logits on the neutral input, which this step computes anyway)."""
        obj, k, d = self.cfg.goodness, self.cfg.goodness.negatives_per_image, self.dist
        y_all = all_gather_rows(
            y, d
        )  # data-parallel: draw for the whole global batch, keep our rows
        if obj.negatives == "uniform":
            if k == 1:
                return rows_of_rank(sample_negatives(y_all, self.num_classes, gen), d)
            return rows_of_rank(uniform_negatives(y_all, self.num_classes, k, gen), d)
        if obj.negatives == "head":
            logits = all_gather_rows(head_logits, d)
            return rows_of_rank(hard_negatives(logits, y_all, 1.0, gen, k), d)
        layers = self.cfg.model.score_layers if obj.hard_layers is None else obj.hard_layers
        with torch.no_grad(), self.autocast():
            scores = label_scores(self.net, self.labels, x, layers, self._fmt)
        scores = all_gather_rows(scores.float(), d)
        if obj.relative:
            scores = scores / scores.mean(1, keepdim=True).clamp_min(1e-12)
        return rows_of_rank(hard_negatives(scores, y_all, obj.scale, gen, k), d)

    # --- inference ------------------------------------------------------------------------
    @torch.no_grad()
    def predict_linear(self, x: torch.Tensor) -> torch.Tensor:
        """Linear-head prediction, in fp32 whatever the training precision."""
        return self.head(self.net.features(self.net(self.labels.neutral(x)))).argmax(1)

    @torch.no_grad()
    def predict_goodness(self, x: torch.Tensor) -> torch.Tensor | None:
        """Goodness prediction over all labels, in fp32 whatever the training precision."""
        if self.method != "ff":
            return None
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
            load_optimizer(
                f"opt.{k}", opt, {n: v.to(self.device) for n, v in tensors.items()}, meta[k]
            )


def build_model(
    cfg: Config,
    in_shape: tuple[int, int, int] = (1, 28, 28),
    num_classes: int = 10,
    device: torch.device | str = "cpu",
    kind: str = "rate",
) -> RateModel:
    """The model factory of this stage: rate models only. Later stages extend it (the spiking model in
    :func:`ff_neuro.spiking.model.build_model`, quantisation-aware training in
    :func:`ff_neuro.hardware.qat.build_model`); what it cannot build is refused, never built without."""
    if kind != "rate":
        raise ConfigError(
            f"model kind {kind!r} is built by a later stage's factory "
            f"(ff_neuro.spiking.model.build_model or ff_neuro.pipeline.model_factory)"
        )
    if cfg.hardware.profile:
        raise ConfigError(
            f"hardware.profile {cfg.hardware.profile!r} (quantisation-aware training) is built "
            f"by ff_neuro.hardware.qat.build_model (or ff_neuro.pipeline.model_factory)"
        )
    return RateModel(cfg, in_shape, num_classes, device)
