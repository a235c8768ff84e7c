"""Holding the frame rate (issue #18): the network's size follows what the machine keeps up with."""
from __future__ import annotations

import json
import subprocess
import sys

from stream.look.adapt import ADAPT_EVERY_S, RUNGS, ScaleGovernor


def _window(governor: ScaleGovernor, now: float, counts: list[int], came: int, left: int, ms: float):
    """One window of frames: ``came`` in, ``left`` out, each network run taking ``ms``."""
    for _ in range(left):
        governor.network_ms(ms, governor.scale)
    counts[0] += came
    counts[1] += left
    return governor.update(counts[0], counts[1], now)


def test_the_size_steps_down_while_frames_are_lost_and_back_up_with_room():
    governor, counts = ScaleGovernor(1.0, parallel=2), [0, 0]
    assert governor.update(0, 0, now=0.0) is None  # the first call starts the first window
    # 25 frames/s in, 2 frames at once: each may take 80 ms; the network takes 120 ms at full size and
    # a third of the frames are lost: down to the rung that rate points to (1.0 * sqrt(2/3): 0.7)
    cost = lambda: 120 * governor.scale ** 2  # noqa: E731
    steps = [_window(governor, 3.0 * k, counts, 75, 50, cost()) for k in range(1, 4)]
    assert steps == [0.7, 0.5, 0.35]  # never more than two rungs at once
    assert _window(governor, 10.0, counts, 75, 75, cost()) is None  # sooner than ADAPT_EVERY_S: no change
    # keeping up with room: one rung up each window while the next rung's network time fits in 75% of
    # the 80 ms (0.7: 59 ms), not to 0.85 (87 ms)
    ups = [_window(governor, 13.0 + 3 * k, counts, 75, 75, cost()) for k in range(5)]
    assert ups == [0.42, 0.5, 0.6, 0.7, None]
    # the machine got quieter (a third of the cost): up again, never above the size asked for
    for k in range(5):
        _window(governor, 28.0 + 3 * k, counts, 75, 75, cost() / 3)
    assert governor.scale == 1.0 and governor.changes == 9


def test_a_fixed_size_never_changes_and_the_floor_holds():
    fixed, counts = ScaleGovernor(1.0, parallel=1, enabled=False), [0, 0]
    fixed.update(0, 0, now=0.0)
    assert all(_window(fixed, 3.0 * k, counts, 75, 10, 500.0) is None for k in range(1, 6)) and fixed.scale == 1.0
    low, counts = ScaleGovernor(0.3, parallel=1), [0, 0]
    low.update(0, 0, now=0.0)
    for k in range(1, 6):
        _window(low, ADAPT_EVERY_S * k, counts, 75, 10, 500.0)
    assert low.scale == RUNGS[0] == 0.25


def _live(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "stream.cli", "live", "--json", *args], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_live_source_faster_than_the_engine_makes_the_network_smaller():
    # 640x360 at 120 frames/s: more than any two cores stylize at full size (bf16 on AMX: 29 ms a frame)
    adapting = _live("--fps", "120", "--duration", "11", "--max-side", "640")
    assert adapting["style_scale"] <= 0.7, adapting  # at least two rungs down in 11 s (one per 3 s)
    fixed = _live("--fps", "120", "--duration", "3", "--max-side", "640", "--adapt", "off")
    assert fixed["style_scale"] == 1.0


def test_serve_says_what_a_viewer_gets_on_a_machine_that_holds_less_than_one():
    from stream.serve.capacity import Capacity

    slow = Capacity(640, 360, cores=2, frame_ms=166.7, viewers=0.8, admitted=1)
    assert "network runs at about 0.89 of the size to keep 15 frames/s" in slow.line(adapt=True)
    assert "network runs" not in slow.line(adapt=False)
    roomy = Capacity(320, 180, cores=2, frame_ms=20.0, viewers=6.7, admitted=5)
    assert "network runs" not in roomy.line(adapt=True)
