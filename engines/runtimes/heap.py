"""glibc's heap, tuned for frames: freed activations are kept for the next frame, and given back to the
system when the work that needed them ends (a viewer leaves the server)."""
from __future__ import annotations

import ctypes
import functools
import sys

M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:  # another C library (musl)
        return None


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> None:
    """Keep large freed blocks in the heap instead of handing them back to the kernel. glibc maps
    every allocation over 32 MiB fresh, and a 1280x720 activation (59 MB in bf16) was then
    page-faulted in on every frame: 57,000 faults, a third of the frame's time. And one heap for
    every thread: a thread's own arena grows in heaps of 64 MiB at most, so there a block that size
    is mapped fresh whatever M_MMAP_MAX says (a render of Big Buck Bunny at 1280x720 took 14,000
    faults a frame, 3.4 s of the kernel's time in 16 s; 0.8 s with one arena)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_MAX, 0)            # no mmap for large blocks
        libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)  # keep up to 1 GiB of freed heap
        libc.mallopt(M_ARENA_MAX, 1)           # threads without an arena yet share the main one


def give_back_freed_memory() -> bool:
    """Return the heap's free pages (every arena's, not only the top) to the system. Costs the
    frames that follow a page fault per page they touch again, so it is for the end of a job."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
