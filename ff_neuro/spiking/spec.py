"""The hand-over format between the spiking model and its deployments (Lava, NIR, netx).

A :class:`SpikingNetSpec` is plain numpy: per layer a convolution (torch layout) feeding LIF
neurons with, per time step,

    v[t] = beta · v[t−1] + (W ∗ s_in)[t] + bias        (Lava: du = 1, dv = 1 − beta, bias_mant = bias)
    s[t] = v[t] > threshold  (strict);  v[t] = 0 where s[t]     (reset "zero", Lava's LIF)
                                   or v[t] −= threshold where s[t] (reset "subtract": LIFResetSubtract)

Layer 0 receives the encoded input (constant current or Bernoulli spikes of the labelled image);
layer l > 0 receives the spikes of layer l − 1. Any static normalisation is already folded into
``weight`` and ``bias``; the per-sample RMS normalisation of the rate model has no place here.

Building the layer-0 input (``ff_neuro.spiking``):

    x' = FourierLabels.overlay(x, y) / .neutral(x) / .all_labels(x)     labelled image in [0, 1]
    inputs = spec_input(spec, x') = encode(x', spec.timesteps, spec.encoding)   (T, N, C, H, W)
             "current": x' repeated T times;  "rate": Bernoulli(x') per step (spikegen.rate)
    trains = simulate_spec(spec, inputs)      list of per-layer spike trains (T, N, C, H, W), {0, 1}

No other preprocessing: the static input scale is folded into layer 0's weights.

Fields added by the snnTorch stage (defaults keep the original contract):
  * ``LIFConvSpec.act_scale`` λ: firing rates approximate the rate model's ReLU activations / λ;
    the goodness readout in rate-model units is Σ_l λ_l² Σ (count/T)² (1 for a directly trained SNN).
  * ``LIFConvSpec.rms_input``: True only in the simulation-only "exact" variant, where the layer's
    synaptic input W ∗ s_in is multiplied per sample by 1/sqrt(mean((count_in/T)²) + 1e-8), computed
    over the whole window of the previous layer. Such a spec is NOT deployable: exporters must
    refuse it (``spec.deployable`` is False). The default variant "static" never sets it.
  * ``SpikingNetSpec.meta``: "variant", "source_kind", "labels" {set, K, num_classes},
    "in_shape", "goodness_thresholds" (per layer, on the Σ(count/T)² scale), calibration details.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LIFConvSpec:
    weight: np.ndarray  # (C_out, C_in, kH, kW), float32, torch cross-correlation layout
    bias: np.ndarray  # (C_out,) constant input current per step
    stride: int
    padding: int
    beta: float  # membrane decay per step, 1 = no leak (Lava dv = 1 − beta)
    threshold: float  # strict: spike when v > threshold
    in_shape: tuple[int, int, int]  # (C, H, W)
    out_shape: tuple[int, int, int]
    act_scale: float = 1.0  # rates ≈ rate-model activations / act_scale (readout scale only)
    rms_input: bool = (
        False  # "exact" variant only: per-sample RMS gain on the input (not deployable)
    )
    reset: str = "zero"  # after a spike: "zero" | "subtract" (v ← v − threshold)


@dataclass
class SpikingNetSpec:
    layers: list[LIFConvSpec]
    timesteps: int
    encoding: str  # "current" | "rate"
    loss_layers: list[int]  # the layers whose goodness the goodness classifier sums
    readout_layers: list[int]
    head_weight: np.ndarray | None = None  # (classes, features) linear head on spike-count features
    head_bias: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def deployable(self) -> bool:
        """True when every layer is static (no per-sample normalisation): what Lava can run."""
        return not any(layer.rms_input for layer in self.layers)
