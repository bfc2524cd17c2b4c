"""Stage 2: the rate-coded Forward-Forward CNN, its classifiers, controls and trainer."""
from .classify import LinearHead, goodness_scores, predict_goodness, predict_linear
from .functional import ff_loss, goodness, rms_norm
from .model import RateModel
from .network import FFConv, FFNet, output_shapes
from .trainer import build_model, cooldown_factor, evaluate, evaluate_run, load_run, train

__all__ = ["LinearHead", "goodness_scores", "predict_goodness", "predict_linear", "ff_loss", "goodness",
           "rms_norm", "RateModel", "FFConv", "FFNet", "output_shapes", "build_model", "cooldown_factor",
           "evaluate", "evaluate_run", "load_run", "train"]
