"""Waiting for something to become true, for the tests and the tools that start processes."""
from __future__ import annotations

import time


def wait_for(predicate, timeout: float, what: str, every: float = 0.1):
    """Poll ``predicate`` until it gives a true value (returned); after ``timeout`` seconds fail,
    saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {timeout:g} s: {what}")
