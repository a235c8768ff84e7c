"""glibc heap settings (engines/runtimes/heap.py): freed frames are kept for the next one, and given back on request."""
from __future__ import annotations

import numpy as np
import pytest

from engines.runtimes.heap import _libc, give_back_freed_memory, keep_freed_memory
from stream.serve.diagnostics import resident_mb

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

needs_glibc = pytest.mark.skipif(_libc() is None, reason="needs Linux with glibc")


@needs_glibc
def test_freed_memory_is_kept_then_given_back():
    keep_freed_memory()
    give_back_freed_memory()
    before = resident_mb()
    block = np.ones(256 << 20, np.uint8)  # 256 MiB, touched: mmap is off, so it comes from the heap
    assert resident_mb() - before > 200
    del block
    kept = resident_mb()
    assert kept - before > 200  # kept for the next frame, not handed back at free()
    assert give_back_freed_memory()
    assert kept - resident_mb() > 200
