"""Hypothesis profiles of the fuzz tests (issue 19).

CI runs the ``gankit-ci`` profile: derandomised (the same examples every run, no example database) and
small budgets, a few hundred examples in all, well under a minute. A longer local hunt::

    GANKIT_FUZZ_EXAMPLES=2000 python -m pytest tests/fuzz -q

loads ``gankit-long``: random examples, each fuzz test running that many.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

LONG = int(os.environ.get("GANKIT_FUZZ_EXAMPLES", "0") or 0)

settings.register_profile("gankit-ci", deadline=None, derandomize=True, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile("gankit-long", parent=settings.get_profile("gankit-ci"), derandomize=False,
                          max_examples=max(LONG, 1))
settings.load_profile("gankit-long" if LONG else "gankit-ci")


def budget(ci_examples: int) -> settings:
    """Settings of one fuzz test: ``ci_examples`` examples in CI, ``$GANKIT_FUZZ_EXAMPLES`` in a long run."""
    return settings(max_examples=LONG or ci_examples)


@pytest.fixture(autouse=True)
def small_machine(monkeypatch):
    """Fuzzed sizes meet a 512 MiB machine: what does not fit is refused at once instead of built slowly."""
    monkeypatch.setenv("GANKIT_MEMORY_LIMIT_MB", "512")
