"""gankit: train the classic GANs, then measure honestly what they did.

Example::

    import gankit
    cfg = gankit.load_config(preset="ring8")
    result = gankit.train(cfg)
    gankit.sample(result.run_dir, n=64, out="grid.png")
"""

from __future__ import annotations

from gankit.version import __version__  # first: it imports nothing, and anything imported below may read it

from gankit.config import Config, list_presets as presets
from gankit.errors import CheckpointError, ConfigError, DataError, GankitError


def load_config(*args, **kwargs):
    """See :func:`gankit.plugins.load_config`: a config from layers, checked against the schema and the plugins."""
    from gankit.plugins import load_config as _load_config

    return _load_config(*args, **kwargs)


def train(*args, **kwargs):
    """See :func:`gankit.engine.trainer.train`."""
    from gankit.engine.trainer import train as _train

    return _train(*args, **kwargs)


def sample(*args, **kwargs):
    """See :func:`gankit.api.sample`."""
    from gankit.api import sample as _sample

    return _sample(*args, **kwargs)


def translate(*args, **kwargs):
    """See :func:`gankit.api.translate` (the twin of ``gankit translate``)."""
    from gankit.api import translate as _translate

    return _translate(*args, **kwargs)


def edit(*args, **kwargs):
    """See :func:`gankit.api.edit` (the twin of ``gankit edit``)."""
    from gankit.api import edit as _edit

    return _edit(*args, **kwargs)


def evaluate(*args, **kwargs):
    """See :func:`gankit.evaluation.evaluate` (the twin of ``gankit eval``)."""
    from gankit.evaluation import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


def study(*args, **kwargs):
    """See :func:`gankit.studies.run` (the twin of ``gankit study NAME``)."""
    from gankit.studies import run as _run

    return _run(*args, **kwargs)


from gankit import report  # the package is callable: gankit.report(run_dir, out=None) (see its docstring)


def doctor(*args, **kwargs):
    """See :func:`gankit.report.doctor.doctor` (the twin of ``gankit doctor``): the findings as dataclasses."""
    from gankit.report.doctor import doctor as _doctor

    return _doctor(*args, **kwargs)


def compare(*args, **kwargs):
    """See :func:`gankit.report.compare.compare` (the twin of ``gankit compare``)."""
    from gankit.report.compare import compare as _compare

    return _compare(*args, **kwargs)


__all__ = ["Config", "study", "compare", "doctor", "evaluate", "report", "load_config", "presets", "train", "sample", "translate", "edit", "GankitError", "ConfigError", "DataError",
           "CheckpointError", "__version__"]
