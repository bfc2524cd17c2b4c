"""ff_neuro: Forward-Forward CNNs, rate-coded, spiking (snnTorch) and deployed on Lava.

Stages, each a subpackage, dependencies pointing one way:
data → ff → spiking → lava → hardware → analysis.
"""
from .config import Config, load_config
from .data import FourierLabels, load_dataset
from .errors import FFNeuroError
from .ff import FFNet, RateModel, evaluate_run, train

__version__ = "0.1.0"
__all__ = ["Config", "load_config", "FourierLabels", "load_dataset", "FFNeuroError", "FFNet", "RateModel",
           "evaluate_run", "train", "__version__"]
