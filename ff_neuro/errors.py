"""Exceptions with one-line messages that name the problem and the fix."""


class FFNeuroError(Exception):
    """Base class: every error ff_neuro raises on bad input derives from it."""


class DatasetNotFoundError(FFNeuroError):
    pass


class ChecksumError(FFNeuroError):
    pass


class ConfigError(FFNeuroError):
    pass


class CheckpointError(FFNeuroError):
    pass


class TrainingDivergedError(FFNeuroError):
    pass
