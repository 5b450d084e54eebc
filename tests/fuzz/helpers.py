"""The property every fuzz test checks: a command succeeds, or it fails with exit status 2 and one line."""

from __future__ import annotations

from hypothesis import strategies as st

MAX_LINE = 700


def assert_clean(status: int, err: str, out: str = "") -> None:
    """Exit 0, or exit 2 with exactly one bounded ``gankit: error:`` line on stderr; never a traceback."""
    assert "Traceback" not in err and "Traceback" not in out, err[-2000:]
    assert status in (0, 2), f"exit {status}: {err[-1000:]}"
    if status == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("gankit: error: "), err[-2000:]
        assert len(lines[0]) <= MAX_LINE


def json_values(max_leaves: int = 8) -> st.SearchStrategy:
    """Any JSON-able value, with the numbers that break things: huge ints, inf, nan, negative zero."""
    scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.sampled_from([0, -1, 2**31, 2**63, 2**64])
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=max_leaves)
