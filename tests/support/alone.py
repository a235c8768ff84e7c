"""Tests that measure time or a rate, run with no other test beside them when the suite runs in
parallel (pytest-xdist): a test marked ``alone`` holds a lock every other test shares, so while it
runs (its fixtures' set-up and tear-down included) the other workers wait between their tests.

Two files in the run's shared temporary folder: ``alone.lock``, taken exclusively by an ``alone``
test and shared by the rest, and ``alone.turnstile``, which everyone passes through on the way in,
and which an ``alone`` test holds while it waits, so that no new shared holder slips in ahead of it.
Outside xdist (one process) the lock is not taken at all."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def held(folder: Path, alone: bool) -> Iterator[None]:
    """The lock for one test: exclusive when ``alone``, else shared; nothing outside xdist."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    with open(folder / "alone.turnstile", "a") as turnstile, open(folder / "alone.lock", "a") as lock:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
