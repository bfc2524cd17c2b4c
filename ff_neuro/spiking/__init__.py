"""The spiking FF network in snnTorch semantics (Lava LIF: du = 1, strict threshold). Neurons reset by
subtraction (the rate models trained in spike units, ``model.norm: none`` with ``activation: relu1``:
the shipped configs) or to zero (Lava's own LIF: the paper's RMS-normalised ReLU models), per layer
(``LIFConvSpec.reset``).

Public API:
  encode(x_labelled, T, encoding, generator)      → (T, N, C, H, W) layer-0 input ("current" | "rate")
  simulate_spec(spec, inputs)                     → per-layer spike trains (T, N, C, H, W)
  spec_input(spec, x_labelled, generator)         → encode with the spec's T and encoding
  spiking_spec_from_run(run_dir, timesteps, encoding, variant="static", calibration="spikes")
                                                  → SpikingNetSpec (static = deployable on Lava)
  run_spec(run_dir, timesteps)                    → the spec ``spike`` saved (else converted), provenance
  SpikingNetwork(spec)                            → spike_counts / goodness_scores / predict_*
  spike_run(run_dir, timesteps, encodings, samples, variants, device) → the spike_metrics dict
  SpikingModel (ff_neuro.spiking.model)           → direct FF training of the SNN (kind "spiking")
"""

from .convert import CALIBRATIONS, VARIANTS, convert, spiking_spec_from_run
from .encoding import ENCODINGS, encode
from .errors import EncodingError, SpikingError, TimestepsError, VariantError
from .evaluate import spike_run
from .lif import LIFParams, LIFState, lif_scan, lif_step
from .network import SpikingNetwork, simulate_spec, spec_input
from .readout import goodness_score, spike_features, spike_goodness
from .spec import LIFConvSpec, SpikingNetSpec
from .store import SpecError, load_spec, run_spec, save_spec, spec_path

__all__ = [
    "CALIBRATIONS",
    "ENCODINGS",
    "VARIANTS",
    "EncodingError",
    "LIFConvSpec",
    "LIFParams",
    "LIFState",
    "SpecError",
    "SpikingError",
    "SpikingNetSpec",
    "SpikingNetwork",
    "TimestepsError",
    "VariantError",
    "convert",
    "encode",
    "goodness_score",
    "lif_scan",
    "lif_step",
    "load_spec",
    "run_spec",
    "save_spec",
    "simulate_spec",
    "spec_input",
    "spec_path",
    "spike_features",
    "spike_goodness",
    "spiking_spec_from_run",
    "spike_run",
]
