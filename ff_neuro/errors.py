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


class RunDirError(FFNeuroError):
    """A run directory that cannot be used: a file, under a file, unwritable, or locked by another process."""


class UsageError(FFNeuroError):
    """A command-line value out of range (e.g. ``--samples 0``)."""


class RunFileError(FFNeuroError):
    """A file of a run directory (e.g. metrics.jsonl) is damaged beyond what a crash can cause."""
