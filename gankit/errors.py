"""Errors that reach the user as one clear line (the CLI prints them and exits with code 2)."""

from __future__ import annotations


class GankitError(Exception):
    """A problem with the user's input: a config key, a file, a checkpoint.

    The message is one line that names what to fix. The CLI prints it without a traceback
    and exits with status 2.
    """


class ConfigError(GankitError, ValueError):
    """A config key is unknown, has the wrong type, or an impossible value."""


class DataError(GankitError, ValueError):
    """A data file is missing, corrupt or truncated."""


class CheckpointError(GankitError, ValueError):
    """A run folder or checkpoint cannot be used to resume or sample."""


class NonFiniteError(GankitError, ValueError):
    """A metric was given samples, features or logits that hold nan or inf (e.g. of a diverged G)."""
