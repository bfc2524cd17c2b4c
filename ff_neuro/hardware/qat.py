"""Quantisation-aware FF training under a hardware profile (``ff-neuro train … --profile loihi2``).

Every conv weight of ``model.net.layers[i].conv`` is seen by the forward pass as its fake-quantised
value, with a straight-through estimator for the gradient:

    q(w) = round(w · s) / s,   s = (2^(b−1) − 1) / max|w|   (per layer, symmetric, b = weight_bits)
    forward: w + (q(w) − w).detach()          backward: ∂q/∂w := 1

This is the grid :func:`ff_neuro.hardware.quantize.quantize_spec` maps the weights to at export
(static scales folded into a layer multiply all its weights by one number, which leaves the
symmetric max-abs grid unchanged). Implemented with ``torch.nn.utils.parametrize``, so the rate and
the spiking model (which reads ``conv.weight`` directly) both see it; state-dict hooks keep the
checkpoint keys ``…conv.weight`` (the float master weights), so runs stay loadable everywhere.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..spiking.model import build_model as build_spiking_model
from .profiles import ProfileError, load_profile

ORIGINAL = "parametrizations.weight.original"


class FakeQuant(nn.Module):
    def __init__(self, bits: int):
        super().__init__()
        self.qmax = float(2 ** (bits - 1) - 1)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        scale = self.qmax / w.detach().abs().amax().clamp_min(1e-12)
        q = torch.round(w * scale) / scale
        return w + (q - w).detach()


def fake_quant(w: torch.Tensor, bits: int) -> torch.Tensor:
    return FakeQuant(bits)(w)


def _save_hook(module, state_dict, prefix, local_metadata):
    key = prefix + ORIGINAL
    if key in state_dict:
        state_dict[prefix + "weight"] = state_dict.pop(key)
    return state_dict


def _load_hook(state_dict, prefix, *args):
    if prefix + "weight" in state_dict and prefix + ORIGINAL not in state_dict:
        state_dict[prefix + ORIGINAL] = state_dict.pop(prefix + "weight")


def quantize_conv(conv: nn.Module, bits: int) -> None:
    if parametrize.is_parametrized(conv, "weight"):
        return
    parametrize.register_parametrization(conv, "weight", FakeQuant(bits))
    conv._register_state_dict_hook(_save_hook)
    conv._register_load_state_dict_pre_hook(_load_hook)


def apply_qat(model, profile_name: str):
    """Fake-quantise the conv weights of ``model.net`` to the profile's weight bits (in place)."""
    prof = load_profile(profile_name)
    if not prof.fixed_point:
        return model  # a float profile has nothing to emulate
    if prof.weight_bits is None:
        raise ProfileError(
            f"profile {prof.name!r} has no weight_bits: quantisation-aware training needs "
            f"a fixed-point profile such as loihi or loihi2"
        )
    for layer in model.net.layers:
        quantize_conv(layer.conv, prof.weight_bits)
    return model


def build_model(
    cfg,
    in_shape: tuple[int, int, int] = (1, 28, 28),
    num_classes: int = 10,
    device: torch.device | str = "cpu",
    kind: str = "rate",
):
    """The complete model factory: any kind (:func:`ff_neuro.spiking.model.build_model`), fake-quantised
    to ``cfg.hardware.profile`` when the config names one (quantisation-aware training)."""
    if not cfg.hardware.profile:
        return build_spiking_model(cfg, in_shape, num_classes, device, kind)
    plain = cfg.replace(hardware={"profile": None})
    model = build_spiking_model(plain, in_shape, num_classes, device, kind)
    model.cfg = cfg
    return apply_qat(model, cfg.hardware.profile)
