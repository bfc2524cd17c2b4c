"""Hardware profiles (Loihi, Loihi 2, TrueNorth, ideal), fixed-point quantisation, an integer
emulation of Lava's fixed-point LIF, resource/energy estimates and quantisation-aware training.

Nothing here needs lava-nc; the Lava graphs live in :mod:`ff_neuro.lava`.
"""

from .profiles import HardwareProfile, ProfileError, available_profiles, load_profile
from .quantize import LoihiLayer, LoihiNet, float_net, quantize_spec

__all__ = [
    "HardwareProfile",
    "ProfileError",
    "available_profiles",
    "load_profile",
    "LoihiLayer",
    "LoihiNet",
    "float_net",
    "quantize_spec",
]
