"""What a running server can say about itself (for /api/stats, the soak and the tests): resident
memory, open file descriptors, its own tasks, and the errors raised inside aiortc's tasks."""
from __future__ import annotations

import asyncio
import os
from collections import Counter

from stream.core.notes import note


def media_tasks() -> list[asyncio.Task]:
    """The running tasks but aiohttp's own (one per open HTTP connection, which browsers keep alive)."""
    return [t for t in asyncio.all_tasks() if not t.get_coro().__qualname__.startswith("RequestHandler.")]


def resident_mb(pid: int | str = "self") -> float | None:
    """A process's resident memory in MiB (this one by default), where the system says (Linux)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        return round(kb / 1024, 1)
    except (OSError, StopIteration, ValueError):
        return None


def open_fds() -> int | None:
    """Open file descriptors of this process (sockets included), where the system says (Linux)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


class TaskErrors:
    """An event loop's exception handler for errors inside aiortc's tasks (a malformed offer can cause
    thousands): one note per kind, then only counted, so a hostile client cannot flood the log."""

    def __init__(self):
        self.kinds: Counter = Counter()

    def __call__(self, loop, context: dict) -> None:
        exc = context.get("exception")
        kind = f"{type(exc).__name__}: {exc}"[:160] if exc else str(context.get("message"))[:160]
        self.kinds[kind] += 1
        if self.kinds[kind] == 1:
            note(f"a connection task failed ({kind}); more are counted in /api/stats")

    def total(self) -> int:
        return sum(self.kinds.values())
