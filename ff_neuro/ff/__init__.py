"""Stage 2: the rate-coded Forward-Forward CNN, its classifiers, controls, trainer and run loader."""

from .classify import LinearHead, goodness_scores
from .functional import ff_loss, goodness, rms_norm
from .model import RateModel, build_model
from .network import FFConv, FFNet, output_shapes
from .precision import Precision, resolve_precision
from .run import Run, open_run
from .trainer import cooldown_factor, evaluate, evaluate_run, lr_factor, train

__all__ = [
    "LinearHead",
    "goodness_scores",
    "ff_loss",
    "goodness",
    "rms_norm",
    "RateModel",
    "FFConv",
    "FFNet",
    "output_shapes",
    "Run",
    "build_model",
    "cooldown_factor",
    "lr_factor",
    "Precision",
    "resolve_precision",
    "evaluate",
    "evaluate_run",
    "open_run",
    "train",
]
