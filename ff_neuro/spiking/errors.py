"""Errors of the spiking stage; each names the problem and the fix in one line."""

from ..errors import FFNeuroError


class SpikingError(FFNeuroError):
    """Base class of the spiking stage's input errors."""


class TimestepsError(SpikingError):
    pass


class EncodingError(SpikingError):
    pass


class VariantError(SpikingError):
    pass
