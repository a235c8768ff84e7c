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


@needs_glibc
def test_a_thread_reuses_large_freed_blocks_without_page_faults():
    """A thread's own glibc arena would map a block of 59 MiB (a 1280x720 activation) fresh on every
    allocation (heaps of at most 64 MiB there, whatever M_MMAP_MAX says): hundreds of page faults
    each time with transparent huge pages, 15,000 without. A fresh process, as the setting holds for
    arenas not made yet."""
    import subprocess
    import sys

    code = """
import resource, threading, numpy as np
from engines.runtimes.heap import keep_freed_memory
keep_freed_memory()
faults = []
def frames():
    for _ in range(6):
        before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        blocks = np.ones(59 << 20, np.uint8), np.ones(30 << 20, np.uint8)  # touched
        del blocks
        faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)
workers = [threading.Thread(target=frames) for _ in range(2)]
for w in workers: w.start()
for w in workers: w.join()
print(sorted(faults))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    faults = eval(out)  # noqa: S307 (our own output: a list of ints)
    assert len(faults) == 12
    assert sorted(faults)[9] < 50  # all but each thread's first (the heap growing) reuse what was freed
