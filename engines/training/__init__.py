"""Networks trained by stylecast itself: a painted shot's generator, trained on patches of the
(source, painting) pairs and cached by their hashes (``keyframe_training.py``).

May import: ``engines.runtimes``, ``engines.networks`` and the top of ``engines``.
"""
from __future__ import annotations

from dataclasses import dataclass

STEPS = 2700  # a painted shot's training steps at most: 250-275 s on 2 cores with AMX (92-101 ms a step, at any frame size)
SECONDS_FAST = 150  # its time budget where bf16 runs (AMX, AVX-512 BF16) or on a GPU
SECONDS_SLOW = 540  # and where the CPU trains in fp32 (1.2-3 s a step on 2 cores: 200-450 steps)


def training_seconds(fast: bool) -> int:
    """The default time budget of a painted shot's training: the steps stop at STEPS or when it is
    spent, whichever comes first (``fast``: bf16 or a GPU trains)."""
    return SECONDS_FAST if fast else SECONDS_SLOW


@dataclass(frozen=True)
class Budget:
    """How long a painted shot trains. ``steps`` alone: exactly that many steps, on the whole
    painting (reproducible: the tests, the benches). Otherwise up to ``steps`` (default STEPS)
    within ``seconds`` (default ``training_seconds``), a strip of the painting held back to judge
    it, stopping sooner once that stops improving."""

    steps: int | None = None
    seconds: float | None = None

    def __post_init__(self):
        from engines.errors import OptionError

        if self.steps is not None and not 1 <= self.steps <= 100_000:
            raise OptionError(f"--keyframe-steps must be between 1 and 100000, got {self.steps}")
        if self.seconds is not None and not 1 <= self.seconds <= 86_400:
            raise OptionError(f"--keyframe-seconds must be between 1 and 86400, got {self.seconds:g}")

    @property
    def timed(self) -> bool:
        return self.steps is None or self.seconds is not None

    def limits(self, fast: bool) -> tuple[int, float | None]:
        """(the most steps, the seconds or None), ``fast`` where bf16 or a GPU trains."""
        if not self.timed:
            return self.steps, None
        return self.steps or STEPS, self.seconds if self.seconds is not None else training_seconds(fast)

    def key(self) -> str:
        """What the cache keys a network by: a timed training is named by its budget, not its pace."""
        return f"steps {self.steps}" if not self.timed else f"steps {self.steps or STEPS} seconds {self.seconds}"
