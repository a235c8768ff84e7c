"""Notes for the user: one line on stderr each, for what they should know but need not act on."""
from __future__ import annotations

import sys


def note(line: str) -> None:
    print(f"stylecast: note: {line}", file=sys.stderr, flush=True)
