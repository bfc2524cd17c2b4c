"""ff_neuro: Forward-Forward CNNs, rate-coded, spiking (snnTorch) and deployed on Lava.

Stages, each a subpackage, dependencies pointing one way (tests/test_layering.py):
data → ff → spiking → hardware → lava → analysis → pipeline → cli.
``train``, ``evaluate_run`` and ``open_run`` are those of :mod:`ff_neuro.pipeline` (every model kind).
"""

from .config import Config, load_config
from .data import FourierLabels, load_dataset
from .errors import FFNeuroError
from .ff import FFNet, RateModel

__version__ = "0.1.0"
__all__ = [
    "Config",
    "load_config",
    "FourierLabels",
    "load_dataset",
    "FFNeuroError",
    "FFNet",
    "RateModel",
    "evaluate_run",
    "open_run",
    "train",
    "__version__",
]


def __getattr__(name: str):
    if name in (
        "train",
        "evaluate_run",
        "open_run",
    ):  # the pipeline imports every stage: load on use
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'ff_neuro' has no attribute {name!r}")
