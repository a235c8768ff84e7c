"""At most so many offers per client address in a sliding window (HTTP 429 beyond)."""
from __future__ import annotations

import time
from collections import defaultdict, deque

from stream.web.errors import Refusal

WINDOW_S = 10.0  # offers are counted per client address over this window


class OfferLimiter:
    def __init__(self, per_window: int, window_s: float = WINDOW_S):
        self.per_window, self.window_s = per_window, window_s
        self._recent: dict[str, deque] = defaultdict(deque)

    def limited(self, address: str) -> bool:
        """Count an offer from ``address``; True when it is over the limit for the last window."""
        now, recent = time.monotonic(), self._recent[address]
        while recent and now - recent[0] > self.window_s:
            recent.popleft()
        recent.append(now)
        return len(recent) > self.per_window

    def refusal(self) -> str:
        return f"too many offers; at most {self.per_window} per {self.window_s:g} s"

    def admit(self, address: str) -> None:
        """Count an offer (the demo's, a WHIP publish, a WHEP play) from ``address``; 429 over the limit."""
        if self.limited(address):
            raise Refusal(self.refusal(), 429)
