"""SpikingModel: Forward-Forward trained directly in the spiking network (kind "spiking").

Same interface, parameters and checkpoint layout as :class:`ff_neuro.ff.model.RateModel` (an FFNet's
conv weights and a linear head), but every forward pass is the LIF simulation of ``simulate.py``:

    s_0 = encode(x', T);   s_l = LIF(I_l),  I_l[t] = g_l · (W'_l ∗ s_{l−1}[t]) + b'_l
    r_l = count_l / T,     goodness on a_l = λ_l · r_l   (``ff.objective``: measure, loss, negatives)

In spike units (``model.norm: none`` with ``model.activation: ifzero`` or ``relu1``, the default of the
spiking configs) the parameters are those of the rate model a_l = λ ψ((W_l a_{l−1} + b_l)/λ):
W'_l = W_l · λ_{l−1}/λ_l, b'_l = b_l/λ_l (λ_{−1} = 1), g_l = 1, so the rate model is this network's
T → ∞ limit and a trained run deploys as it is. Otherwise (legacy) W' = W, b' = b, λ = 1, and
g_l = 1/rms(r_{l−1}) per sample when ``spiking.input_norm`` is rms.

Gradients never cross layers: each layer's input spikes are detached, and its loss is back-propagated
and its graph freed before the next layer runs. Within a layer, ``spiking.gradient`` chooses:
  * ``bptt`` – back-propagation through the T steps with snnTorch's fast-sigmoid surrogate for the
               spike's derivative (reset detached);
  * ``rate`` – the forward pass is the exact spike simulation, the backward pass differentiates the
               spike representation (Meng et al., CVPR 2022, "DSR"): r̂ = ψ(Ī) with the mean current
               Ī = g · (W' ∗ r_{l−1}) + b' (exact: the conv is linear) and ψ the rate of this neuron:
               u/(1 + u) as measured for reset to zero (``docs/spiking.md``), min(max(u, 0), 1) for reset
               by subtraction (``model.activation: relu1``); r = r̂ + (count/T − r̂).detach(), so the loss
               sees the true spike counts and the gradient costs one conv instead of T.
The linear head learns from the detached spike-count features rms_norm(count/T) of the neutral input.

Hybrid training (``spiking.rate_epochs`` R > 0, spike units only): epochs 1 … R train this network's
rate limit a_l = λ_l ψ((W_l a_{l−1} + b_l)/λ_l) — the rate model's step, on the same weights, with no
simulation — and epochs R + 1 … E fine-tune them in spikes as above (conversion followed by
spike-based fine-tuning: Rathi et al., ICLR 2020), on a schedule of their own that starts at
``spiking.finetune_lr`` × lr (``trainer.run_lr_factor``). The rate epochs are validated in the rate
limit (cheap, recorded as such) and never selected: selection and test read spike counts. The trainer
switches the phase with :meth:`begin_epoch`. ``spiking.epoch_images`` N makes every spiking epoch (of a
hybrid run or not) a pass over N training images, drawn afresh each epoch (``epoch_steps``), instead of
the whole split: on a CPU without bf16 hardware a whole spiking epoch at T = 16 costs as much as
7–8 rate epochs, and a part of one is enough to adapt converted weights to spike counts.

Training passes use the run's ``train.precision`` (``ff.precision``): under bf16 the convolutions that
make the currents I_l (and the DSR conv) run in bf16 autocast, while the membrane recurrence, the
spikes, the goodness and the weights stay fp32 (``simulate_layer`` returns the input's dtype).
Spikes are 0/1 and exact in bf16, so only W'_l, b'_l and the conv's sums are rounded. Every
evaluation (``network()``: validation, test, spike counts, conversion) is fp32.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from snntorch import surrogate

from ..config import Config
from ..errors import ConfigError
from ..ff.functional import activation
from ..ff.model import RateModel
from ..ff.model import build_model as build_rate_model
from .convert import is_native, neuron_reset
from .encoding import encode
from .lif import LIFParams, heaviside
from .network import SpikingNetwork
from .readout import spike_features
from .simulate import rms_gain, simulate_layer
from .spec import LIFConvSpec, SpikingNetSpec


class SpikingModel(RateModel):
    kind = "spiking"

    def __init__(
        self,
        cfg: Config,
        in_shape: tuple[int, int, int] = (1, 28, 28),
        num_classes: int = 10,
        device: torch.device | str = "cpu",
    ):
        if cfg.train.method not in ("ff", "random"):
            raise ConfigError(
                f"the spiking model trains with train.method 'ff' or 'random', got "
                f"{cfg.train.method!r}: use --model rate for the bp control"
            )
        super().__init__(cfg, in_shape, num_classes, device)
        sc = cfg.spiking
        self.T, self.encoding, self.gradient = sc.timesteps, sc.encoding, sc.gradient
        self.lif = LIFParams(float(sc.beta), float(sc.threshold), neuron_reset(cfg))
        self.spike_fn = surrogate.fast_sigmoid(slope=sc.surrogate_slope)
        self.native = is_native(cfg)
        self.rms_input = sc.input_norm == "rms" and not self.native
        self.scales = cfg.model.scales if self.native else [1.0] * len(self.net.layers)
        per_unit = cfg.goodness.measure == "mean"
        self.net.thresholds = [
            sc.readout_scale * (1.0 if per_unit else float(np.prod(s))) for s in self.net.shapes
        ]
        self.rate_epochs, self.finetune_lr, self.phase = sc.rate_epochs, sc.finetune_lr, "spiking"
        self.epoch_images = sc.epoch_images

    def begin_epoch(self, epoch: int) -> None:
        """Epochs 1 … ``spiking.rate_epochs`` train the rate limit, the later ones the spikes."""
        self.phase = "rate" if epoch <= self.rate_epochs else "spiking"

    # --- simulation -----------------------------------------------------------------------
    def layer_params(self, i: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(W'_l, b'_l): the weights and per-step bias current of layer i in spike units."""
        conv = self.net.layers[i].conv
        prev = self.scales[i - 1] if i else 1.0
        w = conv.weight * (prev / self.scales[i])
        b = conv.bias / self.scales[i] if conv.bias is not None else None
        return w, b

    def _encode(self, x_labelled: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self.phase == "rate":
            return super()._encode(x_labelled, gen)
        return encode(x_labelled, self.T, self.encoding, gen).float()

    def _layer(
        self, i: int, s: torch.Tensor, train: bool, gen: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(spike trains (T, B, C, H, W), λ · rate for the goodness) of layer i driven by spikes ``s``
        (in the rate phase: the rate model's layer)."""
        if self.phase == "rate":
            return super()._layer(i, s, train, gen)
        w, b = self.layer_params(i)
        conv, s = self.net.layers[i].conv, s.detach()
        stride, pad = conv.stride[0], conv.padding[0]
        if not (train and self.gradient == "rate"):
            fn = self.spike_fn if train else heaviside
            with self.autocast():
                out = simulate_layer(
                    s, w, b, stride, pad, self.lif, rms_input=self.rms_input, spike_fn=fn
                )
            return out, self.scales[i] * out.mean(0)
        with self.autocast():
            with torch.no_grad():
                out = simulate_layer(s, w, b, stride, pad, self.lif, rms_input=self.rms_input)
            z = F.conv2d(s.mean(0), w, None, stride, pad).to(s.dtype)
        if self.rms_input:
            z = z * rms_gain(s).view(-1, 1, 1, 1)
        if b is not None:
            z = z + b.view(1, -1, 1, 1)
        r_hat = activation(z, "relu1" if self.lif.reset == "subtract" else "ifzero", 1.0)
        return out, self.scales[i] * (r_hat + (out.mean(0) - r_hat).detach())

    def spec(self) -> SpikingNetSpec:
        """The trained network as a spec ("exact" when input_norm is rms: not deployable as is)."""
        layers, shape = [], tuple(self.net.in_shape)
        with torch.no_grad():
            for i, (layer, out) in enumerate(zip(self.net.layers, self.net.shapes)):
                w, b = self.layer_params(i)
                b = b if b is not None else torch.zeros(layer.conv.out_channels)
                layers.append(
                    LIFConvSpec(
                        w.cpu().numpy().astype(np.float32),
                        b.cpu().numpy().astype(np.float32),
                        layer.conv.stride[0],
                        layer.conv.padding[0],
                        self.lif.beta,
                        self.lif.threshold,
                        shape,
                        tuple(out),
                        self.scales[i],
                        self.rms_input,
                        self.lif.reset,
                    )
                )
                shape = tuple(out)
        lab = self.labels
        meta = {
            "variant": "exact" if self.rms_input else "static",
            "source_kind": "spiking",
            "native": self.native,
            "goodness_measure": self.cfg.goodness.measure,
            "goodness_thresholds": list(self.net.thresholds),
            "labels": lab.meta(),
            "in_shape": list(self.net.in_shape),
            "config_name": self.cfg.name,
        }
        return SpikingNetSpec(
            layers,
            self.T,
            self.encoding,
            self.cfg.model.score_layers,
            list(self.cfg.model.readout_layers),
            self.head.fc.weight.detach().cpu().numpy().copy(),
            self.head.fc.bias.detach().cpu().numpy().copy(),
            meta,
        )

    def network(self) -> SpikingNetwork:
        return SpikingNetwork(self.spec(), self.device, seed=self.cfg.train.seed)

    # --- training -------------------------------------------------------------------------
    def _head_logits(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Linear-head logits on spike-count features of the neutral-label input (the graph reaches the head only)."""
        if self.phase == "rate":
            return super()._head_logits(x, gen)
        with torch.no_grad():
            s = self._encode(self.labels.neutral(x), gen)
            counts = []
            for i in range(len(self.net.layers)):
                s = self._layer(i, s, train=False)[0]
                counts.append(s.sum(0))
            feats = spike_features(counts, self.T, self.cfg.model.readout_layers)
        return self.head(feats)

    # --- inference ------------------------------------------------------------------------
    @torch.no_grad()
    def predict_linear(self, x: torch.Tensor) -> torch.Tensor:
        if self.phase == "rate":  # validation of a rate-limit epoch
            return super().predict_linear(x)
        return self.network().predict_linear(x)

    @torch.no_grad()
    def predict_goodness(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.method != "ff":
            return None
        if self.phase == "rate":
            return super().predict_goodness(x)
        return self.network().predict_goodness(x)

    @torch.no_grad()
    def spike_counts(self, x_labelled: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer spike counts (N, C, H, W) of labelled images."""
        return self.network().spike_counts(x_labelled)


def build_model(
    cfg: Config,
    in_shape: tuple[int, int, int] = (1, 28, 28),
    num_classes: int = 10,
    device: torch.device | str = "cpu",
    kind: str = "rate",
):
    """The model factory of the spiking stage: :func:`ff_neuro.ff.model.build_model` plus kind "spiking"."""
    if kind == "spiking":
        if cfg.hardware.profile:
            raise ConfigError(
                f"hardware.profile {cfg.hardware.profile!r} (quantisation-aware training) is "
                f"built by ff_neuro.hardware.qat.build_model"
            )
        return SpikingModel(cfg, in_shape, num_classes, device)
    return build_rate_model(cfg, in_shape, num_classes, device, kind)
