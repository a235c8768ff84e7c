"""Frames leave a parallel stage in the order they entered it, or not at all.

Two frames in the network at once (one per core) can finish out of order. A frame that finishes
first waits for the older one still inside (up to ``wait_s``, one frame interval in live work); a
frame that finishes after a newer one was passed on is stale: it is dropped and counted, so the
stages after it (the stabilizer, the sink) always see time moving forward.
"""
from __future__ import annotations

import threading
import time
from typing import Callable


class InOrder:
    """Frames are known by a key that grows with their age (their capture time)."""

    def __init__(self, pass_on: Callable[[object], None], wait_s: float, stop: threading.Event):
        self._pass_on, self.wait_s, self.stop = pass_on, wait_s, stop
        self._inside: set[float] = set()
        self._changed = threading.Condition()
        self.newest = float("-inf")  # the key of the newest frame passed on
        self.stale = 0               # frames dropped because a newer one was passed on first

    def entered(self, key: float) -> None:
        with self._changed:
            self._inside.add(key)

    def left(self, key: float, frame) -> None:
        """The frame of ``key`` is done: pass it on after any older one still inside, or drop it as stale."""
        with self._changed:
            give_up = time.monotonic() + self.wait_s
            while min(self._inside) < key and not self.stop.is_set():
                if (left := give_up - time.monotonic()) <= 0 or not self._changed.wait(left):
                    break
            self._inside.discard(key)
            self._changed.notify_all()
            if key <= self.newest:
                self.stale += 1
                return
            self.newest = key
            self._pass_on(frame)
